// Events grouped per sender, in arrival order, bounded: when the cap is reached the oldest
// events go first and are counted, never silently.

/// One held event, as handed out by the store: a small record plus access to its raw bytes,
/// which stay in the store's arena (copied only when `raw` is asked for).
public struct StoredEvent: @unchecked Sendable {
    public let seq: Int
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
    let store: ConversationStore
    let chunk: Int
    let offset: Int
    let length: Int

    public var typeName: String { undecodable != nil ? "undecodable" : (unknownName ?? kind.typeName) }

    /// The message exactly as it arrived.
    public var raw: [UInt8] { store.arena.withBytes(chunk: chunk, offset: offset, length: length) { [UInt8]($0) } }

    /// Calls `body` with the raw bytes, without copying them.
    public func withRaw<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        store.arena.withBytes(chunk: chunk, offset: offset, length: length, body)
    }

    /// A view of the decoded event (nil when undecodable); decoding again is cheaper than
    /// keeping every field position in memory.
    public func withView<R>(_ body: (EventView) -> R) -> R? {
        guard undecodable == nil else { return nil }
        return withRaw { buf in
            guard case let .success(d) = EventDecoder.decode(buf) else { return nil }
            return body(EventView(bytes: buf, decoded: d))
        }
    }
}

/// Raw bytes of held events, back to back in large chunks, freed chunk by chunk as the
/// oldest events are evicted. One allocation per few thousand events instead of one each.
final class ByteArena {
    static let chunkSize = 4 << 20
    private var chunks: [[UInt8]] = []
    /// Index of `chunks[0]` among all chunks ever made.
    private var firstChunk = 0

    func append(_ bytes: UnsafeRawBufferPointer) -> (chunk: Int, offset: Int) {
        if chunks.isEmpty || chunks[chunks.count - 1].count + bytes.count > chunks[chunks.count - 1].capacity {
            var c = [UInt8]()
            c.reserveCapacity(max(ByteArena.chunkSize, bytes.count))
            chunks.append(c)
        }
        let i = chunks.count - 1
        let offset = chunks[i].count
        chunks[i].append(contentsOf: bytes)
        return (firstChunk + i, offset)
    }

    func withBytes<R>(chunk: Int, offset: Int, length: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        chunks[chunk - firstChunk].withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[offset ..< offset + length])) }
    }

    /// Frees every chunk before `chunk`.
    func free(before chunk: Int) {
        let n = min(chunk - firstChunk, chunks.count - 1)
        guard n > 0 else { return }
        chunks.removeFirst(n)
        firstChunk += n
    }
}

/// An append-only array indexed from 0 whose oldest elements can be dropped, stored in
/// fixed-size blocks (no doubling slack; dropped blocks are freed).
struct BlockArray<Element> {
    static var blockSize: Int { 1 << 15 }
    private var blocks: [ContiguousArray<Element>] = []
    /// Index of the first element of blocks[0].
    private var base = 0
    private(set) var endIndex = 0

    mutating func append(_ e: Element) {
        if blocks.isEmpty || blocks[blocks.count - 1].count == Self.blockSize {
            var b = ContiguousArray<Element>()
            b.reserveCapacity(Self.blockSize)
            blocks.append(b)
        }
        blocks[blocks.count - 1].append(e)
        endIndex += 1
    }

    subscript(i: Int) -> Element {
        let k = i - base
        return blocks[k / Self.blockSize][k % Self.blockSize]
    }

    /// Frees the blocks that hold only elements before `i`.
    mutating func dropBefore(_ i: Int) {
        let whole = (i - base) / Self.blockSize
        if whole > 0 && whole < blocks.count {
            blocks.removeFirst(whole)
            base += whole * Self.blockSize
        }
    }
}

/// What the store keeps per event: 48 bytes besides the raw bytes.
struct EventRecord {
    var chunk: UInt32
    var offset: UInt32
    var length: UInt32
    var conversation: UInt32
    /// NaN when the event has no usable timestamp.
    var timestamp: Double
    var position: SourcePosition
    var source: UInt16
    var kind: EventKind
    var flags: UInt8

