import Testing
@testable import EarshotCore

/// Decodes `json` and runs `body` on its view; fails the test when it does not decode.
func view<R>(_ json: String, _ body: (EventView) -> R) -> R? {
    let ev = Event(raw: Array(json.utf8))
    if case let .failure(u) = ev.decoded { Issue.record("undecodable: \(u)"); return nil }
    return ev.withView(body)
}

func failure(_ bytes: [UInt8]) -> Undecodable? {
    if case let .failure(u) = EventDecoder.decode(bytes) { return u }
    return nil
}

// The real 3.x samples from the reference.
let realUser = #"{"sender_id": "5f1c", "event": "user", "timestamp": 1745044394.1430557, "metadata": {"model_id": "b0a564ff3f0d4c509a716399d8a608fe"}, "text": "hi", "parse_data": {"intent": {"name": "greet", "confidence": 0.9954788088798523}, "entities": [], "text": "hi", "message_id": "b2aa1fadf4f84f9fa9f39a8fd405ee49", "metadata": {}, "intent_ranking": [{"name": "greet", "confidence": 0.9954788088798523}]}, "input_channel": "rest", "message_id": "b2aa1fadf4f84f9fa9f39a8fd405ee49"}"#
let realBot = #"{"sender_id": "5f1c", "event": "bot", "timestamp": 1745044395.3766496, "metadata": {"utter_action": "utter_greet"}, "text": "Hi there! What can I assist you with?", "data": {"elements": null, "quick_replies": null, "buttons": null, "attachment": null, "image": null, "custom": null}}"#

@Suite struct RealSamples {
    @Test func user() {
        view(realUser) { v in
            #expect(v.kind == .user)
            #expect(v.senderID == "5f1c")
            #expect(v.timestamp == 1745044394.1430557)
            #expect(v.text == "hi")
            #expect(v.intentName == "greet")
            #expect(v.intentConfidence == 0.9954788088798523)
            #expect(v.entities.isEmpty)
            #expect(v.inputChannel == "rest")
            #expect(v.messageID == "b2aa1fadf4f84f9fa9f39a8fd405ee49")
            #expect(!v.isLowConfidence(threshold: 0.5))
        }
    }

    @Test func bot() {
        view(realBot) { v in
            #expect(v.kind == .bot)
            #expect(v.text == "Hi there! What can I assist you with?")
            #expect(v.buttons.isEmpty)
            #expect(v.attachments.isEmpty)
            #expect(v.utterAction == "utter_greet")
            #expect(v.timestamp == 1745044395.3766496)
        }
    }

    // Rasa's tracker_moodbot.json: null policy, null confidence, events without sender_id.
    @Test func moodbotShape() {
        view(#"{"event": "action", "timestamp": 1517821726.200036, "name": "action_listen", "policy": null, "confidence": null}"#) { v in
            #expect(v.kind == .action)
            #expect(v.name == "action_listen")
            #expect(v.policy == nil)
            #expect(v.confidence == nil)
            #expect(v.senderID == nil)
            #expect(Summary.of(v) == "action_listen")
        }
        view(#"{"event": "user", "timestamp": 1517821726.211042, "text": "/greet", "parse_data": {"intent": {"confidence": 1.0, "name": "greet"}, "entities": []}, "input_channel": null, "message_id": null}"#) { v in
            #expect(v.intentName == "greet")
            #expect(v.intentConfidence == 1.0)
            #expect(v.inputChannel == nil)
        }
    }
}

