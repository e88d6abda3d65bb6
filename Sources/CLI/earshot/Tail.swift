// `earshot tail`: the headless front end, for scripts and pipes.

import EarshotAdapters
import EarshotCore
import Foundation
import Synchronization

enum OutputFormat: String {
    case line, jsonl, pretty
}

/// Buffered writes to a file descriptor; a closed pipe (`| head`) ends the program quietly.
struct OutputBuffer {
    let fd: Int32
    var bytes: [UInt8] = []

    init(fd: Int32) {
        self.fd = fd
        bytes.reserveCapacity(1 << 17)
    }

    mutating func append(_ s: String) { bytes.append(contentsOf: s.utf8) }
    mutating func append(_ b: UnsafeRawBufferPointer) { bytes.append(contentsOf: b) }
    mutating func newline() { bytes.append(0x0A) }

    mutating func flushIfLarge() { if bytes.count >= 1 << 16 { flush() } }

    mutating func flush() {
        bytes.withUnsafeBytes { write($0) }
        bytes.removeAll(keepingCapacity: true)
    }

    /// Writes `b` straight out (the buffer must have been flushed first, to keep the order).
    func write(_ b: UnsafeRawBufferPointer) {
        var done = 0
        while done < b.count {
            let n = Glibc.write(fd, b.baseAddress! + done, b.count - done)
            if n < 0 {
                if errno == EINTR { continue }
                if errno == EPIPE { exit(0) }
                warn("cannot write output: \(String(cString: strerror(errno)))")
                exit(1)
            }
            done += n
        }
    }
}

/// Counts and output of one tail run; shared by the source threads under a lock.
final class TailPrinter: @unchecked Sendable {
    private struct State {
        var out = OutputBuffer(fd: 1)
        var read = 0
        var shown = 0
        var undecodable = 0
    }

    private let state = Mutex(State())
    let filter: EventFilter
    let format: OutputFormat
    let labels: [String]
    let quiet: Bool

    /// jsonl with no filter: no field is needed.
    var rawOnly: Bool { format == .jsonl && filter.isEmpty }

    init(filter: EventFilter, format: OutputFormat, labels: [String], quiet: Bool) {
        self.filter = filter
        self.format = format
        self.labels = labels
        self.quiet = quiet
    }

    /// What one message comes to in the line and pretty formats: decoding, filtering and
    /// rendering are independent per message, so a batch is judged on two cores and then
    /// written in order.
    enum Outcome {
        case skip
        case text(String, warnings: [String])
        case bad(Undecodable)
    }

    func judge(_ bytes: UnsafeRawBufferPointer, _ pos: SourcePosition, label: String, tag: String?) -> Outcome {
        switch EventDecoder.decode(bytes) {
        case let .success(d):
            let v = EventView(bytes: bytes, decoded: d)
            guard filter.matches(v) else { return .skip }
            switch format {
            case .jsonl: preconditionFailure("jsonl is handled by handleJSONLines")
            case .pretty: return .text(PrettyJSON.string(bytes) ?? "", warnings: [])
            case .line:
                var warnings: [String] = []
                if !quiet, d.kind == .user || d.kind == .bot {
                    for (f, e) in v.fieldErrors where f == .text || f == .senderID {
                        warnings.append("\(label) \(pos.description): field \(f) \(e)")
                    }
                }
                return .text(Summary.line(v, source: tag), warnings: warnings)
            }
        case let .failure(u):
            return .bad(u)
        }
    }

    func handle(_ batch: MessageBatch, source: Int) {
        if format == .jsonl { return handleJSONLines(batch, source: source) }
        let label = labels[source]
        let tag: String? = labels.count > 1 ? label : nil
        let n = batch.count
        var outcomes = [Outcome](repeating: .skip, count: n)
        outcomes.withUnsafeMutableBufferPointer { out in
            nonisolated(unsafe) let out = out
            Self.inTwoHalves(batch) { range, message in
                for i in range { out[i] = judge(message(i), batch.positions[i], label: label, tag: tag) }
            }
        }
        state.withLock { st in
            batch.bytes.withUnsafeBytes { all in
                for i in 0 ..< n {
                    st.read += 1
                    switch outcomes[i] {
                    case .skip: break
                    case let .text(t, warnings):
                        st.shown += 1
                        st.out.append(t)
                        st.out.newline()
                        for w in warnings {
                            st.out.flush()
                            warn(w)
                        }
                    case let .bad(u):
                        Self.reportUndecodable(&st, u, batch, i, all, label: label)
                    }
                    st.out.flushIfLarge()
                }
            }
            st.out.flush()
        }
    }