    static let lowConfidence: UInt8 = 1
    static let undecodable: UInt8 = 2
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
    let arena = ByteArena()
    /// Records by seq, in fixed blocks: no doubling slack, and evicted blocks are freed whole.
    private var records = BlockArray<EventRecord>()
    private var firstSeq = 0
    /// The rare extras: names of unknown types and reasons of undecodable messages, by seq.
    private var unknownNames: [Int: String] = [:]
    private var reasons: [Int: Undecodable] = [:]
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
        let seq = nextSeq
        var sender = ""
        var kind = EventKind.unknown
        var typeName: String
        var ts: Double?
        var bad: Undecodable?
        var low = false
        switch EventDecoder.decode(bytes) {
        case let .success(d):
            let v = EventView(bytes: bytes, decoded: d)
            sender = v.senderID ?? ""
            kind = d.kind
            if kind == .unknown {
                typeName = v.typeName
                unknownNames[seq] = typeName
            } else {
                typeName = kind.typeName
            }
            ts = v.timestamp
            low = v.isLowConfidence(threshold: lowConfidenceThreshold)
        case let .failure(u):
            bad = u
            reasons[seq] = u
            typeName = "undecodable"
        }
        let ci = conversationIndex(sender, arrival: arrival)
        let (chunk, offset) = arena.append(bytes)
        records.append(EventRecord(chunk: UInt32(chunk), offset: UInt32(offset), length: UInt32(bytes.count),
                                   conversation: UInt32(ci), timestamp: ts ?? .nan, position: position,
                                   source: UInt16(truncatingIfNeeded: source), kind: kind,
                                   flags: (low ? EventRecord.lowConfidence : 0) | (bad != nil ? EventRecord.undecodable : 0)))
        nextSeq += 1
        countsByType[typeName, default: 0] += 1
        if bad != nil { undecodable += 1 }
        // In place: a copy of the conversation would copy its whole seqs array on every add.
        modify(&conversations[ci]) { c in
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
        }
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
        let seq = firstSeq
        let r = records[seq]
        let name: String
        if r.flags & EventRecord.undecodable != 0 { name = "undecodable"; reasons[seq] = nil } else if r.kind == .unknown {
            name = unknownNames.removeValue(forKey: seq) ?? "unknown"
        } else { name = r.kind.typeName }
        firstSeq += 1
        records.dropBefore(firstSeq)
        evicted += 1
        let ci = Int(r.conversation)
        modify(&conversations[ci]) { c in
            c.head += 1
            c.evicted += 1
            c.countsByType[name, default: 1] -= 1
            if c.countsByType[name] == 0 { c.countsByType[name] = nil }
            if r.flags & EventRecord.lowConfidence != 0 { c.lowConfidence -= 1 }
            if r.flags & EventRecord.undecodable != 0 { c.undecodable -= 1 }
            // Compact now and then so memory stays bounded.
            if c.head > 1024 && c.head * 2 > c.seqs.count {
                c.seqs.removeFirst(c.head)
                c.head = 0
            }
        }
        countsByType[name, default: 1] -= 1
        if countsByType[name] == 0 { countsByType[name] = nil }
        if firstSeq < nextSeq { arena.free(before: Int(records[firstSeq].chunk)) }
    }

    public func conversation(_ sender: String) -> Conversation? {
        bySender[sender].map { conversations[$0] }
    }

    /// The conversation of the event with sequence number `seq`, if still held.
    @inline(__always)
    public func conversationIndex(ofSeq seq: Int) -> Int? {
        guard seq >= firstSeq && seq < nextSeq else { return nil }
        return Int(records[seq].conversation)
    }

    /// The event with sequence number `seq`, if still held.
    public func event(_ seq: Int) -> StoredEvent? {
        guard seq >= firstSeq && seq < nextSeq else { return nil }
        let r = records[seq]
        let bad = r.flags & EventRecord.undecodable != 0
        return StoredEvent(seq: seq, position: r.position, source: Int(r.source), kind: r.kind,
                           unknownName: r.kind == .unknown && !bad ? unknownNames[seq] : nil,
                           timestamp: r.timestamp.isNaN ? nil : r.timestamp, conversation: Int(r.conversation),
                           undecodable: bad ? reasons[seq] : nil, lowConfidence: r.flags & EventRecord.lowConfidence != 0,
                           store: self, chunk: Int(r.chunk), offset: Int(r.offset), length: Int(r.length))
    }

    @inline(__always)
    private func modify(_ c: inout Conversation, _ body: (inout Conversation) -> Void) { body(&c) }

    /// Conversations, most recently active first.
    public func byRecentActivity() -> [Conversation] {
        conversations.sorted { a, b in
            a.lastActivity != b.lastActivity ? a.lastActivity > b.lastActivity : a.index < b.index
        }
    }
}
