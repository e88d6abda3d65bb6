// Typed, lazy access to a decoded message: each accessor decodes only its own field.

public struct Entity: Sendable, Equatable {
    public var entity: String
    public var value: String
    public var role: String?
    public var group: String?
}

/// A borrowed view of one message's bytes and its decoded field positions. Valid only while
/// the bytes are (inside a `withView`/`forEach` call).
public struct EventView {
    public let bytes: UnsafeRawBufferPointer
    public let decoded: DecodedEvent

    public init(bytes: UnsafeRawBufferPointer, decoded: DecodedEvent) {
        self.bytes = bytes
        self.decoded = decoded
    }

    @inline(__always)
    var base: UnsafePointer<UInt8> { bytes.baseAddress!.assumingMemoryBound(to: UInt8.self) }

    public var kind: EventKind { decoded.kind }
    /// Unix seconds: Rasa's float, or an ISO 8601 string (Mantle). Parsed on demand, since
    /// a correctly rounded 17-digit float is the most expensive thing in a message.
    public var timestamp: Double? {
        let r = decoded[.timestamp]
        switch r.kind {
        case .number: return parseJSONNumber(base, Int(r.start), Int(r.end))
        case .string: return string(r).flatMap(TimeParsing.parseISO8601)
        default: return nil
        }
    }

    // MARK: generic field access

    public func ref(_ f: Field) -> JSONRef { decoded[f] }

    /// The decoded string value of a field; nil when absent, null or not a string.
    public func stringResult(_ ref: JSONRef) -> Result<String, FieldError>? {
        guard ref.kind == .string else { return nil }
        return JSONString.decode(base, Int(ref.start), Int(ref.end), escaped: ref.escaped)
    }

    /// The string value of a field. A field whose escapes are broken (a lone surrogate, a bad
    /// escape) comes back as its raw JSON content so that it is still shown; see `fieldErrors`.
    public func string(_ ref: JSONRef) -> String? {
        switch stringResult(ref) {
        case nil: return nil
        case let .success(s)?: return s
        case .failure?: return raw(ref)
        }
    }

    public func string(_ f: Field) -> String? { string(decoded[f]) }

