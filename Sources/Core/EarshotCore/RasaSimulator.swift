// A simulated Rasa 3.6 assistant: several conversations at once, each a plausible story,
// every event serialised exactly as Rasa's event brokers publish it:
// `{"sender_id": ID} + event.as_dict()` through Python's `json.dumps` (see PythonJSON).
// Used by `earshot demo` (human pace, via nextDelay) and by benchmarks (millions of events).
// Deterministic from its seed: no system randomness, no clock.

#if canImport(Glibc)
import Glibc
#endif

/// One broker message produced by the simulator.
public struct SimulatedEvent: Sendable {
    public var senderID: String
    /// The message body as Rasa publishes it: one line of pure-ASCII JSON, no newline.
    public var json: [UInt8]
    /// The event's `timestamp` field.
    public var timestamp: Double

    public init(senderID: String, json: [UInt8], timestamp: Double) {
        self.senderID = senderID
        self.json = json
        self.timestamp = timestamp
    }
}

/// SplitMix64: tiny, fast, and good enough for simulated chatter.
struct SimRandom {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    @inline(__always)
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    @inline(__always)
    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    /// Uniform in [lo, hi).
    mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * unit() }

    /// Uniform in 0..<n.
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    mutating func int(_ r: ClosedRange<Int>) -> Int { r.lowerBound + below(r.upperBound - r.lowerBound + 1) }

    mutating func chance(_ p: Double) -> Bool { unit() < p }

    mutating func pick<T>(_ a: [T]) -> T { a[below(a.count)] }

    /// A classifier confidence as Rasa reports it: a float32 widened to a Python float,
    /// hence the long reprs such as 0.9954788088798523.
    mutating func confidence(_ lo: Double, _ hi: Double) -> Double { Double(Float(uniform(lo, hi))) }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    /// `uuid.uuid4().hex`: 32 lowercase hex digits, version nibble 4, RFC 4122 variant.
    mutating func uuidHex() -> String {
        let a = next(), b = next()
        var bytes = [UInt8](repeating: 0, count: 32)
        for i in 0..<16 { bytes[i] = Self.hex[Int((a >> (60 - 4 * UInt64(i))) & 0xF)] }
        for i in 0..<16 { bytes[16 + i] = Self.hex[Int((b >> (60 - 4 * UInt64(i))) & 0xF)] }
        bytes[12] = UInt8(ascii: "4")
        bytes[16] = Self.hex[8 + Int(b & 3)]
        return String(decoding: bytes, as: UTF8.self)
    }

    mutating func digits(_ n: Int) -> String {
        var s = ""
        s.reserveCapacity(n)
        for _ in 0..<n { s.unicodeScalars.append(Unicode.Scalar(UInt8(48 + below(10)))) }
        return s
    }
}

public struct RasaSimulator: Sendable {
    /// The trained model every event's `metadata.model_id` names.
    public static let modelID = "b0a564ff3f0d4c509a716399d8a608fe"
    /// The assistant's `assistant_id` from config.yml, as `rasa init` generates it (Rasa 3.5+).
    public static let assistantID = "20240917-142203-bold-harbor"

    private var rng: SimRandom
    /// Delays draw from their own stream, so the events do not depend on whether nextDelay is called.
    private var delayRNG: SimRandom
    private var conversations: [SimConversation] = []
    /// The conversation the next event comes from, chosen when the previous event was made.
    private var upcoming = 0
    /// The upcoming event cuts into another conversation's turn (the assistant is busy with two).
    private var upcomingInterleaves = false
    private var lastWasUser = false
    private let startTime: Double

    public init(seed: UInt64, concurrentConversations: Int = 4, startTime: Double) {
        rng = SimRandom(seed: seed)
        delayRNG = SimRandom(seed: seed ^ 0xD1B5_4A32_D192_ED03)
        _ = delayRNG.next()
        self.startTime = startTime
        let n = max(1, concurrentConversations)
        for _ in 0..<n { conversations.append(SimConversation(rng: &rng, startTime: startTime)) }
        upcoming = rng.below(n)
    }

    /// The next event of some conversation, at `time` (Unix seconds, used as the event's timestamp;
    /// nudged forward a little when it would not be later than that conversation's previous event).
    public mutating func next(at time: Double) -> SimulatedEvent {
        let ci = upcoming
        while conversations[ci].cursor >= conversations[ci].pending.count {
            if conversations[ci].isFinished {
                let last = conversations[ci].lastTimestamp
                conversations[ci] = SimConversation(rng: &rng, startTime: max(startTime, last))
            }
            let turn = conversations[ci].nextTurn(rng: &rng)
            conversations[ci].pending = turn
            conversations[ci].cursor = 0
        }
        let ev = conversations[ci].pending[conversations[ci].cursor]
        conversations[ci].cursor += 1

        var ts = time
        if !(ts > conversations[ci].lastTimestamp) {
            ts = conversations[ci].lastTimestamp + rng.uniform(0.0003, 0.02)
        }
        conversations[ci].lastTimestamp = ts

        let json = PythonJSON.dumps(Self.render(ev, conversation: conversations[ci], timestamp: ts))
        if case .user = ev { lastWasUser = true } else { lastWasUser = false }
        let event = SimulatedEvent(senderID: conversations[ci].senderID, json: json, timestamp: ts)
        schedule(after: ci)
        return event
    }