    /// jsonl: each message gets a one-byte verdict (on two cores), and runs of shown messages
    /// that already stand as JSON lines in the batch's buffer are written straight from it.
    /// With no filter a message is only validated, not decoded.
    private func handleJSONLines(_ batch: MessageBatch, source: Int) {
        let show: UInt8 = 0, skip: UInt8 = 1, bad: UInt8 = 2
        let n = batch.count
        var verdicts = [UInt8](repeating: show, count: n)
        let problems = Mutex<[(Int, Undecodable)]>([])
        let raw = rawOnly
        // Types alone: the quick validator finds the type without decoding the message.
        let byType = !raw && filter.filtersTypesOnly
        verdicts.withUnsafeMutableBufferPointer { out in
            nonisolated(unsafe) let out = out
            Self.inTwoHalves(batch) { range, message in
                var found: [(Int, Undecodable)] = []
                for i in range {
                    let bytes = message(i)
                    if raw {
                        if let u = EventDecoder.validate(bytes) { out[i] = bad; found.append((i, u)) }
                    } else if byType, let t = EventDecoder.quickType(bytes) {
                        if !filter.matches(kind: t.kind, name: { String(decoding: bytes[t.name], as: UTF8.self) }) { out[i] = skip }
                    } else {
                        switch EventDecoder.decode(bytes) {
                        case let .success(d):
                            if !filter.matches(EventView(bytes: bytes, decoded: d)) { out[i] = skip }
                        case let .failure(u):
                            out[i] = bad
                            found.append((i, u))
                        }
                    }
                }
                if !found.isEmpty { problems.withLock { $0 += found } }
            }
        }
        let reasons = Dictionary(problems.withLock { $0 }, uniquingKeysWith: { a, _ in a })
        let label = labels[source]
        state.withLock { st in
            st.read += n
            batch.bytes.withUnsafeBytes { all in
                var i = 0
                while i < n {
                    switch verdicts[i] {
                    case skip:
                        i += 1
                    case bad:
                        Self.reportUndecodable(&st, reasons[i]!, batch, i, all, label: label)
                        i += 1
                    default:
                        // The longest run of shown messages joined by single newlines.
                        let j = verdicts.withUnsafeBufferPointer { v in batch.newlineJoinedRun(from: i) { v[$0] == show } }
                        if j > i {
                            st.shown += j - i
                            let run = UnsafeRawBufferPointer(rebasing: all[batch.starts[i] ..< batch.ends[j - 1] + 1])
                            if run.count >= 1 << 16 {
                                st.out.flush()
                                st.out.write(run)
                            } else {
                                st.out.append(run)
                                st.out.flushIfLarge()
                            }
                            i = j
                        } else {
                            st.shown += 1
                            st.out.append(UnsafeRawBufferPointer(rebasing: all[batch.range(i)]))
                            st.out.newline()
                            st.out.flushIfLarge()
                            i += 1
                        }
                    }
                }
            }
            st.out.flush()
        }
    }

    /// Runs `body` over the batch's message indices in two halves on two threads (one for
    /// small batches); `message(i)` gives message i's bytes.
    private static func inTwoHalves(_ batch: MessageBatch,
                                    _ body: @Sendable (Range<Int>, (Int) -> UnsafeRawBufferPointer) -> Void) {
        let n = batch.count
        batch.bytes.withUnsafeBytes { all in
            nonisolated(unsafe) let all = all
            let parts = n >= 512 ? 2 : 1
            DispatchQueue.concurrentPerform(iterations: parts) { p in
                body(n * p / parts ..< n * (p + 1) / parts) { UnsafeRawBufferPointer(rebasing: all[batch.range($0)]) }
            }
        }
    }

    private static func reportUndecodable(_ st: inout State, _ u: Undecodable, _ batch: MessageBatch, _ i: Int,
                                          _ all: UnsafeRawBufferPointer, label: String) {
        st.undecodable += 1
        st.out.flush()
        let bytes = UnsafeRawBufferPointer(rebasing: all[batch.range(i)])
        warn("undecodable message at \(label) \(batch.positions[i].description): \(u.description): \(preview(bytes))")
    }

    func summary() -> (read: Int, shown: Int, undecodable: Int) {
        state.withLock { st in
            st.out.flush()
            return (st.read, st.shown, st.undecodable)
        }
    }
}

/// The start of a message as safe text, for error reports.
func preview(_ bytes: UnsafeRawBufferPointer, limit: Int = 60) -> String {
    let text = String(decoding: bytes.prefix(limit * 4), as: UTF8.self)
    return "«" + clipped(sanitize(text), limit) + "»" + (bytes.count > limit * 4 ? " (\(bytes.count) bytes)" : "")
}

/// Set by SIGINT / SIGTERM / SIGHUP: every running source stops at its next check.
let interruptToken = StopToken()