    /// The raw JSON text of a value (strings without their quotes).
    public func raw(_ ref: JSONRef) -> String {
        guard ref.isPresent else { return "" }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[ref.range]), as: UTF8.self)
    }

    public func double(_ ref: JSONRef) -> Double? {
        guard ref.kind == .number else { return nil }
        return parseJSONNumber(base, Int(ref.start), Int(ref.end))
    }

    public func double(_ f: Field) -> Double? { double(decoded[f]) }

    public func bool(_ f: Field) -> Bool? {
        switch decoded[f].kind {
        case .true: return true
        case .false: return false
        default: return nil
        }
    }

    /// Errors in the string fields Earshot shows (lone surrogates, bad escapes).
    public var fieldErrors: [(Field, FieldError)] {
        var out: [(Field, FieldError)] = []
        for f in Field.allCases {
            if case let .failure(e)? = stringResult(decoded[f]) { out.append((f, e)) }
        }
        return out
    }

    /// Calls `body` for each member of the object at `ref` with its key (decoded) and value.
    public func members(_ ref: JSONRef, _ body: (String, JSONRef) -> Void) {
        guard ref.kind == .object else { return }
        var s = JSONScanner(base, count: Int(ref.end))
        s.i = Int(ref.start)
        try? s.members(depth: 1) { (s, key) throws(JSONSyntaxError) in
            let name = string(key) ?? ""
            let v = try s.scanValue(depth: 1)
            body(name, v)
        }
    }

    /// Calls `body` for each element of the array at `ref`.
    public func elements(_ ref: JSONRef, _ body: (JSONRef) -> Void) {
        guard ref.kind == .array else { return }
        var s = JSONScanner(base, count: Int(ref.end))
        s.i = Int(ref.start)
        try? s.elements(depth: 1) { (s) throws(JSONSyntaxError) in
            body(try s.scanValue(depth: 1))
        }
    }

    /// The value of `key` in the object at `ref`.
    public func member(_ ref: JSONRef, _ key: String) -> JSONRef {
        var found = JSONRef.absent
        members(ref) { k, v in if k == key && !found.isPresent { found = v } }
        return found
    }

    /// A short one-line rendering of any value: strings as text, everything else as compact JSON.
    public func summary(_ ref: JSONRef, limit: Int = 60) -> String {
        switch ref.kind {
        case .absent: return ""
        case .string: return clipped(string(ref) ?? "", limit)
        case .object, .array:
            // Strings decoded (no \u escapes), as user and bot text are.
            let value = UnsafeRawBufferPointer(rebasing: bytes[ref.range])
            let text = PrettyJSON.compact(value, knownValid: true) ?? compactJSON(value)
            return clipped(text, limit)
        default: return raw(ref)
        }
    }

    // MARK: Rasa fields

    /// The `event` name as written (for unknown types, their own name).
    public var typeName: String { string(.event) ?? "?" }
    public var senderID: String? { string(.senderID) }
    public var text: String? { string(.text) }
    public var inputChannel: String? { string(.inputChannel) }
    public var messageID: String? { string(.messageID) }

    /// The intent of a user message (or of a reminder, which names one as a string).
    public var intentName: String? { string(.intentName) ?? string(.intent) }
    public var intentConfidence: Double? { double(.intentConfidence) }

    /// Entities of a user message (parse_data.entities), or of an `entities` / `reminder` event.
    public var entities: [Entity] {
        var out: [Entity] = []
        let ref = decoded[.parseEntities].isPresent ? decoded[.parseEntities] : decoded[.entities]
        elements(ref) { e in
            var ent = Entity(entity: "", value: "")
            members(e) { k, v in
                switch k {
                case "entity": ent.entity = string(v) ?? raw(v)
                case "value": ent.value = summary(v, limit: 40)
                case "role": ent.role = string(v)
                case "group": ent.group = string(v)
                default: break
                }
            }
            out.append(ent)
        }
        return out
    }

    /// The action name (`action`, `action_execution_rejected`, `followup`, reminders, loops).
    public var name: String? { string(.name) }
    public var policy: String? { string(.policy) }
    public var confidence: Double? { double(.confidence) }

    /// Titles of a bot message's buttons (`data.buttons`), falling back to their payloads.
    public var buttons: [String] { choiceTitles(decoded[.buttons]) }
    public var quickReplies: [String] { choiceTitles(decoded[.quickReplies]) }

    func choiceTitles(_ ref: JSONRef) -> [String] {
        var out: [String] = []
        elements(ref) { b in
            if b.kind == .object {
                let title = member(b, "title")
                let payload = member(b, "payload")
                out.append(string(title) ?? string(payload) ?? summary(b, limit: 30))
            } else {
                out.append(summary(b, limit: 30))
            }
        }
        return out
    }

    /// Attachments, images, elements and custom payloads of a bot message, as short text.
    public var attachments: [String] {
        var out: [String] = []
        for (f, label) in [(Field.image, "image"), (.attachment, "attachment"), (.elements, "elements"), (.custom, "custom")] {
            let r = decoded[f]
            if r.isPresent && !r.isNull { out.append("\(label): \(summary(r, limit: 50))") }
        }
        return out
    }

    public var utterAction: String? { string(.utterAction) }

    /// Whether the intent confidence is below `threshold`, or the intent is a fallback.
    public func isLowConfidence(threshold: Double) -> Bool {
        guard kind == .user else { return false }
        if let n = intentName, n == "nlu_fallback" || n.hasSuffix("_fallback") { return true }
        if let c = intentConfidence { return c < threshold }
        return false
    }
}

/// A message that owns its bytes, with where it came from.
public struct Event: Sendable {
    public let raw: [UInt8]
    public let position: SourcePosition
    public let decoded: Result<DecodedEvent, Undecodable>

    public init(raw: [UInt8], position: SourcePosition = .none) {
        self.raw = raw
        self.position = position
        self.decoded = EventDecoder.decode(raw)
    }

    /// Calls `body` with a view of the event, or nil when it is undecodable.
    public func withView<R>(_ body: (EventView) -> R) -> R? {
        guard case let .success(d) = decoded else { return nil }
        return raw.withUnsafeBytes { body(EventView(bytes: $0, decoded: d)) }
    }
}

/// Cuts `s` to at most `limit` display columns, ending in "…" when something was cut.
public func clipped(_ s: String, _ limit: Int) -> String {
    guard limit > 0 else { return "" }
    // No character is wider than its UTF-8 bytes (wide ones take three or four).
    guard s.utf8.count > limit, displayWidth(s) > limit else { return s }
    var width = 0
    var out = ""
    for ch in s {
        let w = displayWidth(ch)
        if width + w > limit - 1 { break }
        width += w
        out.append(ch)
    }
    return out + "…"
}

/// JSON text with insignificant whitespace removed (string contents untouched).
func compactJSON(_ bytes: UnsafeRawBufferPointer) -> String {
    // Only ASCII whitespace outside strings is dropped, so valid UTF-8 stays valid.
    String(unsafeUninitializedCapacity: bytes.count) { out in
        var n = 0
        var inString = false
        var escape = false
        for b in bytes {
            if inString {
                if escape { escape = false } else if b == 0x5C { escape = true } else if b == 0x22 { inString = false }
            } else if b == 0x22 {
                inString = true
            } else if b == 0x20 || b == 0x0A || b == 0x09 || b == 0x0D {
                continue
            }
            out[n] = b
            n += 1
        }
        return n
    }
}