    /// A human-pace delay in seconds before the next event: short between events of one turn
    /// (longer right after the user's message, while the bot "thinks"), longer between turns.
    public mutating func nextDelay() -> Double {
        let c = conversations[upcoming]
        if upcomingInterleaves { return delayRNG.uniform(0.02, 0.15) }
        if c.cursor < c.pending.count {
            return lastWasUser ? delayRNG.uniform(0.25, 0.9) : delayRNG.uniform(0.04, 0.3)
        }
        // Someone (of several people chatting) types the next message.
        let base = 1.2 + 3.0 / Double(conversations.count)
        return base * delayRNG.uniform(0.4, 1.6)
    }

    /// Picks the conversation of the next event: mostly the rest of the current turn, sometimes
    /// another conversation's events in between (as a busy assistant interleaves senders).
    private mutating func schedule(after ci: Int) {
        let n = conversations.count
        upcomingInterleaves = false
        if conversations[ci].cursor < conversations[ci].pending.count {
            if n > 1 && rng.chance(0.06) {
                upcomingInterleaves = true
                var j = rng.below(n - 1)
                if j >= ci { j += 1 }
                upcoming = j
            } else {
                upcoming = ci
            }
            return
        }
        // Finish any turn left half-published first.
        for k in 0..<n where conversations[k].cursor < conversations[k].pending.count {
            upcoming = k
            return
        }
        upcoming = rng.below(n)
    }

    // MARK: Rendering (Rasa's Event.as_dict, with sender_id in front)

    private static let metadata: PyValue = .object([
        ("model_id", .string(modelID)), ("assistant_id", .string(assistantID)),
    ])

    private static func head(_ c: SimConversation, _ type: String, _ ts: Double, metadata: PyValue = metadata)
        -> [(String, PyValue)]
    {
        var d: [(String, PyValue)] = []
        d.reserveCapacity(9)
        d.append(("sender_id", .string(c.senderID)))
        d.append(("event", .string(type)))
        d.append(("timestamp", .double(ts)))
        d.append(("metadata", metadata))
        return d
    }

    fileprivate static func render(_ ev: SimEv, conversation c: SimConversation, timestamp ts: Double) -> PyValue {
        switch ev {
        case let .action(name, policy, confidence, hide):
            var d = head(c, "action", ts)
            d.append(("name", .string(name)))
            d.append(("policy", policy.map { .string($0) } ?? .null))
            d.append(("confidence", confidence.map { .double($0) } ?? .null))
            d.append(("action_text", .null))
            d.append(("hide_rule_turn", .bool(hide)))
            return .object(d)
        case let .user(u):
            var d = head(c, "user", ts)
            d.append(("text", .string(u.text)))
            let intent: PyValue = .object([("name", .string(u.intent)), ("confidence", .double(u.confidence))])
            d.append(("parse_data", .object([
                ("intent", intent),
                ("entities", .array(u.entities)),
                ("text", .string(u.text)),
                ("message_id", .string(u.messageID)),
                ("metadata", .object([])),
                ("intent_ranking", .array(u.ranking)),
            ])))
            d.append(("input_channel", .string(c.channel)))
            d.append(("message_id", .string(u.messageID)))
            return .object(d)
        case let .bot(b):
            let meta: PyValue
            if let utter = b.utterAction {
                meta = .object([
                    ("utter_action", .string(utter)),
                    ("model_id", .string(modelID)), ("assistant_id", .string(assistantID)),
                ])
            } else {
                meta = metadata
            }
            var d = head(c, "bot", ts, metadata: meta)
            d.append(("text", .string(b.text)))
            d.append(("data", .object([
                ("elements", .null),
                ("quick_replies", b.quickReplies),
                ("buttons", b.buttons),
                // Rasa's create_bot_utterance: the attachment falls back to the image.
                ("attachment", b.image),
                ("image", b.image),
                ("custom", .null),
            ])))
            return .object(d)
        case let .slot(name, value):
            var d = head(c, "slot", ts)
            d.append(("name", .string(name)))
            d.append(("value", value))
            return .object(d)
        case .sessionStarted: return .object(head(c, "session_started", ts))
        case .restart: return .object(head(c, "restart", ts))
        case .rewind: return .object(head(c, "rewind", ts))
        case .resetSlots: return .object(head(c, "reset_slots", ts))
        case let .activeLoop(name):
            var d = head(c, "active_loop", ts)
            d.append(("name", name.map { .string($0) } ?? .null))
            return .object(d)
        case let .userFeaturization(useText):
            var d = head(c, "user_featurization", ts)
            d.append(("use_text_for_featurization", .bool(useText)))
            return .object(d)
        case let .loopInterrupted(flag):
            var d = head(c, "loop_interrupted", ts)
            d.append(("is_interrupted", .bool(flag)))
            return .object(d)
        case let .actionRejected(name, policy, confidence):
            var d = head(c, "action_execution_rejected", ts)
            d.append(("name", .string(name)))
            d.append(("policy", .string(policy)))
            d.append(("confidence", .double(confidence)))
            return .object(d)
        }
    }
}

// MARK: - Events before rendering

fileprivate struct SimUserMessage {
    var text: String
    var intent: String
    var confidence: Double
    var entities: [PyValue]
    var ranking: [PyValue]
    var messageID: String
}

fileprivate struct SimBotMessage {
    var text: String
    var utterAction: String?
    var buttons: PyValue = .null
    var quickReplies: PyValue = .null
    var image: PyValue = .null
}

