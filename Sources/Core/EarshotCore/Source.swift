// The seam every broker adapter implements: a MessageSource delivers raw messages in
// batches, a MessageSink publishes them. Nothing here knows about any broker.

import Synchronization

/// Where a message came from inside its source, kept for the detail view and error reports.
public enum SourcePosition: Sendable, Equatable, Hashable {
    /// A JSON-lines file or stdin: 1-based line number and the byte offset where the line starts.
    case line(number: UInt64, offset: UInt64)
    /// An SQL `events` table row id.
    case row(id: Int64)
    /// A Kafka partition and offset.
    case kafka(partition: Int32, offset: Int64)
    /// An AMQP delivery (delivery tag within this consumer's channel).
    case amqp(deliveryTag: UInt64)
    case none

    public var description: String {
        switch self {
        case let .line(n, off): return "line \(n) (byte \(off))"
        case let .row(id): return "row id \(id)"
        case let .kafka(p, o): return "partition \(p) offset \(o)"
        case let .amqp(tag): return "delivery tag \(tag)"
        case .none: return "-"
        }
    }
}

/// A batch of raw messages in one buffer, so that a flood costs one allocation per batch
/// (a file source hands over the very buffer it read into).
public struct MessageBatch: Sendable {
    /// The payloads, at `starts[i] ..< ends[i]` (gaps between them are not part of any).
    public private(set) var bytes: [UInt8] = []
    public private(set) var starts: [Int] = []
    public private(set) var ends: [Int] = []
    public private(set) var positions: [SourcePosition] = []

    public init() {}

    /// A batch over `buffer`, whose messages are the given ranges.
    public init(buffer: [UInt8], starts: [Int], ends: [Int], positions: [SourcePosition]) {
        precondition(starts.count == ends.count && ends.count == positions.count)
        bytes = buffer
        self.starts = starts
        self.ends = ends
        self.positions = positions
    }

    /// An empty batch with room for `bytes` payload bytes and `messages` messages, so that
    /// filling it does not grow (and copy) its buffer again and again.
    public init(reservingBytes bytes: Int, messages: Int) {
        self.bytes.reserveCapacity(bytes)
        starts.reserveCapacity(messages)
        ends.reserveCapacity(messages)
        positions.reserveCapacity(messages)
    }

    public var count: Int { ends.count }
    public var isEmpty: Bool { ends.isEmpty }

    /// Copies one payload in, followed by a newline that is not part of it: a run of
    /// messages is then already laid out as JSON lines and can be written out as it is.
    public mutating func append<C: Collection>(_ payload: C, at position: SourcePosition) where C.Element == UInt8 {
        starts.append(bytes.count)
        bytes.append(contentsOf: payload)
        ends.append(bytes.count)
        bytes.append(0x0A)
        positions.append(position)
    }

    public mutating func append(_ payload: UnsafeRawBufferPointer, at position: SourcePosition) {
        starts.append(bytes.count)
        bytes.append(contentsOf: payload)
        ends.append(bytes.count)
        bytes.append(0x0A)
        positions.append(position)
    }

    /// The end of the run of messages from `i` on that `include` accepts and that stand in
    /// the buffer as JSON lines: each followed by one newline and then by the next. Message
    /// `i ..< end` and their newlines are the bytes `starts[i] ... ends[end - 1]`.
    @inline(__always)
    public func newlineJoinedRun(from i: Int, while include: (Int) -> Bool) -> Int {
        bytes.withUnsafeBufferPointer { b in
            starts.withUnsafeBufferPointer { st in
                ends.withUnsafeBufferPointer { en in
                    var j = i
                    let n = en.count
                    while j < n, include(j) {
                        let e = en[j]
                        guard e < b.count, b[e] == 0x0A, j + 1 == n || st[j + 1] == e + 1 else { break }
                        j += 1
                    }
                    return j
                }
            }
        }
    }

