// `earshot watch`: the ncurses monitor. One loop owns the state: it reads keys (with a short
// timeout), drains what the source threads queued, and redraws at most ~30 times a second.

import EarshotAdapters
import EarshotCore
import EarshotCurses
import EarshotTUI
import Foundation
import Synchronization

enum WatchCommand {
    static let help = """
    usage: earshot watch SOURCE... [options]

    Opens the monitor: conversations on the left, the selected one's transcript on the right,
    the full JSON of any event, live filters and search. Several sources are merged.

    \(SourceArguments.help)
      --theme NAME|PATH       dark (default), light, monochrome, high-contrast, or a .theme file
      --keys FILE             key bindings (default ~/.config/earshot/keys.conf if it exists):
                              lines `ACTION = KEY, KEY` (see ? in the monitor for actions)
      --capacity N            events held in memory (default 1000000); the oldest go first
      --low-confidence X      intent confidence below X is flagged (default 0.5)
      --stats FILE            append one JSON line per second of frame and lag figures
                              (for benchmarks: events, frames, lag from event time to
                              screen, key-to-screen latency, frame time, start-up)

    NO_COLOR is honoured. Press ? in the monitor for every key.
    """

    static func run(_ args: [String]) -> Int32 {
        var themeName: String?
        var keysFile: String?
        var capacity = 1_000_000
        var threshold = 0.5
        var statsPath: String?
        do {
            let parsed = try SourceArguments.parse(args, command: "watch") { name, arg, cur in
                switch name {
                case "--theme": themeName = try cur.value(for: arg, name)
                case "--keys": keysFile = try cur.value(for: arg, name)
                case "--capacity":
                    guard let n = Int(try cur.value(for: arg, name)), n > 0 else { throw UsageError("--capacity needs a positive number") }
                    capacity = n
                case "--stats": statsPath = try cur.value(for: arg, name)
                case "--low-confidence":
                    guard let x = Double(try cur.value(for: arg, name)), x >= 0, x <= 1 else { throw UsageError("--low-confidence needs a number between 0 and 1") }
                    threshold = x
                default: return false
                }
                return true
            }
            guard let src = parsed else {
                print(help)
                return 0
            }
            let specs = try src.specs()
            let filter = try src.filter()
            let sources = try specs.map { try Adapters.source(for: $0) }
            let theme = try loadTheme(themeName)
            let keys = try loadKeys(keysFile)
            return try loop(sources: sources, options: specs.map { src.options(for: $0) }, filter: filter,
                            theme: theme, keys: keys, capacity: capacity, threshold: threshold,
                            stats: statsPath.map(WatchStats.init))
        } catch let e as UsageError {
            warn(e.message)
            return 2
        } catch {
            warn("\(error)")
            return 1
        }
    }

    /// Where themes are looked for by name: ./themes, the repository's themes/ next to the
    /// build, $XDG_CONFIG_HOME/earshot/themes.
    static func themeSearchPaths() -> [String] {
        var paths = ["themes"]
        let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        paths.append(exe.appendingPathComponent("../../themes").standardized.path)
        paths.append(exe.appendingPathComponent("../../../themes").standardized.path)
        paths.append(exe.appendingPathComponent("../share/earshot/themes").standardized.path)
        let env = ProcessInfo.processInfo.environment
        let config = env["XDG_CONFIG_HOME"] ?? (env["HOME"].map { $0 + "/.config" } ?? "")
        if !config.isEmpty { paths.append(config + "/earshot/themes") }
        return paths
    }

    static func loadTheme(_ name: String?) throws -> Theme {
        guard let name else {
            return (try? Theme.load(named: "dark", searchPaths: themeSearchPaths())) ?? Theme.builtinDark
        }
        do { return try Theme.load(named: name, searchPaths: themeSearchPaths()) } catch {
            throw SourceError("\(error)")
        }
    }

