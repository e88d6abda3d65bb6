// The hot path: one pass over a broker message that validates it and records where the
// displayed fields are. Nothing is copied; strings are decoded only when asked for.

/// The fields Earshot extracts. Top-level fields of the flat Rasa shape and of a Mantle
/// payload share names; nested ones are prefixed by their parent.
public enum Field: Int, CaseIterable, Sendable {
    case event, senderID, timestamp, text, name, policy, confidence, value
    case inputChannel, messageID, intent, entities, flowID, stepID, update, dateTime
    case isInterrupted, metadata, useText
    case parseData, intentName, intentConfidence, parseEntities
    case data, buttons, quickReplies, attachment, image, elements, custom
    case utterAction, endReason
    // Mantle envelope
    case conversationID, sequence, eventID, sessionID, userID, payloadKey, payload
}

/// Where each displayed field of one message is, and its few eagerly parsed scalars.
public struct DecodedEvent: Sendable {
    public var kind: EventKind = .unknown
    /// The shape: flat Rasa event or the nested Mantle envelope.
    public var isMantle = false
    var refs = InlineArray<39, JSONRef>(repeating: .absent)

    public init() {}

    
    public subscript(_ f: Field) -> JSONRef {
        get { refs[f.rawValue] }
        set { refs[f.rawValue] = newValue }
    }
}

/// Why a message could not be decoded at all (it is still kept, with its raw bytes).
public struct Undecodable: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public var offset: Int?
    public var description: String { offset.map { "\(reason) (at byte \($0))" } ?? reason }
}

public enum EventDecoder {
    /// Decodes one message. Never traps, whatever the bytes.
    public static func decode(_ buf: UnsafeRawBufferPointer) -> Result<DecodedEvent, Undecodable> {
        guard let base = buf.baseAddress?.assumingMemoryBound(to: UInt8.self), buf.count > 0 else {
            return .failure(Undecodable(reason: "empty message", offset: nil))
        }
        var s = JSONScanner(base, count: buf.count)
        s.skipWhitespace()
        guard s.peek == 0x7B else {
            if s.atEnd { return .failure(Undecodable(reason: "empty message", offset: nil)) }
            // Tell "valid JSON but not an object" from "not JSON".
            var probe = s
            if (try? probe.scanValue(depth: 0)) != nil {
                probe.skipWhitespace()
                if probe.atEnd { return .failure(Undecodable(reason: "JSON value is not an object", offset: nil)) }
            }
            return .failure(syntax(s.fail("'{' expected")))
        }
        var ev = DecodedEvent()
        do throws(JSONSyntaxError) {
            try scanObject(&s, level: .top, into: &ev, depth: 1)
            s.skipWhitespace()
            if !s.atEnd { throw s.fail("end of message expected") }
        } catch {
            return .failure(syntax(error))
        }
        // Mantle: an envelope with conversation_id and one payload object, no `event` key.
        if !ev[.event].isPresent, ev[.conversationID].isPresent, ev[.payloadKey].isPresent {
            ev.isMantle = true
            var p = JSONScanner(base, count: buf.count)
            p.i = Int(ev[.payload].start)
            do throws(JSONSyntaxError) {
                try scanObject(&p, level: .payload, into: &ev, depth: 2)
            } catch {
                return .failure(syntax(error))
            }
            ev[.event] = ev[.payloadKey]
            if !ev[.senderID].isPresent { ev[.senderID] = ev[.conversationID] }
        }
        let type = ev[.event]
        guard type.kind == .string else {
            if type.isPresent { return .failure(Undecodable(reason: "\"event\" is not a string", offset: Int(type.start))) }
            return .failure(Undecodable(reason: "no \"event\" key", offset: nil))
        }
        if type.escaped {
            // An escaped type name is legal JSON; decode it to recognise it.
            if case let .success(name) = JSONString.decode(base, Int(type.start), Int(type.end), escaped: true) {
                ev.kind = EventKind.from(name: name)
            }
        } else {
            ev.kind = EventKind.from(base + Int(type.start), Int(type.end - type.start))
        }
        return .success(ev)
    }

