// One-line renderings of events, shared by `tail --format line` and the TUI's lists.
// All output is sanitised: nothing from an event can reach a terminal as a control sequence.

public enum Summary {
    /// What the event says, in one line: user text + intent(confidence) + entities, bot text +
    /// buttons, action name + policy, slot name = value, and so on.
    public static func of(_ v: EventView) -> String {
        sanitize(raw(v))
    }

    static func quoted(_ s: String?) -> String {
        guard let s else { return "" }
        return "\"\(clipped(s, 120))\""
    }

    /// A confidence with two decimals, rounded down: 0.996 is not shown as a certain 1.00.
    public static func confidence(_ d: Double) -> String {
        guard d.isFinite, d >= 0 else { return "\(d)" }
        return fixed((d * 100 + 1e-7).rounded(.down) / 100, 2)
    }

    static func conf(_ d: Double?) -> String {
        guard let d else { return "" }
        return "(" + confidence(d) + ")"
    }

    /// The parts of a summary, joined by two spaces as they come (empty ones left out).
    struct Parts {
        var text = ""
        var isEmpty = true

        @inline(__always)
        mutating func append(_ part: String) {
            isEmpty = false
            guard !part.isEmpty else { return }
            if !text.isEmpty { text += "  " }
            text += part
        }
    }

    static func raw(_ v: EventView) -> String {
        var parts = Parts()
        switch v.kind {
        case .user:
            if let t = v.text { parts.append(quoted(t)) }
            if let i = v.intentName { parts.append("intent=\(i)\(conf(v.intentConfidence))") }
            let ents = v.entities
            if !ents.isEmpty {
                parts.append("entities: " + ents.map { "\($0.entity)=\($0.value)" }.joined(separator: ", "))
            }
        case .bot, .agent:
            if let t = v.text { parts.append(quoted(t)) }
            let b = v.buttons
            if !b.isEmpty { parts.append("[" + b.joined(separator: " | ") + "]") }
            let q = v.quickReplies
            if !q.isEmpty { parts.append("quick replies: [" + q.joined(separator: " | ") + "]") }
            for a in v.attachments { parts.append("[\(a)]") }
            if parts.isEmpty, let u = v.utterAction { parts.append(u) }
        case .action, .actionExecutionRejected:
            parts.append(v.name ?? "?")
            if let p = v.policy {
                parts.append("policy=\(p)\(conf(v.confidence))")
            } else if let c = v.confidence {
                parts.append("confidence=" + confidence(c))
            }
        case .slot:
            parts.append("\(v.name ?? "?") = \(v.summary(v.ref(.value)))")
        case .activeLoop:
            parts.append(v.name.map { "\($0) started" } ?? "loop ended")
        case .loopInterrupted:
            parts.append(v.bool(.isInterrupted) == true ? "interrupted" : "resumed")
        case .followup:
            parts.append(v.name ?? "?")
        case .reminder:
            parts.append(v.name ?? "reminder")
            if let i = v.string(.intent) { parts.append("intent=\(i)") }
            if let d = v.string(.dateTime) { parts.append("at \(d)") }
        case .cancelReminder:
            parts.append(v.name ?? v.string(.intent) ?? "")
        case .entities:
            parts.append(v.entities.map { "\($0.entity)=\($0.value)" }.joined(separator: ", "))
        case .userFeaturization:
            if let b = v.bool(.useText) { parts.append(b ? "text" : "intent") }
        case .stack:
            parts.append(v.summary(v.ref(.update), limit: 80))
        case .flowStarted, .flowInterrupted, .flowResumed, .flowCompleted, .flowCancelled:
            parts.append(v.string(.flowID) ?? "?")
            if let s = v.string(.stepID) { parts.append("step=\(s)") }
        case .sessionEnded:
            if let r = v.string(.endReason) { parts.append("reason=\(r)") }
        case .restart, .rewind, .undo, .resetSlots, .pause, .resume, .sessionStarted, .export:
            break
        case .unknown:
            parts.append(clipped(compactJSON(v.bytes), 100))
        }
        return parts.text
    }

    /// The `--format line` row: time, sender, type, summary.
    public static func line(_ v: EventView, source: String? = nil) -> String {
        let sender = sanitize(v.senderID ?? "-")
        let type = sanitize(v.kind == .unknown ? v.typeName : v.kind.typeName)
        let summary = of(v)
        var s = ""
        s.reserveCapacity(60 + sender.utf8.count + summary.utf8.count)
        if let source { s += "[\(sanitize(source))] " }
        s += v.timestamp.map(TimeParsing.format) ?? "-                      "
        s += "  "
        appendPadded(&s, sender, 12)
        s += "  "
        appendPadded(&s, type, 15)
        if !summary.isEmpty {
            s += "  "
            s += summary
        }
        while s.last == " " { s.removeLast() }
        return s
    }
}

@inline(__always)
func appendPadded(_ s: inout String, _ text: String, _ width: Int) {
    s += text
    let w = displayWidth(text)
    if w < width { s += String(repeating: " ", count: width - w) }
}

/// Formats a number with `digits` decimals (no Foundation).
public func fixed(_ d: Double, _ digits: Int) -> String {
    guard d.isFinite else { return "\(d)" }
    var scale = 1.0
    for _ in 0 ..< digits { scale *= 10 }
    let r = (abs(d) * scale).rounded()
    let whole = Int(r / scale)
    var frac = String(Int(r) - whole * Int(scale))
    while frac.count < digits { frac = "0" + frac }
    return (d < 0 && r != 0 ? "-" : "") + "\(whole)" + (digits > 0 ? "." + frac : "")
}