fileprivate enum SimEv {
    case action(String, policy: String?, confidence: Double?, hide: Bool)
    case user(SimUserMessage)
    case bot(SimBotMessage)
    case slot(String, PyValue)
    case sessionStarted
    case restart
    case rewind
    case resetSlots
    case activeLoop(String?)
    case userFeaturization(Bool)
    case loopInterrupted(Bool)
    case actionRejected(String, policy: String, confidence: Double)
}

// MARK: - Stories

fileprivate enum SimLang: CaseIterable { case en, de, zh, fr }

fileprivate enum SimGoal { case greet, weather, booking, botChallenge, capabilities, fallback, thanks, restart, goodbye }

/// One piece of a user message: plain text or an entity the NLU pipeline finds in it.
fileprivate enum SimPart {
    case text(String)
    case city(String)
    case party(String)
    /// A Duckling time: the words, days from today, hour of day (nil: the whole day).
    case time(String, days: Int, hour: Int?)
}

private let memo = "policy_0_MemoizationPolicy"
private let rule = "policy_1_RulePolicy"
private let ted = "policy_3_TEDPolicy"
private let fallbackThreshold = 0.3
private let otherIntents = ["greet", "goodbye", "affirm", "deny", "inform", "ask_weather", "request_booking",
                            "bot_challenge", "thankyou", "ask_capabilities", "chitchat", "out_of_scope"]