    /// For filtering by type alone: the kind of a sound flat event and where its type name
    /// is, found by the quick validator without decoding; nil means "decode it" (anything
    /// unusual, or a type name with escapes).
    public static func quickType(_ buf: UnsafeRawBufferPointer) -> (kind: EventKind, name: Range<Int>)? {
        guard let base = buf.baseAddress?.assumingMemoryBound(to: UInt8.self), buf.count > 0 else { return nil }
        var type = 0 ..< 0
        guard QuickValidator.isSoundFlatEvent(base, count: buf.count, type: &type),
              !UnsafeBufferPointer(start: base + type.lowerBound, count: type.count).contains(0x5C) else { return nil }
        return (EventKind.from(base + type.lowerBound, type.count), type)
    }

    /// What `decode` would say, without recording any field: nil when the message decodes,
    /// else the same reason. For consumers that only pass messages on (raw output, no filter).
    public static func validate(_ buf: UnsafeRawBufferPointer) -> Undecodable? {
        guard let base = buf.baseAddress?.assumingMemoryBound(to: UInt8.self), buf.count > 0 else {
            return Undecodable(reason: "empty message", offset: nil)
        }
        if QuickValidator.isSoundFlatEvent(base, count: buf.count) { return nil }
        var s = JSONScanner(base, count: buf.count)
        s.skipWhitespace()
        guard s.peek == 0x7B else {
            // Rare: let decode word it.
            if case let .failure(u) = decode(buf) { return u }
            return nil
        }
        var type = JSONRef.absent
        var conversation = false
        var payload = false
        do throws(JSONSyntaxError) {
            try s.members(depth: 1) { (s, key) throws(JSONSyntaxError) in
                let v = try s.scanValue(depth: 1)
                if s.keyIs(key, "event") {
                    type = v
                } else if s.keyIs(key, "conversation_id") {
                    conversation = true
                } else if v.kind == .object && fieldFor(s, key, .top) == nil {
                    payload = true
                }
            }
            s.skipWhitespace()
            if !s.atEnd { throw s.fail("end of message expected") }
        } catch {
            return syntax(error)
        }
        if !type.isPresent && conversation && payload { return nil }  // Mantle
        guard type.kind == .string else {
            if type.isPresent { return Undecodable(reason: "\"event\" is not a string", offset: Int(type.start)) }
            return Undecodable(reason: "no \"event\" key", offset: nil)
        }
        return nil
    }

    public static func decode(_ bytes: [UInt8]) -> Result<DecodedEvent, Undecodable> {
        bytes.withUnsafeBytes { decode($0) }
    }

    static func syntax(_ e: JSONSyntaxError) -> Undecodable {
        Undecodable(reason: "not valid JSON: \(e.message)", offset: e.offset)
    }


    enum Level { case top, payload, parseData, intent, data, metadata }

    @inline(__always)
    static func scanObject(_ s: inout JSONScanner, level: Level, into ev: inout DecodedEvent, depth: Int) throws(JSONSyntaxError) {
        try s.members(depth: depth) { (s, key) throws(JSONSyntaxError) in
            let field = fieldFor(s, key, level)
            guard let field else {
                let v = try s.scanValue(depth: depth)
                // Remember the first unknown object-valued top-level key: the Mantle payload.
                if level == .top && v.kind == .object && !ev[.payloadKey].isPresent {
                    ev[.payloadKey] = key
                    ev[.payload] = v
                }
                return
            }
            let c = s.peek
            if c == 0x7B {
                switch field {
                case .parseData:
                    ev[.parseData] = JSONRef(start: Int32(s.i), end: 0, kind: .object, escaped: false)
                    try scanObject(&s, level: .parseData, into: &ev, depth: depth + 1)
                    ev[.parseData].end = Int32(s.i)
                    return
                case .data where level != .parseData:
                    ev[.data] = JSONRef(start: Int32(s.i), end: 0, kind: .object, escaped: false)
                    try scanObject(&s, level: .data, into: &ev, depth: depth + 1)
                    ev[.data].end = Int32(s.i)
                    return
                case .metadata where level == .top || level == .payload:
                    ev[.metadata] = JSONRef(start: Int32(s.i), end: 0, kind: .object, escaped: false)
                    try scanObject(&s, level: .metadata, into: &ev, depth: depth + 1)
                    ev[.metadata].end = Int32(s.i)
                    return
                case .intent, .intentName:
                    // parse_data.intent {name, confidence}; a Mantle payload may carry it directly.
                    try scanObject(&s, level: .intent, into: &ev, depth: depth + 1)
                    return
                default:
                    break
                }
            }
            ev[field] = try s.scanValue(depth: depth)
        }
    }

