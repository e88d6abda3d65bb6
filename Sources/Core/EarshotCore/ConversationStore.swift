// Events grouped per sender, in arrival order, bounded: when the cap is reached the oldest
// events go first and are counted, never silently.

public struct StoredEvent: Sendable {
    public let seq: Int
    public let raw: [UInt8]
    public let position: SourcePosition
    public let source: Int
    public let kind: EventKind
    /// The `event` name for unknown types.
    public let unknownName: String?
    public let timestamp: Double?
    public let conversation: Int
    /// Why it could not be decoded; nil for decoded events.
    public let undecodable: Undecodable?
    public let lowConfidence: Bool

    public var typeName: String { undecodable != nil ? "undecodable" : (unknownName ?? kind.typeName) }

    /// A view of the decoded event (nil when undecodable); decoding again is cheaper than
    /// keeping every field position in memory.
    public func withView<R>(_ body: (EventView) -> R) -> R? {
        guard undecodable == nil else { return nil }
        return raw.withUnsafeBytes { buf in
            guard case let .success(d) = EventDecoder.decode(buf) else { return nil }
            return body(EventView(bytes: buf, decoded: d))
        }
    }
}

public struct Conversation: Sendable {
    /// The sender id; "" holds the messages whose sender could not be read.
    public let senderID: String
    public let index: Int
    /// Sequence numbers of the events held, oldest first.
    public internal(set) var seqs: [Int] = []
    var head = 0
    public internal(set) var total = 0
    public internal(set) var evicted = 0
    public internal(set) var countsByType: [String: Int] = [:]
    public internal(set) var lowConfidence = 0
    public internal(set) var undecodable = 0
    /// The latest event time (event timestamp, or arrival time when it has none).
    public internal(set) var lastActivity: Double = 0
    public internal(set) var firstSeen: Double = 0
    /// The last reset the conversation saw (`restart`, `session_ended`, `session_started`).
    public internal(set) var lastReset: EventKind?
    public internal(set) var lastResetSeq: Int = -1

    public var held: ArraySlice<Int> { seqs[head...] }
    public var count: Int { seqs.count - head }

    /// The conversation ended or was restarted and nothing was said after.
    public var isEnded: Bool { lastReset == .restart || lastReset == .sessionEnded }
}

public final class ConversationStore {
    public let capacity: Int
    public var lowConfidenceThreshold: Double

    public private(set) var conversations: [Conversation] = []
    private var bySender: [String: Int] = [:]
    private var events: [StoredEvent?] = []
    private var eventsHead = 0
    private var firstSeq = 0
    public private(set) var nextSeq = 0
    public private(set) var evicted = 0
    public private(set) var undecodable = 0
    public private(set) var countsByType: [String: Int] = [:]

    public init(capacity: Int = 1_000_000, lowConfidenceThreshold: Double = 0.5) {
        precondition(capacity > 0)
        self.capacity = capacity
        self.lowConfidenceThreshold = lowConfidenceThreshold
    }

    public var count: Int { nextSeq - firstSeq }
    public var totalIngested: Int { nextSeq }
    public var oldestSeq: Int { firstSeq }

    /// Adds every message of a batch from source number `source`.
    public func ingest(_ batch: MessageBatch, source: Int = 0, arrival: Double = TimeParsing.now()) {
        batch.forEach { bytes, pos in add(bytes, position: pos, source: source, arrival: arrival) }
    }

    @discardableResult
    public func add(_ bytes: UnsafeRawBufferPointer, position: SourcePosition, source: Int = 0, arrival: Double = TimeParsing.now()) -> Int {
        let raw = [UInt8](bytes)
        let seq = nextSeq
        var sender = ""
        var kind = EventKind.unknown
        var unknownName: String?
        var ts: Double?
        var bad: Undecodable?
        var low = false
        switch EventDecoder.decode(bytes) {
        case let .success(d):
            let v = EventView(bytes: bytes, decoded: d)
            sender = v.senderID ?? ""
            kind = d.kind
            if kind == .unknown { unknownName = v.typeName }
            ts = v.timestamp
            low = v.isLowConfidence(threshold: lowConfidenceThreshold)
        case let .failure(u):
            bad = u
        }
        let ci = conversationIndex(sender, arrival: arrival)
        let ev = StoredEvent(seq: seq, raw: raw, position: position, source: source, kind: kind, unknownName: unknownName,
                             timestamp: ts, conversation: ci, undecodable: bad, lowConfidence: low)
        events.append(ev)
        nextSeq += 1
        let typeName = ev.typeName
        countsByType[typeName, default: 0] += 1
        if bad != nil { undecodable += 1 }
        var c = conversations[ci]
        c.seqs.append(seq)
        c.total += 1
        c.countsByType[typeName, default: 0] += 1
        if low { c.lowConfidence += 1 }
        if bad != nil { c.undecodable += 1 }
        c.lastActivity = max(c.lastActivity, ts ?? arrival)
        if kind.isReset && bad == nil {
            c.lastReset = kind
            c.lastResetSeq = seq
        } else if kind == .user || kind == .bot {
            if c.lastReset == .restart || c.lastReset == .sessionEnded { c.lastReset = nil }
        }
        conversations[ci] = c
        while count > capacity { evictOldest() }
        return seq
    }

    private func conversationIndex(_ sender: String, arrival: Double) -> Int {
        if let i = bySender[sender] { return i }
        let i = conversations.count
        var c = Conversation(senderID: sender, index: i)
        c.firstSeen = arrival
        conversations.append(c)
        bySender[sender] = i
        return i
    }

    private func evictOldest() {
        guard let ev = events[eventsHead] else { return }
        events[eventsHead] = nil
        eventsHead += 1
        firstSeq += 1
        evicted += 1
        var c = conversations[ev.conversation]
        c.head += 1
        c.evicted += 1
        let name = ev.typeName
        c.countsByType[name, default: 1] -= 1
        if c.countsByType[name] == 0 { c.countsByType[name] = nil }
        if ev.lowConfidence { c.lowConfidence -= 1 }
        if ev.undecodable != nil { c.undecodable -= 1 }
        // Compact now and then so memory stays bounded.
        if c.head > 1024 && c.head * 2 > c.seqs.count {
            c.seqs.removeFirst(c.head)
            c.head = 0
        }
        conversations[ev.conversation] = c
        countsByType[name, default: 1] -= 1
        if countsByType[name] == 0 { countsByType[name] = nil }
        if eventsHead > 4096 && eventsHead * 2 > events.count {
            events.removeFirst(eventsHead)
            eventsHead = 0
        }
    }

    public func conversation(_ sender: String) -> Conversation? {
        bySender[sender].map { conversations[$0] }
    }

    /// The event with sequence number `seq`, if still held.
    public func event(_ seq: Int) -> StoredEvent? {
        guard seq >= firstSeq && seq < nextSeq else { return nil }
        return events[eventsHead + (seq - firstSeq)]
    }

    /// Conversations, most recently active first.
    public func byRecentActivity() -> [Conversation] {
        conversations.sorted { a, b in
            a.lastActivity != b.lastActivity ? a.lastActivity > b.lastActivity : a.index < b.index
        }
    }
}