func installStopSignals() {
    signal(SIGPIPE, SIG_IGN)
    // A parent may have left these blocked (the mask is inherited across exec).
    var set = sigset_t()
    sigemptyset(&set)
    for sig in [SIGINT, SIGTERM, SIGHUP] {
        signal(sig) { _ in interruptToken.stop() }
        sigaddset(&set, sig)
    }
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
}

/// Runs every source on its own thread until all are finished; returns the failures.
func runSources(_ sources: [MessageSource], options: [SourceOptions], stop: StopToken,
                handle: @escaping @Sendable (Int, SourceEvent) -> Void) -> [(Int, String)] {
    let failures = Mutex<[(Int, String)]>([])
    let group = DispatchGroup()
    for (i, src) in sources.enumerated() {
        group.enter()
        let opts = options[i]
        let t = Thread {
            do {
                try src.run(options: opts, stop: stop) { ev in handle(i, ev) }
            } catch {
                failures.withLock { $0.append((i, "\(error)")) }
            }
            group.leave()
        }
        t.stackSize = 8 << 20
        t.start()
    }
    group.wait()
    return failures.withLock { $0 }
}

enum TailCommand {
    static let help = """
    usage: earshot tail SOURCE... [options]

    Prints the events of a Rasa event broker as they arrive: one line each, the raw
    messages as JSON lines (for jq), or indented JSON.

    \(SourceArguments.help)
      -f, --format FORMAT     line (default): time, sender, type and a one-line summary;
                              jsonl: each raw message byte for byte, one per line;
                              pretty: indented JSON
      -q, --quiet             no summary on stderr at the end

    Undecodable messages are reported on stderr with their position, never dropped
    silently, and counted in the summary.
    Exit status: 0 when the source was read, 1 when it could not be, 2 for usage errors.

    examples:
      earshot tail rasa_event.log --from-beginning --exit-at-end --type bot --format jsonl | jq .text
      earshot tail sqlite:///srv/rasa/events.db --sender 'user-4*' --grep weather
      earshot tail --endpoints endpoints.yml --exclude-type action,slot
    """

    static func run(_ args: [String]) -> Int32 {
        var format = OutputFormat.line
        var quiet = false
        do {
            let parsed = try SourceArguments.parse(args, command: "tail") { name, arg, cur in
                switch name {
                case "-f", "--format":
                    let v = try cur.value(for: arg, name)
                    guard let f = OutputFormat(rawValue: v) else { throw UsageError("--format must be line, jsonl or pretty, not '\(v)'") }
                    format = f
                case "-q", "--quiet": quiet = true
                default: return false
                }
                return true
            }
            guard let src = parsed else {
                print(help)
                return 0
            }
            let quiet = quiet
            let specs = try src.specs()
            let filter = try src.filter(quiet: quiet)
            let sources = try specs.map { try Adapters.source(for: $0) }
            let printer = TailPrinter(filter: filter, format: format, labels: sources.map(\.label), quiet: quiet)
            installStopSignals()
            // Sources read on their threads; decoding and printing happen on this one, so that
            // reading (an SQL query, a socket) and decoding overlap on two cores.
            let queue = EventQueue(limitBytes: 16 << 20)
            let finished = Mutex<[(Int, String)]?>(nil)
            let options = specs.map { src.options(for: $0) }
            Thread {
                let f = runSources(sources, options: options, stop: interruptToken) { i, ev in
                    queue.push(i, ev, stop: interruptToken)
                }
                finished.withLock { $0 = f }
                queue.wake()
            }.start()
            var failures: [(Int, String)] = []
            while true {
                let done = finished.withLock { $0 }
                // Once the sources are done, take what is left without waiting: their last
                // wake-up may already have been used up by an earlier wait.
                for (i, ev) in done == nil ? queue.waitAndDrain(timeoutMs: 100) : queue.drain() {
                    switch ev {
                    case let .messages(b): printer.handle(b, source: i)
                    case let .notice(n): if !quiet { warn("\(sources[i].label): \(n)") }
                    case let .state(.waiting(why)): if !quiet { warn("\(sources[i].label): waiting: \(why)") }
                    case let .state(.reconnecting(why)): if !quiet { warn("\(sources[i].label): \(why)") }
                    default: break
                    }
                }
                if let done { failures = done; break }
            }
            let s = printer.summary()
            for (i, why) in failures { warn("\(sources[i].label): \(why)") }
            if !quiet {
                var line = "\(s.read) message\(s.read == 1 ? "" : "s") read, \(s.shown) shown"
                if s.read - s.shown - s.undecodable > 0 { line += ", \(s.read - s.shown - s.undecodable) filtered out" }
                line += ", \(s.undecodable) undecodable"
                warn(line)
            }
            return failures.isEmpty ? 0 : 1
        } catch let e as UsageError {
            warn(e.message)
            return 2
        } catch {
            warn("\(error)")
            return 1
        }
    }
}