    public func range(_ i: Int) -> Range<Int> { starts[i] ..< ends[i] }

    /// Calls `body` with each message's bytes (valid only during the call) and its position.
    public func forEach(_ body: (UnsafeRawBufferPointer, SourcePosition) throws -> Void) rethrows {
        try bytes.withUnsafeBytes { all in
            for i in 0 ..< ends.count {
                try body(UnsafeRawBufferPointer(rebasing: all[starts[i] ..< ends[i]]), positions[i])
            }
        }
    }

    public func message(_ i: Int) -> [UInt8] { Array(bytes[range(i)]) }
}

/// What a source says about itself, shown in the status bar and on stderr.
public enum SourceState: Sendable, Equatable {
    case connecting
    /// Waiting for something that does not exist yet (a file, a table), with what it is.
    case waiting(String)
    case live
    case reconnecting(String)
    case failed(String)
    case finished

    public var label: String {
        switch self {
        case .connecting: return "connecting"
        case let .waiting(why): return "waiting: \(why)"
        case .live: return "live"
        case let .reconnecting(why): return "reconnecting: \(why)"
        case let .failed(why): return "failed: \(why)"
        case .finished: return "finished"
        }
    }
}

/// Everything a running source reports, in order, to whoever consumes it.
public enum SourceEvent: Sendable {
    case state(SourceState)
    case messages(MessageBatch)
    /// Everything that existed when the source started has been delivered.
    case backlogDone
    /// Something the user should know that does not stop the source (truncation, rotation...).
    case notice(String)
}

public enum StartPosition: Sendable, Equatable {
    case beginning
    case end
}

public struct SourceOptions: Sendable {
    public var start: StartPosition
    /// Stop after the backlog (what existed at start) has been delivered.
    public var exitAtEnd: Bool
    /// How often a polling source (file, SQL) looks for more, in milliseconds.
    public var pollIntervalMs: Int
    /// Upper bound on the messages in one batch where the source chooses it (an SQL source reads
    /// this many rows per short read transaction; a file source batches what one read returns).
    public var maxBatch: Int

    public init(start: StartPosition = .end, exitAtEnd: Bool = false, pollIntervalMs: Int = 100, maxBatch: Int = 2000) {
        self.start = start
        self.exitAtEnd = exitAtEnd
        self.pollIntervalMs = pollIntervalMs
        self.maxBatch = maxBatch
    }
}

/// A flag a consumer sets to ask a running source to stop; sources check it between reads.
public final class StopToken: Sendable {
    private let flag = Atomic<Bool>(false)
    public init() {}
    public func stop() { flag.store(true, ordering: .releasing) }
    public var isStopped: Bool { flag.load(ordering: .acquiring) }

    /// Sleeps up to `ms` milliseconds, waking early when stopped. Returns false when stopped.
    @discardableResult
    public func sleep(ms: Int) -> Bool {
        var left = ms
        while left > 0 {
            if isStopped { return false }
            let step = min(left, 20)
            sleepMilliseconds(step)
            left -= step
        }
        return !isStopped
    }
}

public struct SourceError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A broker adapter's consuming side. `run` blocks on the calling thread until the source
/// finishes (end of stdin, `exitAtEnd` after the backlog) or `stop` is set, reporting through
/// `emit`. It throws only when it cannot read at all (the message says why, without secrets).
public protocol MessageSource: Sendable {
    /// A name safe to show: credentials removed.
    var label: String { get }
    func run(options: SourceOptions, stop: StopToken, emit: @Sendable (SourceEvent) -> Void) throws
}

/// A broker adapter's publishing side.
public protocol MessageSink: AnyObject {
    var label: String { get }
    /// Publishes one message as-is. `senderID` lets brokers that store or key by sender do so.
    func publish(_ message: [UInt8], senderID: String?) throws
    /// Makes everything published so far durable / delivered.
    func flush() throws
    func close()
}
