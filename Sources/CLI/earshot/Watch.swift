// `earshot watch`: the ncurses monitor. One loop owns the state: it reads keys (with a short
// timeout), drains what the source threads queued, and redraws at most ~30 times a second.

import EarshotAdapters
import EarshotCore
import EarshotCurses
import EarshotTUI
import Foundation
import Synchronization

/// Source events from every source thread, waiting for the loop.
final class EventQueue: Sendable {
    private let items = Mutex<[(Int, SourceEvent)]>([])
    func push(_ source: Int, _ ev: SourceEvent) { items.withLock { $0.append((source, ev)) } }
    func drain() -> [(Int, SourceEvent)] { items.withLock { q in defer { q.removeAll(keepingCapacity: true) }; return q } }
}

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

    NO_COLOR is honoured. Press ? in the monitor for every key.
    """

    static func run(_ args: [String]) -> Int32 {
        var src = SourceArguments()
        var themeName: String?
        var keysFile: String?
        var capacity = 1_000_000
        var threshold = 0.5
        var cur = ArgumentCursor(args)
        do {
            while let arg = cur.next() {
                if try src.take(arg, &cur) { continue }
                let name = arg.split(separator: "=", maxSplits: 1).first.map(String.init) ?? arg
                switch name {
                case "-h", "--help":
                    print(help)
                    return 0
                case "--theme": themeName = try cur.value(for: arg, name)
                case "--keys": keysFile = try cur.value(for: arg, name)
                case "--capacity":
                    guard let n = Int(try cur.value(for: arg, name)), n > 0 else { throw UsageError("--capacity needs a positive number") }
                    capacity = n
                case "--low-confidence":
                    guard let x = Double(try cur.value(for: arg, name)), x >= 0, x <= 1 else { throw UsageError("--low-confidence needs a number between 0 and 1") }
                    threshold = x
                default: throw UsageError("unknown option '\(arg)' (see earshot watch --help)")
                }
            }
            let specs = try src.specs()
            let filter = try src.filter()
            let sources = try specs.map { try Adapters.source(for: $0) }
            let theme = try loadTheme(themeName)
            let keys = try loadKeys(keysFile)
            return try loop(sources: sources, options: specs.map { src.options(for: $0) }, filter: filter,
                            theme: theme, keys: keys, capacity: capacity, threshold: threshold)
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
                     keys: KeyTable, capacity: Int, threshold: Double) throws -> Int32 {
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
            let f = runSources(sources, options: options, stop: interruptToken) { i, ev in queue.push(i, ev) }
            for (i, why) in f { queue.push(i, .state(.failed(why))) }
            failures.withLock { $0 = f }
            done.signal()
        }.start()

        var dirty = true
        var lastFrame = 0.0
        while !monitor.quitRequested && !interruptToken.isStopped {
            var input = terminal.read(timeoutMs: dirty ? 0 : 25)
            var handled = false
            while let i = input {
                monitor.handle(i)
                if case .resize = i { terminal.invalidate() }
                handled = true
                input = terminal.read(timeoutMs: 0)
            }
            let events = queue.drain()
            for (i, ev) in events { monitor.ingest(ev, source: i) }
            if handled || !events.isEmpty { dirty = true }
            let now = TimeParsing.now()
            // Redraws are coalesced: a key is answered at once, data at most ~30 times a second,
            // and once a second anyway for the clocks.
            if (dirty && (handled || now - lastFrame >= 0.033)) || now - lastFrame >= 1 {
                let s = terminal.size
                terminal.draw(monitor.render(width: s.width, height: s.height))
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