    static func loadKeys(_ file: String?) throws -> KeyTable {
        var path = file
        if path == nil, let home = ProcessInfo.processInfo.environment["HOME"] {
            let p = (ProcessInfo.processInfo.environment["XDG_CONFIG_HOME"] ?? home + "/.config") + "/earshot/keys.conf"
            if FileManager.default.fileExists(atPath: p) { path = p }
        }
        guard let path else { return .defaults }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw SourceError("cannot read key bindings \(path)") }
        do { return try KeyTable.defaults.overridden(by: text, file: path) } catch { throw SourceError("\(error)") }
    }

    static func loop(sources: [MessageSource], options: [SourceOptions], filter: EventFilter, theme: Theme,
                     keys: KeyTable, capacity: Int, threshold: Double, stats: WatchStats?) throws -> Int32 {
        let store = ConversationStore(capacity: capacity, lowConfidenceThreshold: threshold)
        let monitor = Monitor(store: store, sources: sources.map(\.label), filter: filter, keys: keys)
        let queue = EventQueue()
        installStopSignals()
        let terminal: CursesTerminal
        do { terminal = try CursesTerminal(theme: theme, environment: ProcessInfo.processInfo.environment) } catch {
            throw SourceError("\(error)")
        }
        defer { terminal.restore() }
        let done = DispatchSemaphore(value: 0)
        let failures = Mutex<[(Int, String)]>([])
        Thread {
            let f = runSources(sources, options: options, stop: interruptToken) { i, ev in queue.push(i, ev, stop: interruptToken) }
            for (i, why) in f { queue.push(i, .state(.failed(why)), stop: StopToken()) }
            failures.withLock { $0 = f }
            done.signal()
        }.start()

        var dirty = true
        var gotEvents = false
        var lastFrame = 0.0
        while !monitor.quitRequested && !interruptToken.isStopped {
            var input = terminal.read(timeoutMs: dirty ? 0 : 25)
            var handled = false
            let keyTime = input != nil ? TimeParsing.now() : 0
            while let i = input {
                monitor.handle(i)
                if case .resize = i { terminal.invalidate() }
                handled = true
                input = terminal.read(timeoutMs: 0)
            }
            let events = queue.drain()
            for (i, ev) in events {
                monitor.ingest(ev, source: i)
                // The backlog's batch buffers are gone: give their memory back to the system.
                if case .backlogDone = ev { _ = malloc_trim(0) }
            }
            if handled || !events.isEmpty { dirty = true }
            if !events.isEmpty { gotEvents = true }
            let now = TimeParsing.now()
            // Redraws are coalesced: a key is answered at once, data at most ~30 times a second,
            // and once a second anyway for the clocks.
            if (dirty && (handled || now - lastFrame >= 0.033)) || now - lastFrame >= 1 {
                let s = terminal.size
                terminal.draw(monitor.render(width: s.width, height: s.height))
                let drawn = TimeParsing.now()
                stats?.frame(started: now, drawn: drawn, keyTime: handled ? keyTime : nil, newEvents: gotEvents, store: store)
                gotEvents = false
                lastFrame = now
                dirty = false
            }
        }
        interruptToken.stop()
        terminal.restore()
        _ = done.wait(timeout: .now() + 3)
        return 0
    }
}

/// Per-second figures for benchmarks (`--stats FILE`): how far the screen is behind the
/// events (newest event time vs the moment its frame was flushed), key-to-screen latency,
/// frame times, and the time from process start to the first frame.
final class WatchStats {
    let fd: Int32
    var second = 0
    var frames = 0
    var maxLag = 0.0
    var maxKey = 0.0
    var maxFrame = 0.0
    var keys = 0
    var first = true

    init(path: String) {
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
    }

    /// Seconds since this process started (from /proc/self/stat).
    static func sinceProcessStart(now: Double) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
              let uptimeText = try? String(contentsOfFile: "/proc/uptime", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let ticks = Double(fields[19]), let uptime = Double(uptimeText.split(separator: " ")[0]) else { return nil }
        return uptime - ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    func frame(started: Double, drawn: Double, keyTime: Double?, newEvents: Bool, store: ConversationStore) {
        if first {
            first = false
            if let up = WatchStats.sinceProcessStart(now: drawn) { write(#"{"first_frame_ms": \#(fixed(up * 1000, 1))}"#) }
        }
        frames += 1
        maxFrame = max(maxFrame, drawn - started)
        if let k = keyTime { keys += 1; maxKey = max(maxKey, drawn - k) }
        // Lag: the newest event on this frame, from the time it was written to the flush.
        if newEvents, let last = store.event(store.nextSeq - 1), let ts = last.timestamp { maxLag = max(maxLag, drawn - ts) }
        let s = Int(drawn)
        if s != second {
            if second != 0 {
                write(#"{"t": \#(second), "events": \#(store.totalIngested), "held": \#(store.count), "frames": \#(frames), "lag_ms_max": \#(fixed(maxLag * 1000, 1)), "keys": \#(keys), "key_ms_max": \#(fixed(maxKey * 1000, 1)), "frame_ms_max": \#(fixed(maxFrame * 1000, 2))}"#)
            }
            second = s
            frames = 0
            maxLag = 0
            maxKey = 0
            maxFrame = 0
            keys = 0
        }
    }

    func write(_ line: String) {
        guard fd >= 0 else { return }
        let l = line + "\n"
        _ = l.withCString { Glibc.write(fd, $0, strlen($0)) }
    }

    deinit { if fd >= 0 { close(fd) } }
}

/// glibc's malloc_trim (malloc.h is not part of the Glibc module).
@_silgen_name("malloc_trim") func malloc_trim(_ pad: Int) -> Int32