    /// Maps a key at a level to the field it fills, or nil to skip its value.
    @inline(__always)
    static func fieldFor(_ s: JSONScanner, _ key: JSONRef, _ level: Level) -> Field? {
        let n = Int(key.end - key.start)
        switch level {
        case .top, .payload:
            switch n {
            case 4:
                if s.keyIs(key, "text") { return .text }
                if s.keyIs(key, "name") { return .name }
                if s.keyIs(key, "data") { return .data }
            case 5:
                if s.keyIs(key, "event") { return .event }
                if s.keyIs(key, "value") { return .value }
            case 6:
                if s.keyIs(key, "policy") { return .policy }
                if s.keyIs(key, "intent") { return .intent }
                if s.keyIs(key, "update") { return .update }
            case 7:
                if s.keyIs(key, "flow_id") { return .flowID }
                if s.keyIs(key, "step_id") { return .stepID }
                if s.keyIs(key, "user_id") { return .userID }
            case 8:
                if s.keyIs(key, "metadata") { return .metadata }
                if s.keyIs(key, "entities") { return .entities }
                if s.keyIs(key, "event_id") { return .eventID }
                if s.keyIs(key, "sequence") { return .sequence }
            case 9:
                if s.keyIs(key, "sender_id") { return .senderID }
                if s.keyIs(key, "timestamp") { return .timestamp }
                if s.keyIs(key, "date_time") { return .dateTime }
            case 10:
                if s.keyIs(key, "parse_data") { return .parseData }
                if s.keyIs(key, "confidence") { return .confidence }
                if s.keyIs(key, "message_id") { return .messageID }
                if s.keyIs(key, "session_id") { return .sessionID }
            case 13:
                if s.keyIs(key, "input_channel") { return .inputChannel }
            case 14:
                if s.keyIs(key, "is_interrupted") { return .isInterrupted }
            case 15:
                if s.keyIs(key, "conversation_id") { return .conversationID }
            case 26:
                if s.keyIs(key, "use_text_for_featurization") { return .useText }
            default: break
            }
            return nil
        case .parseData:
            switch n {
            case 6: return s.keyIs(key, "intent") ? .intent : nil
            case 8: return s.keyIs(key, "entities") ? .parseEntities : nil
            default: return nil
            }
        case .intent:
            switch n {
            case 4: return s.keyIs(key, "name") ? .intentName : nil
            case 10: return s.keyIs(key, "confidence") ? .intentConfidence : nil
            default: return nil
            }
        case .data:
            switch n {
            case 5: return s.keyIs(key, "image") ? .image : nil
            case 6: return s.keyIs(key, "custom") ? .custom : nil
            case 7: return s.keyIs(key, "buttons") ? .buttons : nil
            case 8: return s.keyIs(key, "elements") ? .elements : nil
            case 10: return s.keyIs(key, "attachment") ? .attachment : nil
            case 13: return s.keyIs(key, "quick_replies") ? .quickReplies : nil
            default: return nil
            }
        case .metadata:
            switch n {
            case 7: return s.keyIs(key, "_reason") ? .endReason : nil
            case 12: return s.keyIs(key, "utter_action") ? .utterAction : nil
            default: return nil
            }
        }
    }
}

