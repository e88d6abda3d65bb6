// `earshot demo`: the embedded default. A simulated assistant holds several conversations
// and writes Rasa-format events into a local SQLite events table (Rasa's schema), at a human
// pace, while Earshot watches it.

import EarshotAdapters
import EarshotCore
import Foundation

enum DemoCommand {
    static let defaultDatabase = "earshot-demo/events.db"

    static let help = """
    usage: earshot demo [DB] [options]
           earshot demo --write-only DB [options]

    Runs a simulated Rasa assistant that writes its tracker events into the SQLite table
    `events` of DB (default \(defaultDatabase)), exactly as Rasa's SQL event broker does,
    and watches it live in the monitor (or with `earshot tail` when the output is not a
    terminal). DB may also be sqlite:///path, or a JSON-lines file (any path
    not ending in .db, .sqlite or .sqlite3), written as Rasa's file broker does.

      --write-only DB         only write (for tests and other front ends); do not watch
      --conversations N       conversations held at once (default 4)
      --rate N                N events per second instead of a human pace
      --count N               stop after writing N events
      --seed N                the simulation's seed (default: from the clock)
      --fresh                 delete DB first

    The watching side takes the same options as `earshot watch` (--type, --sender, --theme, ...).
    """

    struct Config {
        var path = defaultDatabase
        var conversations = 4
        var rate: Double?
        var count: Int?
        var seed = UInt64(TimeParsing.now() * 1000)
        var fresh = false
    }

    static func run(_ args: [String]) -> Int32 {
        var cfg = Config()
        var writeOnly = false
        var tailArgs: [String] = []
        var cur = ArgumentCursor(args)
        var sawPath = false
        do {
            while let arg = cur.next() {
                let name = optionName(arg)
                switch name {
                case "-h", "--help":
                    print(help)
                    return 0
                case "--write-only":
                    writeOnly = true
                    cfg.path = try cur.value(for: arg, name)
                    sawPath = true
                case "--conversations":
                    guard let n = Int(try cur.value(for: arg, name)), n > 0 else { throw UsageError("--conversations needs a positive number") }
                    cfg.conversations = n
                case "--rate":
                    guard let r = Double(try cur.value(for: arg, name)), r > 0 else { throw UsageError("--rate needs a positive number of events per second") }
                    cfg.rate = r
                case "--count":
                    guard let n = Int(try cur.value(for: arg, name)), n >= 0 else { throw UsageError("--count needs a number") }
                    cfg.count = n
                case "--seed":
                    guard let n = UInt64(try cur.value(for: arg, name)) else { throw UsageError("--seed needs a whole number") }
                    cfg.seed = n
                case "--fresh": cfg.fresh = true
                default:
                    if !arg.hasPrefix("-") && !sawPath {
                        cfg.path = arg
                        sawPath = true
                    } else {
                        tailArgs.append(arg)
                    }
                }
            }
        } catch let e as UsageError {
            warn(e.message)
            return 2
        } catch {
            warn("\(error)")
            return 2
        }
        if writeOnly && !tailArgs.isEmpty {
            warn("unknown option '\(tailArgs[0])' (see earshot demo --help)")
            return 2
        }
        let spec: SourceSpec
        do { spec = try target(cfg.path) } catch {
            warn("\(error)")
            return 2
        }
        if case let .sqlite(p) = spec { cfg.path = p } else if case let .file(p) = spec { cfg.path = p }
        let dir = (cfg.path as NSString).deletingLastPathComponent
        if !dir.isEmpty { try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        if cfg.fresh {
            for suffix in ["", "-journal", "-wal", "-shm"] { unlink(cfg.path + suffix) }
        }
        installStopSignals()
        if writeOnly {
            do {
                try write(cfg, to: spec, stop: interruptToken)
                return 0
            } catch {
                warn("\(error)")
                return 1
            }
        }
        // Create the database (and its table) before watching it, so the watcher has no wait.
        do { try Adapters.sink(for: spec).close() } catch {
            warn("\(error)")
            return 1
        }
        // Write on a thread, watch on this one (with tail until the TUI takes over).
        let config = cfg
        let writer = Thread {
            do { try write(config, to: spec, stop: interruptToken) } catch {
                warn("demo writer: \(error)")
                interruptToken.stop()
            }
        }
        writer.start()
        let watched: String
        if case .sqlite = spec { watched = "sqlite://" + absolute(cfg.path) } else { watched = cfg.path }
        // The monitor on a terminal; lines (tail) when the output is a pipe or file.
        if isatty(0) == 1 && isatty(1) == 1 {
            return WatchCommand.run([watched, "--from-beginning"] + tailArgs)
        }
        warn("demo: a simulated assistant is writing into \(cfg.path); watching it (Ctrl-C to stop)")
        return TailCommand.run([watched, "--from-beginning"] + tailArgs)
    }

    static func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    /// Where the demo writes: SQLite for database-looking paths, else a JSON-lines file.
    static func target(_ text: String) throws -> SourceSpec {
        let spec = try SourceSpec.parse(text)
        switch spec {
        case let .file(path):
            let lower = path.lowercased()
            if lower.hasSuffix(".db") || lower.hasSuffix(".sqlite") || lower.hasSuffix(".sqlite3") { return .sqlite(path: path) }
            return spec
        case .sqlite: return spec
        default: throw UsageError("the demo writes into SQLite or a JSON-lines file, not \(spec.label)")
        }
    }

    /// Writes simulated events through a sink until stopped or `count` is reached.
    static func write(_ cfg: Config, to spec: SourceSpec, stop: StopToken) throws {
        let sink = try Adapters.sink(for: spec)
        defer { sink.close() }
        var sim = RasaSimulator(seed: cfg.seed, concurrentConversations: cfg.conversations, startTime: TimeParsing.now())
        var written = 0
        let started = TimeParsing.now()
        while !stop.isStopped {
            if let count = cfg.count, written >= count { break }
            let ev = sim.next(at: TimeParsing.now())
            try sink.publish(ev.json, senderID: ev.senderID)
            written += 1
            if let rate = cfg.rate {
                // Keep to the rate on average, sleeping only when ahead of it.
                let due = started + Double(written) / rate
                let ahead = due - TimeParsing.now()
                if ahead > 0.001 { stop.sleep(ms: Int(ahead * 1000)) }
            } else {
                stop.sleep(ms: Int(sim.nextDelay() * 1000))
            }
        }
    }
}