fileprivate struct SimConversation {
    var senderID: String
    var channel: String
    var lang: SimLang
    var plan: [SimGoal]
    var pending: [SimEv] = []
    var cursor = 0
    var lastTimestamp: Double
    var started = false
    /// Booking form: the slots still to ask for (nil when no form is active).
    var formMissing: [String]? = nil
    var formValues: [String: String] = [:]
    var awaitingBookingConfirmation = false
    var awaitingCity = false

    var isFinished: Bool { started && plan.isEmpty && formMissing == nil && !awaitingBookingConfirmation && !awaitingCity }

    init(rng: inout SimRandom, startTime: Double) {
        lastTimestamp = startTime
        // Sender ids as the channels produce them.
        let r = rng.unit()
        if r < 0.35 {
            senderID = rng.uuidHex(); channel = "rest"
        } else if r < 0.55 {
            senderID = rng.uuidHex(); channel = "socketio"
        } else if r < 0.70 {
            let (prefix, digits) = rng.pick([("+49151", 8), ("+49176", 8), ("+447", 9), ("+1415", 7), ("+336", 8)])
            senderID = prefix + rng.digits(digits); channel = "twilio"
        } else if r < 0.85 {
            let alnum = Array("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789")
            var s = "U0"
            for _ in 0..<7 { s.append(alnum[rng.below(alnum.count)]) }
            senderID = s; channel = "slack"
        } else if r < 0.95 {
            senderID = String(rng.int(100_000_000...7_999_999_999)); channel = "telegram"
        } else {
            senderID = rng.pick(["2", "3", "4", "5", "6", "7"]) + rng.digits(15); channel = "facebook"
        }
        let l = rng.unit()
        lang = l < 0.6 ? .en : l < 0.78 ? .de : l < 0.9 ? .zh : .fr

        var plan: [SimGoal] = []
        if rng.chance(0.8) { plan.append(.greet) }
        for _ in 0..<rng.int(1...4) {
            let g = rng.unit()
            plan.append(g < 0.30 ? .weather : g < 0.50 ? .booking : g < 0.60 ? .botChallenge
                : g < 0.68 ? .capabilities : g < 0.84 ? .fallback : g < 0.96 ? .thanks : .restart)
        }
        if rng.chance(0.75) { plan.append(.goodbye) }
        self.plan = plan
    }

    /// The events of this conversation's next turn: one user message and what the assistant does.
    mutating func nextTurn(rng: inout SimRandom) -> [SimEv] {
        var evs: [SimEv] = []
        evs.reserveCapacity(12)
        if !started {
            started = true
            // Rasa runs action_session_start before handling a new sender's first message.
            evs.append(.action("action_session_start", policy: nil, confidence: 1.0, hide: false))
            evs.append(.sessionStarted)
            evs.append(.action("action_listen", policy: nil, confidence: nil, hide: false))
        }
        if awaitingCity {
            awaitingCity = false
            cityQuickReplyTurn(&evs, rng: &rng)
        } else if awaitingBookingConfirmation {
            awaitingBookingConfirmation = false
            bookingConfirmationTurn(&evs, rng: &rng)
        } else if formMissing != nil {
            formTurn(&evs, rng: &rng)
        } else {
            let goal = plan.isEmpty ? SimGoal.goodbye : plan.removeFirst()
            switch goal {
            case .greet: greetTurn(&evs, rng: &rng)
            case .weather: weatherTurn(&evs, rng: &rng)
            case .booking: bookingStartTurn(&evs, rng: &rng)
            case .botChallenge: simpleTurn(&evs, rng: &rng, texts: SimTexts.botChallenge, intent: "bot_challenge",
                                           utter: "utter_iamabot", replies: SimTexts.iamabot)
            case .capabilities: capabilitiesTurn(&evs, rng: &rng)
            case .fallback: fallbackTurn(&evs, rng: &rng)
            case .thanks: simpleTurn(&evs, rng: &rng, texts: SimTexts.thanks, intent: "thankyou",
                                     utter: "utter_you_are_welcome", replies: SimTexts.welcome)
            case .restart: restartTurn(&evs, rng: &rng)
            case .goodbye: simpleTurn(&evs, rng: &rng, texts: SimTexts.goodbye, intent: "goodbye",
                                      utter: "utter_goodbye", replies: SimTexts.bye)
            }
        }
        return evs
    }

    // MARK: Building blocks

    private func localized(_ table: [SimLang: [String]], _ rng: inout SimRandom) -> String {
        rng.pick(table[lang] ?? table[.en]!)
    }

    /// A user message as the NLU pipeline parses it: intent, DIET / Duckling entities, ranking.
    private mutating func user(_ parts: [SimPart], intent: String, confidence: Double? = nil,
                               rng: inout SimRandom, ranking: [PyValue]? = nil) -> (SimEv, [(String, PyValue)]) {
        var text = ""
        var offset = 0  // in code points, as Python indexes strings
        var entities: [PyValue] = []
        var slots: [(String, PyValue)] = []
        for part in parts {
            switch part {
            case let .text(s):
                text += s
                offset += s.unicodeScalars.count
            case let .city(s), let .party(s):
                let n = s.unicodeScalars.count
                let kind: String
                if case .city = part { kind = "city" } else { kind = "party_size" }
                entities.append(.object([
                    ("entity", .string(kind)), ("start", .int(offset)), ("end", .int(offset + n)),
                    ("confidence_entity", .double(rng.confidence(0.93, 0.9999))), ("value", .string(s)),
                    ("extractor", "DIETClassifier"),
                ]))
                slots.append((kind, .string(s)))
                text += s
                offset += n
            case let .time(s, days, hour):
                let n = s.unicodeScalars.count
                let value = Self.isoDate(lastTimestamp, days: days, hour: hour)
                let grain: PyValue = hour == nil ? "day" : "hour"
                entities.append(.object([
                    ("start", .int(offset)), ("end", .int(offset + n)), ("text", .string(s)),
                    ("value", .string(value)), ("confidence", 1.0),
                    ("additional_info", .object([("value", .string(value)), ("grain", grain), ("type", "value")])),
                    ("entity", "time"), ("extractor", "DucklingEntityExtractor"),
                ]))
                slots.append(("date", .string(value)))
                text += s
                offset += n
            }
        }
        let conf = confidence ?? rng.confidence(0.82, 0.9995)
        let ranking = ranking ?? Self.ranking(top: intent, confidence: conf, rng: &rng)
        let msg = SimUserMessage(text: text, intent: intent, confidence: conf, entities: entities,
                              ranking: ranking, messageID: rng.uuidHex())
        return (.user(msg), slots)
    }

    /// DIET's intent ranking (trimmed to a few entries): the top intent, then the rest of the mass.
    static func ranking(top: String, confidence: Double, rng: inout SimRandom) -> [PyValue] {
        var r: [PyValue] = [.object([("name", .string(top)), ("confidence", .double(confidence))])]
        var rest = 1.0 - confidence
        var previous = confidence
        var used: [String] = [top]
        for _ in 0..<rng.int(1...3) {
            var name = rng.pick(otherIntents)
            while used.contains(name) { name = rng.pick(otherIntents) }
            used.append(name)
            // Each below the one before, all together below what the top one leaves.
            let share = min(previous * rng.uniform(0.2, 0.9), rest * rng.uniform(0.4, 0.8))
            rest -= share
            previous = share
            r.append(.object([("name", .string(name)), ("confidence", .double(Double(Float(share))))]))
        }
        return r
    }

    /// Appends the user message, the slots action_extract_slots sets from its entities, and the
    /// featurization event the policy ensemble adds to the first prediction after a user message.
    private mutating func userEvents(_ evs: inout [SimEv], _ parts: [SimPart], intent: String, confidence: Double? = nil,
                                     rng: inout SimRandom) {
        let (u, slots) = user(parts, intent: intent, confidence: confidence, rng: &rng)
        evs.append(u)
        for (name, value) in slots {
            evs.append(.slot(name, value))
            if let v = value.stringValue { formValues[name] = v }
        }
        evs.append(.userFeaturization(false))
    }

    private func listen(_ evs: inout [SimEv], policy: String = memo, rng: inout SimRandom) {
        if policy == ted {
            evs.append(.action("action_listen", policy: ted, confidence: rng.confidence(0.9, 0.9999), hide: false))
        } else {
            evs.append(.action("action_listen", policy: policy, confidence: 1.0, hide: policy == rule))
        }
    }

    private func utter(_ evs: inout [SimEv], _ name: String, text: String, policy: String = memo,
                       buttons: PyValue = .null, quickReplies: PyValue = .null, rng: inout SimRandom) {
        let conf = policy == ted ? rng.confidence(0.75, 0.999) : 1.0
        evs.append(.action(name, policy: policy, confidence: conf, hide: policy == rule))
        evs.append(.bot(SimBotMessage(text: text, utterAction: name, buttons: buttons, quickReplies: quickReplies)))
    }

    static func buttons(_ items: [(String, String)]) -> PyValue {
        .array(items.map { .object([("title", .string($0.0)), ("payload", .string($0.1))]) })
    }

    // MARK: Turns

    private mutating func greetTurn(_ evs: inout [SimEv], rng: inout SimRandom) {
        userEvents(&evs, [.text(localized(SimTexts.greet, &rng))], intent: "greet", rng: &rng)
        let offerButtons = rng.chance(0.35)
        utter(&evs, "utter_greet", text: localized(SimTexts.greetReply, &rng), policy: rng.chance(0.7) ? memo : ted,
              buttons: offerButtons ? Self.buttons([("Weather", "/ask_weather"), ("Book a table", "/request_booking")]) : .null,
              rng: &rng)
        listen(&evs, rng: &rng)
    }

    private mutating func simpleTurn(_ evs: inout [SimEv], rng: inout SimRandom, texts: [SimLang: [String]],
                                     intent: String, utter name: String, replies: [SimLang: [String]]) {
        userEvents(&evs, [.text(localized(texts, &rng))], intent: intent, rng: &rng)
        utter(&evs, name, text: localized(replies, &rng), policy: rng.chance(0.6) ? rule : memo, rng: &rng)
        listen(&evs, policy: rule, rng: &rng)
    }

    private mutating func capabilitiesTurn(_ evs: inout [SimEv], rng: inout SimRandom) {
        userEvents(&evs, [.text(localized(SimTexts.capabilities, &rng))], intent: "ask_capabilities", rng: &rng)
        utter(&evs, "utter_capabilities", text: "I can tell you the weather or book you a table. What would you like?",
              policy: rule,
              buttons: Self.buttons([("Check the weather", "/ask_weather"), ("Book a table", "/request_booking"),
                                     ("Talk to a human", "/handoff")]), rng: &rng)
        listen(&evs, policy: rule, rng: &rng)
    }

    private mutating func weatherTurn(_ evs: inout [SimEv], rng: inout SimRandom) {
        let templates = SimTexts.weather[lang] ?? SimTexts.weather[.en]!
        let withCity = rng.chance(0.75)
        let city = rng.pick(SimTexts.cities[lang]!)
        var parts: [SimPart]
        if withCity {
            parts = rng.pick(templates).map { p in
                if case .city = p { return .city(city) }
                return p
            }
        } else {
            parts = [.text(localized(SimTexts.weatherNoCity, &rng))]
        }
        userEvents(&evs, parts, intent: "ask_weather", rng: &rng)
        if withCity {
            weatherAnswer(&evs, city: city, rng: &rng)
        } else {
            evs.append(.action("utter_ask_weather_city", policy: ted, confidence: rng.confidence(0.8, 0.99), hide: false))
            let choices = Array(SimTexts.cities[lang]!.prefix(3))
            let replies: PyValue = .array(choices.map { c in
                .object([("content_type", "text"), ("title", .string(c)),
                         ("payload", .string("/inform{\"city\":\"\(c)\"}"))])
            })
            evs.append(.bot(SimBotMessage(text: "For which city would you like the forecast?",
                                       utterAction: "utter_ask_weather_city", quickReplies: replies)))
            listen(&evs, policy: ted, rng: &rng)
            awaitingCity = true
        }
    }

    /// The user taps a quick reply: the payload is the text, the RegexMessageHandler parses it.
    private mutating func cityQuickReplyTurn(_ evs: inout [SimEv], rng: inout SimRandom) {
        let city = rng.pick(Array(SimTexts.cities[lang]!.prefix(3)))
        let payload = "/inform{\"city\":\"\(city)\"}"
        let entity: PyValue = .object([("entity", "city"), ("start", 7), ("end", .int(payload.unicodeScalars.count)),
                                       ("value", .string(city))])
        let msg = SimUserMessage(text: payload, intent: "inform", confidence: 1.0, entities: [entity],
                              ranking: [.object([("name", "inform"), ("confidence", 1.0)])], messageID: rng.uuidHex())
        evs.append(.user(msg))
        evs.append(.slot("city", .string(city)))
        evs.append(.userFeaturization(false))
        weatherAnswer(&evs, city: city, rng: &rng)
    }

    private mutating func weatherAnswer(_ evs: inout [SimEv], city: String, rng: inout SimRandom) {
        evs.append(.action("action_weather", policy: ted, confidence: rng.confidence(0.85, 0.999), hide: false))
        let temp = Double(rng.int(-60...340)) / 10
        let cond = temp < 1 ? rng.pick(["snowy", "foggy", "cloudy", "clear"])
            : temp > 24 ? rng.pick(["sunny", "partly cloudy", "humid", "thundery"])
            : rng.pick(["cloudy", "light rain", "foggy", "windy", "partly cloudy", "sunny"])
        let text: String
        switch lang {
        case .de: text = "In \(city) sind es \(temp)°C, \(cond)."
        case .zh: text = "\(city)：\(temp)°C，\(cond)。"
        case .fr: text = "À \(city), il fait \(temp)°C (\(cond))."
        case .en: text = "It's \(temp)°C and \(cond) in \(city) right now."
        }
        // A custom action's message: no response template, so no utter_action in the metadata.
        evs.append(.bot(SimBotMessage(text: text, utterAction: nil)))
        evs.append(.slot("temperature", .double(temp)))
        if rng.chance(0.5) {
            evs.append(.slot("forecast", .array([.string(cond), .string(rng.pick(["cloudy", "rain", "sunny"]))])))
        }
        listen(&evs, policy: ted, rng: &rng)
    }

    private static let formSlots = ["city", "date", "party_size"]

    private mutating func bookingStartTurn(_ evs: inout [SimEv], rng: inout SimRandom) {
        formValues = [:]
        let parts: [SimPart]
        if rng.chance(0.5) {
            let n = String(rng.int(2...8))
            switch lang {
            case .de: parts = [.text("Ich möchte einen Tisch für "), .party(n), .text(" Personen reservieren")]
            case .fr: parts = [.text("Je voudrais réserver une table pour "), .party(n), .text(" personnes")]
            default: parts = [.text("I'd like to book a table for "), .party(n), .text(" people")]
            }
        } else {
            parts = [.text(localized(SimTexts.bookTable, &rng))]
        }
        userEvents(&evs, parts, intent: "request_booking", rng: &rng)
        evs.append(.action("restaurant_form", policy: rule, confidence: 1.0, hide: true))
        evs.append(.activeLoop("restaurant_form"))
        let missing = Self.formSlots.filter { formValues[$0] == nil }
        formMissing = missing
        askNext(&evs, rng: &rng)
    }

    /// The form asks for the first missing slot (requested_slot, then the question), or ends.
    private mutating func askNext(_ evs: inout [SimEv], rng: inout SimRandom) {
        guard let missing = formMissing, let next = missing.first else {
            evs.append(.slot("requested_slot", .null))
            evs.append(.activeLoop(nil))
            formMissing = nil
            let size = formValues["party_size"] ?? "2"
            let city = formValues["city"] ?? "?"
            utter(&evs, "utter_confirm_booking", text: "Shall I book a table for \(size) in \(city)?", policy: rule,
                  buttons: Self.buttons([("Yes", "/affirm"), ("No", "/deny")]), rng: &rng)
            listen(&evs, policy: rule, rng: &rng)
            awaitingBookingConfirmation = true
            return
        }
        evs.append(.slot("requested_slot", .string(next)))
        let question: String
        var quick: PyValue = .null
        switch next {
        case "city":
            question = localized(SimTexts.askCity, &rng)
        case "date":
            question = localized(SimTexts.askDate, &rng)
            quick = .array(["Today", "Tomorrow"].map { .object([("content_type", "text"), ("title", .string($0)),
                                                                 ("payload", .string($0.lowercased()))]) })
        default:
            question = localized(SimTexts.askParty, &rng)
        }
        evs.append(.bot(SimBotMessage(text: question, utterAction: "utter_ask_\(next)", quickReplies: quick)))
        listen(&evs, policy: rule, rng: &rng)
    }

    private mutating func formTurn(_ evs: inout [SimEv], rng: inout SimRandom) {
        guard var missing = formMissing, let slot = missing.first else { return }
        if rng.chance(0.12) {
            // The user wanders off; the form rejects, a rule answers, the form asks again.
            userEvents(&evs, [.text(localized(SimTexts.botChallenge, &rng))], intent: "bot_challenge", rng: &rng)
            evs.append(.actionRejected("restaurant_form", policy: rule, confidence: 1.0))
            evs.append(.loopInterrupted(true))
            utter(&evs, "utter_iamabot", text: localized(SimTexts.iamabot, &rng), policy: rule, rng: &rng)
            evs.append(.action("restaurant_form", policy: rule, confidence: 1.0, hide: true))
            askNext(&evs, rng: &rng)
            return
        }
        let parts: [SimPart]
        switch slot {
        case "city":
            let city = rng.pick(SimTexts.cities[lang]!)
            parts = rng.chance(0.6) ? [.city(city)] : [.text("in "), .city(city), .text(lang == .de ? " bitte" : " please")]
        case "date":
            parts = rng.pick(SimTexts.dates[lang] ?? SimTexts.dates[.en]!)
        default:
            parts = [.party(String(rng.int(1...10)))]
        }
        userEvents(&evs, parts, intent: "inform", rng: &rng)
        evs.append(.action("restaurant_form", policy: rule, confidence: 1.0, hide: true))
        if formValues[slot] == nil { formValues[slot] = "?" }
        missing.removeAll { formValues[$0] != nil }
        formMissing = missing
        askNext(&evs, rng: &rng)
    }

    private mutating func bookingConfirmationTurn(_ evs: inout [SimEv], rng: inout SimRandom) {
        if rng.chance(0.8) {
            userEvents(&evs, [.text(localized(SimTexts.affirm, &rng))], intent: "affirm", rng: &rng)
            evs.append(.action("action_book_table", policy: ted, confidence: rng.confidence(0.8, 0.999), hide: false))
            let ref = "R-" + rng.digits(5)
            evs.append(.bot(SimBotMessage(text: "Done! Your booking reference is \(ref). 🎉", utterAction: nil)))
            evs.append(.slot("booking_reference", .string(ref)))
            evs.append(.slot("party_size", .int(Int(formValues["party_size"] ?? "") ?? 2)))
            if rng.chance(0.4) { evs.append(.slot("cuisine", .array(["italian", "vegetarian"]))) }
            listen(&evs, policy: ted, rng: &rng)
        } else {
            userEvents(&evs, [.text(localized(SimTexts.deny, &rng))], intent: "deny", rng: &rng)
            evs.append(.action("action_cancel_booking", policy: ted, confidence: rng.confidence(0.7, 0.99), hide: false))
            evs.append(.bot(SimBotMessage(text: "No problem, I won't book anything.", utterAction: "utter_booking_cancelled")))
            if rng.chance(0.5) {
                evs.append(.resetSlots)
            } else {
                evs.append(.slot("city", .null))
                evs.append(.slot("date", .null))
            }
            listen(&evs, policy: ted, rng: &rng)
        }
        formValues = [:]
    }

    private mutating func fallbackTurn(_ evs: inout [SimEv], rng: inout SimRandom) {
        // FallbackClassifier: below the threshold the intent becomes nlu_fallback at the threshold.
        let guessed = rng.confidence(0.08, fallbackThreshold - 0.01)
        var ranking: [PyValue] = [.object([("name", "nlu_fallback"), ("confidence", .double(fallbackThreshold))])]
        ranking += Self.ranking(top: rng.pick(["inform", "chitchat", "out_of_scope", "affirm"]),
                                confidence: guessed, rng: &rng).prefix(3)
        let (u, _) = user([.text(localized(SimTexts.gibberish, &rng))], intent: "nlu_fallback",
                          confidence: fallbackThreshold, rng: &rng, ranking: ranking)
        evs.append(u)
        evs.append(.userFeaturization(false))
        evs.append(.action("action_default_fallback", policy: rule, confidence: 1.0, hide: true))
        evs.append(.bot(SimBotMessage(text: localized(SimTexts.sorry, &rng), utterAction: "utter_default")))
        evs.append(.rewind)
        listen(&evs, policy: rule, rng: &rng)
    }

    private mutating func restartTurn(_ evs: inout [SimEv], rng: inout SimRandom) {
        let msg = SimUserMessage(text: "/restart", intent: "restart", confidence: 1.0, entities: [],
                              ranking: [.object([("name", "restart"), ("confidence", 1.0)])], messageID: rng.uuidHex())
        evs.append(.user(msg))
        evs.append(.userFeaturization(false))
        evs.append(.action("action_restart", policy: rule, confidence: 1.0, hide: true))
        evs.append(.restart)
        evs.append(.action("action_session_start", policy: nil, confidence: 1.0, hide: false))
        evs.append(.sessionStarted)
        evs.append(.action("action_listen", policy: nil, confidence: nil, hide: false))
        formMissing = nil
        formValues = [:]
        awaitingBookingConfirmation = false
        awaitingCity = false
    }

    // MARK: Dates

    /// A Duckling value: local midnight (or the hour) `days` after the day of `t`, UTC offset +00:00.
    static func isoDate(_ t: Double, days: Int, hour: Int?) -> String {
        let day = Int((t / 86400).rounded(.down)) + days
        // Howard Hinnant's civil_from_days.
        let z = day + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        func two(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
        return "\(y)-\(two(m))-\(two(d))T\(two(hour ?? 0)):00:00.000+00:00"
    }
}

fileprivate extension PyValue {
    var stringValue: String? { if case let .string(s) = self { return s } else { return nil } }
}

// MARK: - What people type, and what the bot answers

fileprivate enum SimTexts {
    static let greet: [SimLang: [String]] = [
        .en: ["hi", "hello", "hey there", "good morning", "hi 👋", "hello, anyone there?", "heyyy"],
        .de: ["Hallo!", "Grüße aus München 👋", "Guten Morgen", "Servus", "Moin"],
        .zh: ["你好", "你好！👋", "早上好"],
        .fr: ["Bonjour !", "Salut, ça va ?", "coucou"],
    ]
    static let greetReply: [SimLang: [String]] = [
        .en: ["Hi there! What can I assist you with?", "Hey! How can I help you today?"],
        .de: ["Hallo! Wie kann ich dir helfen?", "Grüß dich! Was kann ich für dich tun?"],
        .zh: ["你好！有什么可以帮你的吗？"],
        .fr: ["Bonjour ! Comment puis-je vous aider ?"],
    ]
    static let goodbye: [SimLang: [String]] = [
        .en: ["bye", "goodbye!", "see you later", "bye 👋", "ok thanks, bye"],
        .de: ["Tschüss 👋", "Auf Wiedersehen", "Ciao!"],
        .zh: ["再见", "拜拜 👋"],
        .fr: ["Au revoir !", "À bientôt"],
    ]
    static let bye: [SimLang: [String]] = [
        .en: ["Bye! 👋 Have a nice day.", "Goodbye, talk soon!"],
        .de: ["Tschüss! Schönen Tag noch 👋"],
        .zh: ["再见！祝你愉快 👋"],
        .fr: ["Au revoir, bonne journée !"],
    ]
    static let thanks: [SimLang: [String]] = [
        .en: ["thanks!", "thank you so much", "thx 🙏", "cheers", "perfect, thanks"],
        .de: ["Danke schön!", "Vielen Dank 🙏", "super, danke"],
        .zh: ["谢谢！", "太好了，谢谢"],
        .fr: ["Merci beaucoup !", "merci 🙏"],
    ]
    static let welcome: [SimLang: [String]] = [
        .en: ["You're welcome!", "Happy to help 😊"],
        .de: ["Gern geschehen!"],
        .zh: ["不客气！"],
        .fr: ["Avec plaisir !"],
    ]
    static let botChallenge: [SimLang: [String]] = [
        .en: ["are you a bot?", "am I talking to a human?", "r u a robot"],
        .de: ["Bist du ein Bot?", "Rede ich mit einem Menschen?"],
        .zh: ["你是机器人吗？"],
        .fr: ["Tu es un robot ?"],
    ]
    static let iamabot: [SimLang: [String]] = [
        .en: ["I am a bot, powered by Rasa. 🤖"],
        .de: ["Ich bin ein Bot, gebaut mit Rasa. 🤖"],
        .zh: ["我是一个由 Rasa 驱动的机器人 🤖"],
        .fr: ["Je suis un bot, propulsé par Rasa. 🤖"],
    ]
    static let capabilities: [SimLang: [String]] = [
        .en: ["what can you do?", "help", "what are you able to do"],
        .de: ["Was kannst du?", "Hilfe"],
        .zh: ["你能做什么？"],
        .fr: ["Qu'est-ce que tu sais faire ?"],
    ]
    static let weatherNoCity: [SimLang: [String]] = [
        .en: ["how's the weather?", "weather forecast please", "will it rain?"],
        .de: ["Wie wird das Wetter?", "Wetterbericht bitte"],
        .zh: ["天气怎么样？"],
        .fr: ["Quel temps fait-il ?"],
    ]
    static let weather: [SimLang: [[SimPart]]] = [
        .en: [[.text("what's the weather in "), .city(""), .text("?")],
              [.text("weather in "), .city(""), .text(" "), .time("tomorrow", days: 1, hour: nil), .text(" please")],
              [.text("is it going to rain in "), .city(""), .text(" "), .time("today", days: 0, hour: nil), .text("?")],
              [.text("\"forecast\" for "), .city(""), .text(", pls")]],
        .de: [[.text("Wie ist das Wetter in "), .city(""), .text("?")],
              [.text("Regnet es "), .time("morgen", days: 1, hour: nil), .text(" in "), .city(""), .text("?")]],
        .zh: [[.time("明天", days: 1, hour: nil), .city(""), .text("的天气怎么样？")],
              [.city(""), .text("现在的天气如何？")]],
        .fr: [[.text("Quel temps fait-il à "), .city(""), .text(" "), .time("demain", days: 1, hour: nil), .text(" ?")]],
    ]
    static let cities: [SimLang: [String]] = [
        .en: ["Berlin", "London", "New York", "São Paulo", "Kraków", "Zürich", "Lisbon"],
        .de: ["München", "Köln", "Zürich", "Berlin", "Düsseldorf"],
        .zh: ["北京", "上海", "东京", "深圳"],
        .fr: ["Paris", "Montréal", "Genève", "Lyon"],
    ]
    static let bookTable: [SimLang: [String]] = [
        .en: ["I want to book a table", "can I make a reservation?", "table for tonight?"],
        .de: ["Ich möchte einen Tisch reservieren", "Tisch buchen"],
        .zh: ["我想订个位子"],
        .fr: ["Je voudrais réserver une table"],
    ]
    static let askCity: [SimLang: [String]] = [
        .en: ["In which city?", "Which city should I look in?"],
        .de: ["In welcher Stadt?"],
        .zh: ["在哪个城市？"],
        .fr: ["Dans quelle ville ?"],
    ]
    static let askDate: [SimLang: [String]] = [
        .en: ["For when?", "What day and time?"],
        .de: ["Für wann?"],
        .zh: ["什么时候？"],
        .fr: ["Pour quand ?"],
    ]
    static let askParty: [SimLang: [String]] = [
        .en: ["For how many people?"],
        .de: ["Für wie viele Personen?"],
        .zh: ["几位？"],
        .fr: ["Pour combien de personnes ?"],
    ]
    static let dates: [SimLang: [[SimPart]]] = [
        .en: [[.time("tomorrow at 7pm", days: 1, hour: 19)], [.time("tonight at 8", days: 0, hour: 20)],
              [.text("uh "), .time("today at 6pm", days: 0, hour: 18), .text(" if possible")]],
        .de: [[.time("morgen um 19 Uhr", days: 1, hour: 19)], [.time("heute Abend", days: 0, hour: 19)]],
        .zh: [[.time("明天晚上7点", days: 1, hour: 19)]],
        .fr: [[.time("demain à 19h", days: 1, hour: 19)]],
    ]
    static let affirm: [SimLang: [String]] = [
        .en: ["yes", "yes please", "sure 👍", "yep"],
        .de: ["ja", "ja, bitte", "genau 👍"],
        .zh: ["好的", "是的"],
        .fr: ["oui", "oui, s'il vous plaît"],
    ]
    static let deny: [SimLang: [String]] = [
        .en: ["no", "nope", "actually no"],
        .de: ["nein", "lieber nicht"],
        .zh: ["不用了"],
        .fr: ["non", "non merci"],
    ]
    static let gibberish: [SimLang: [String]] = [
        .en: ["asdfghjkl", "hmm ???", "can u do the thing with the stuff", "🤷", "blorp\tzing", "is \\ a slash?"],
        .de: ["äh… keine Ahnung", "hä?"],
        .zh: ["嗯……这个那个"],
        .fr: ["euh… bof", "¿qué?"],
    ]
    static let sorry: [SimLang: [String]] = [
        .en: ["Sorry, I didn't get that 🤔. Could you rephrase?", "I'm sorry, I didn't quite understand that."],
        .de: ["Entschuldigung, das habe ich nicht verstanden 🤔."],
        .zh: ["抱歉，我没听懂 🤔"],
        .fr: ["Désolé, je n'ai pas compris 🤔."],
    ]
}