@Suite struct EveryType {
    static let cases: [(String, EventKind, String)] = [
        (#"{"event": "user", "text": "book a table for 2 in Berlin", "parse_data": {"intent": {"name": "book", "confidence": 0.87}, "entities": [{"entity": "city", "start": 22, "end": 28, "value": "Berlin", "extractor": "DIETClassifier"}, {"entity": "people", "value": 2}]}}"#,
         .user, #""book a table for 2 in Berlin"  intent=book(0.87)  entities: city=Berlin, people=2"#),
        (#"{"event": "bot", "text": "Pick one", "data": {"elements": null, "quick_replies": [{"title": "Soon", "payload": "/soon"}], "buttons": [{"title": "Yes", "payload": "/affirm"}, {"payload": "/deny"}], "attachment": "http://x/a.pdf", "image": null, "custom": {"k": [1, 2]}}}"#,
         .bot, #""Pick one"  [Yes | /deny]  quick replies: [Soon]  [attachment: http://x/a.pdf]  [custom: {"k":[1,2]}]"#),
        (#"{"event": "action", "name": "utter_greet", "policy": "RulePolicy", "confidence": 1.0, "action_text": null, "hide_rule_turn": false}"#,
         .action, "utter_greet  policy=RulePolicy(1.00)"),
        (#"{"event": "slot", "name": "city", "value": "Berlin"}"#, .slot, "city = Berlin"),
        (#"{"event": "slot", "name": "dates", "value": ["mon", "tue"]}"#, .slot, #"dates = ["mon","tue"]"#),
        (#"{"event": "slot", "name": "n", "value": null}"#, .slot, "n = null"),
        (#"{"event": "action_execution_rejected", "name": "booking_form", "policy": null, "confidence": null}"#, .actionExecutionRejected, "booking_form"),
        (#"{"event": "followup", "name": "action_check"}"#, .followup, "action_check"),
        (#"{"event": "reminder", "intent": "remind", "date_time": "2025-04-19T10:00:00", "entities": null, "name": "r1", "kill_on_user_msg": true}"#, .reminder, "r1  intent=remind  at 2025-04-19T10:00:00"),
        (#"{"event": "cancel_reminder", "name": "r1", "intent": null, "entities": null}"#, .cancelReminder, "r1"),
        (#"{"event": "active_loop", "name": "booking_form"}"#, .activeLoop, "booking_form started"),
        (#"{"event": "active_loop", "name": null}"#, .activeLoop, "loop ended"),
        (#"{"event": "form", "name": "old_form"}"#, .activeLoop, "old_form started"),
        (#"{"event": "loop_interrupted", "is_interrupted": true}"#, .loopInterrupted, "interrupted"),
        (#"{"event": "form_validation", "validate": false}"#, .loopInterrupted, "resumed"),
        (#"{"event": "entities", "entities": [{"entity": "city", "value": "Rome"}]}"#, .entities, "city=Rome"),
        (#"{"event": "user_featurization", "use_text_for_featurization": false}"#, .userFeaturization, "intent"),
        (#"{"event": "agent", "text": "handing over", "data": null}"#, .agent, #""handing over""#),
        (#"{"event": "restart"}"#, .restart, ""),
        (#"{"event": "rewind"}"#, .rewind, ""),
        (#"{"event": "undo"}"#, .undo, ""),
        (#"{"event": "reset_slots"}"#, .resetSlots, ""),
        (#"{"event": "pause"}"#, .pause, ""),
        (#"{"event": "resume"}"#, .resume, ""),
        (#"{"event": "session_started", "metadata": {"model_id": "x"}}"#, .sessionStarted, ""),
        (#"{"event": "export"}"#, .export, ""),
        (#"{"event": "stack", "update": "[{\"op\": \"add\", \"path\": \"/0\"}]"}"#, .stack, #"[{"op": "add", "path": "/0"}]"#),
        (#"{"event": "flow_started", "flow_id": "transfer_money"}"#, .flowStarted, "transfer_money"),
        (#"{"event": "flow_interrupted", "flow_id": "transfer_money", "step_id": "ask_amount"}"#, .flowInterrupted, "transfer_money  step=ask_amount"),
        (#"{"event": "flow_resumed", "flow_id": "f", "step_id": "s"}"#, .flowResumed, "f  step=s"),
        (#"{"event": "flow_completed", "flow_id": "f", "step_id": "END"}"#, .flowCompleted, "f  step=END"),
        (#"{"event": "flow_cancelled", "flow_id": "f", "step_id": "s"}"#, .flowCancelled, "f  step=s"),
        (#"{"event": "session_ended", "metadata": {"_reason": "timeout"}}"#, .sessionEnded, "reason=timeout"),
    ]

    @Test(arguments: cases)
    func decodesAndSummarises(_ c: (String, EventKind, String)) {
        let json = #"{"sender_id": "s1", "timestamp": 1700000000.5, "# + String(c.0.dropFirst())
        view(json) { v in
            #expect(v.kind == c.1)
            #expect(v.senderID == "s1")
            #expect(v.timestamp == 1700000000.5)
            #expect(Summary.of(v) == c.2)
        }
    }

    @Test func everyKnownKindHasAName() {
        for k in EventKind.allCases where k != .unknown {
            #expect(EventKind.from(name: k.typeName) == k, "\(k)")
        }
    }

    @Test func unknownTypeIsKeptByName() {
        view(#"{"sender_id": "a", "event": "my_custom_event", "timestamp": 1, "payload": {"x": 1}}"#) { v in
            #expect(v.kind == .unknown)
            #expect(v.typeName == "my_custom_event")
            #expect(Summary.of(v).contains("my_custom_event"))
        }
    }
}

@Suite struct Strings {
    @Test func unicodeEscapes() {
        view(#"{"event": "user", "text": "Gr\u00fc\u00dfe aus M\u00fcnchen \ud83d\udc4b \u4f60\u597d \"q\" \\ \/ \n\t"}"#) { v in
            #expect(v.text == "Grüße aus München 👋 你好 \"q\" \\ / \n\t")
        }
    }

    @Test func rawUTF8IsAccepted() {
        view(#"{"event": "bot", "text": "Grüße 👋"}"#) { v in #expect(v.text == "Grüße 👋") }
    }

    @Test func loneSurrogateIsAFieldErrorNotACrash() {
        view(#"{"event": "user", "sender_id": "u", "text": "bad \ud83d here"}"#) { v in
            #expect(v.kind == .user)
            #expect(v.senderID == "u")
            #expect(v.text == #"bad \ud83d here"#)  // shown as written
            let errors = v.fieldErrors
            #expect(errors.count == 1)
            #expect(errors.first?.0 == .text)
            #expect(errors.first?.1.message.contains("lone surrogate") == true)
        }
        view(#"{"event": "user", "text": "\udc4b"}"#) { v in #expect(v.fieldErrors.count == 1) }
        view(#"{"event": "user", "text": "\ud83d\u0041"}"#) { v in #expect(v.fieldErrors.count == 1) }
    }

    @Test func badEscapeIsAFieldError() {
        view(#"{"event": "user", "text": "a\qb"}"#) { v in
            #expect(v.fieldErrors.first?.1.message == "bad escape \\q")
            #expect(v.text == #"a\qb"#)
        }
    }

    @Test func escapedTypeName() {
        view(#"{"event": "\u0075ser", "text": "x"}"#) { v in #expect(v.kind == .user) }
    }
}

@Suite struct Mantle {
    static let user = #"{"conversation_id": "c-42", "timestamp": "2025-04-19T06:33:14.143Z", "event_id": "e1", "sequence": 7, "user_id": "u-9", "session_id": "s-1", "deployment_environment": "prod", "metadata": {"k": "v"}, "user": {"text": "hello", "parse_data": {"intent": {"name": "greet", "confidence": 0.42}, "entities": []}, "input_channel": "rest"}}"#

    @Test func envelope() {
        view(Self.user) { v in
            #expect(v.decoded.isMantle)
            #expect(v.kind == .user)
            #expect(v.senderID == "c-42")
            #expect(v.text == "hello")
            #expect(v.intentName == "greet")
            #expect(v.intentConfidence == 0.42)
            #expect(v.double(.sequence) == 7)
            #expect(v.string(.sessionID) == "s-1")
            #expect(abs((v.timestamp ?? 0) - 1745044394.143) < 1e-6)
        }
    }

    @Test func botPayloadAndNumericTime() {
        view(#"{"conversation_id": "c", "timestamp": 1745044395.5, "event_id": "e2", "sequence": 8, "bot": {"text": "hey", "data": {"buttons": [{"title": "OK", "payload": "/ok"}]}}}"#) { v in
            #expect(v.kind == .bot)
            #expect(v.text == "hey")
            #expect(v.buttons == ["OK"])
            #expect(v.timestamp == 1745044395.5)
        }
    }

    @Test func unknownPayloadKeepsItsName() {
        view(#"{"conversation_id": "c", "sequence": 1, "flow_step": {"x": 1}}"#) { v in
            #expect(v.kind == .unknown)
            #expect(v.typeName == "flow_step")
        }
    }
}

@Suite struct Malformed {
    static let corpus: [(String, String)] = [
        ("", "empty message"),
        ("   ", "empty message"),
        ("[1, 2]", "JSON value is not an object"),
        ("\"just a string\"", "JSON value is not an object"),
        ("42", "JSON value is not an object"),
        ("{\"event\": \"user\"", "not valid JSON: unexpected end of input"),
        ("{\"event\": \"user\",}", "not valid JSON: object key expected"),
        ("{\"event\": \"user\"} trailing", "not valid JSON: end of message expected"),
        ("{event: \"user\"}", "not valid JSON: object key expected"),
        ("{\"event\": \"us\u{01}er\"}", "not valid JSON: raw control character in string"),
        ("{\"event\": \"user\", \"n\": 01}", "not valid JSON: ',' or '}' expected"),
        ("{\"event\": \"user\", \"n\": 1.}", "not valid JSON: digit expected after '.'"),
        ("{\"event\": \"user\", \"n\": tru}", "not valid JSON: invalid literal"),
        ("{\"event\": \"user\", \"t\": \"\\u12\"}", "not valid JSON: \\u needs four hex digits"),
        ("{\"sender_id\": \"x\"}", "no \"event\" key"),
        ("{\"event\": 3}", "\"event\" is not a string"),
        ("{\"event\": null}", "\"event\" is not a string"),
        ("{}", "no \"event\" key"),
    ]

    @Test(arguments: corpus)
    func undecodableWithReason(_ c: (String, String)) {
        let u = failure(Array(c.0.utf8))
        #expect(u != nil)
        #expect(u?.reason.hasPrefix(c.1) == true, "\(String(describing: u))")
    }

    @Test func notUTF8() {
        var bytes = Array(#"{"event": "user", "text": "caf"#.utf8)
        bytes += [0xE9, 0x22, 0x7D]  // Latin-1 é
        #expect(failure(bytes)?.reason.contains("not valid UTF-8") == true)
        // Overlong encoding and an encoded surrogate are not UTF-8 either.
        #expect(failure(Array(#"{"event": ""#.utf8) + [0xC0, 0xAF] + Array("\"}".utf8)) != nil)
        #expect(failure(Array(#"{"event": ""#.utf8) + [0xED, 0xA0, 0x80] + Array("\"}".utf8)) != nil)
        #expect(failure([0xFF, 0xFE, 0x7B]) != nil)
    }

    @Test func deepNestingIsRejectedNotACrash() {
        let deep = #"{"event": "user", "x": "# + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
        #expect(failure(Array(deep.utf8))?.reason.contains("nested deeper") == true)
    }

    @Test func hugeMessageDecodes() {
        let big = String(repeating: "ab", count: 4_000_000)
        view(#"{"event": "bot", "text": ""# + big + #""}"#) { v in #expect(v.text?.utf8.count == 8_000_000) }
    }

    @Test func randomBytesNeverTrap() {
        var rng = SplitMix(seed: 7)
        let base = Array(realUser.utf8)
        for _ in 0 ..< 3000 {
            var b = base
            for _ in 0 ..< 1 + Int(rng.next() % 4) {
                let at = Int(rng.next() % UInt64(b.count))
                b[at] = UInt8(truncatingIfNeeded: rng.next())
            }
            if Int(rng.next() % 3) == 0 { b = Array(b.prefix(Int(rng.next() % UInt64(b.count)))) }
            _ = Event(raw: b).withView { v in (Summary.line(v), PrettyJSON.string(v.bytes), v.entities, v.fieldErrors.count) }
        }
    }
}

struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite struct Numbers {
    @Test func parsesLikeTheStandardLibrary() {
        for s in ["0", "-0", "1", "1.0", "0.9954788088798523", "1745044394.1430557", "1e-05", "1E+16", "123456789012345678901234567890", "5e-324", "1.7976931348623157e308", "-2.5e-3", "0.1", "100000000000000000000000"] {
            var t = s
            let got = t.withUTF8 { parseJSONNumber($0.baseAddress!, 0, $0.count) }
            #expect(got == Double(s), "\(s)")
        }
    }
}

@Test func everyFieldHasASlot() {
    let d = DecodedEvent()
    #expect(d.refs.count == Field.allCases.count)
}

@Test func compoundValuesAreShownDecoded() {
    view(#"{"event": "slot", "name": "places", "value": [{"name": "Trattoria Z\u00fcrich", "stars": 4}, "caf\u00e9"]}"#) { v in
        #expect(Summary.of(v) == #"places = [{"name":"Trattoria Zürich","stars":4},"café"]"#)
    }
}

/// validate() must say exactly what decode() says, for any bytes.
@Test func validateAgreesWithDecode() {
    var rng = SplitMix(seed: 11)
    let seeds = [realUser, realBot, Mantle.user, #"{"conversation_id": "c", "bot": {"text": "x"}}"#,
                 #"{"event": 3}"#, #"{"sender_id": "x"}"#, #"{"event": "a", "event": {"b": 1}}"#, "[1]", " {} "]
    for seed in seeds {
        let base = Array(seed.utf8)
        for round in 0 ..< 800 {
            var b = base
            if round > 0 {
                for _ in 0 ..< 1 + Int(rng.next() % 3) {
                    let at = Int(rng.next() % UInt64(b.count))
                    b[at] = [UInt8(ascii: "\""), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: ","), UInt8(ascii: ":"), 0x80, UInt8(truncatingIfNeeded: rng.next())][Int(rng.next() % 7)]
                }
            }
            let d = EventDecoder.decode(b)
            let v = b.withUnsafeBytes { EventDecoder.validate($0) }
            switch d {
            case .success: #expect(v == nil, "\(String(decoding: b, as: UTF8.self))")
            case let .failure(u): #expect(v == u, "\(String(decoding: b, as: UTF8.self))")
            }
        }
    }
}
