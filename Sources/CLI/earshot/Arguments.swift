// Command-line parsing shared by the subcommands: sources and filters are read the same
// way everywhere.

import EarshotCore
import EarshotEndpoints
import Foundation

struct UsageError: Error, CustomStringConvertible {
    var message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}

/// `--opt` of `--opt=value` (or the argument itself).
func optionName(_ arg: String) -> String {
    arg.split(separator: "=", maxSplits: 1).first.map(String.init) ?? arg
}

/// A cursor over argv that understands `--opt value`, `--opt=value` and `-o value`.
struct ArgumentCursor {
    private var args: [String]
    private var i = 0

    init(_ args: [String]) { self.args = args }

    var isAtEnd: Bool { i >= args.count }

    mutating func next() -> String? {
        guard i < args.count else { return nil }
        defer { i += 1 }
        return args[i]
    }

    /// The value of option `name` (given as `--name=value` in `arg` or as the next argument).
    mutating func value(for arg: String, _ name: String) throws -> String {
        if let eq = arg.firstIndex(of: "=") { return String(arg[arg.index(after: eq)...]) }
        guard let v = next() else { throw UsageError("\(name) needs a value") }
        return v
    }
}

/// The options every consuming command takes: where to read, where to start, what to show.
struct SourceArguments {
    var sources: [String] = []
    var endpoints: String?
    var start: StartPosition?
    var exitAtEnd = false
    var include: Set<String> = []
    var exclude: Set<String> = []
    var sender: String?
    var grep: String?
    var since: String?

    static let help = """
      SOURCE                  a JSON-lines file (Rasa's file broker) or file:///path, - for stdin,
                              sqlite:///path/events.db, postgresql://user:pass@host:5432/db,
                              kafka://host:9092/topic, amqp[s]://user:pass@host:5672/vhost?exchange=NAME
                              (or ?queue=NAME to consume a named queue)
      --endpoints FILE        read the event_broker section of a Rasa endpoints.yml instead
      --from-beginning        read everything the source holds, then follow
      --from-end              only what arrives from now on (the default for live sources,
                              unless --exit-at-end is given)
      -e, --exit-at-end       stop when the backlog is read (implies --from-beginning unless
                              --from-end is given)
      -t, --type LIST         only these event types, comma separated (user,bot,action,slot,...)
      -x, --exclude-type LIST leave out these event types
      -s, --sender GLOB       only conversations whose sender id matches (*, ?, [a-z])
      -g, --grep TEXT         only events whose text, intent, action or slot name contains TEXT
                              (case-insensitive)
      --since TIME            only events at or after TIME: ISO 8601 (2025-04-19T10:00:00Z),
                              Unix seconds, or a duration back from now (90s, 15m, 2h, 1d)
    """

    /// The option loop every consuming command shares: source and filter options here,
    /// `-h`/`--help` (nil: the caller prints its help), then `own(name, arg, &cursor)` for the
    /// command's options; what nobody takes is a usage error.
    static func parse(_ args: [String], command: String,
                      own: (String, String, inout ArgumentCursor) throws -> Bool) throws -> SourceArguments? {
        var src = SourceArguments()
        var cur = ArgumentCursor(args)
        while let arg = cur.next() {
            if try src.take(arg, &cur) { continue }
            let name = optionName(arg)
            if name == "-h" || name == "--help" { return nil }
            if try own(name, arg, &cur) { continue }
            throw UsageError("unknown option '\(arg)' (see earshot \(command) --help)")
        }
        return src
    }

    /// Takes `arg` if it is one of ours; returns false otherwise.
    mutating func take(_ arg: String, _ cur: inout ArgumentCursor) throws -> Bool {
        let name = optionName(arg)
        switch name {
        case "--endpoints": endpoints = try cur.value(for: arg, name)
        case "--from-beginning": start = .beginning
        case "--from-end": start = .end
        case "-e", "--exit-at-end": exitAtEnd = true
        case "-t", "--type": include.formUnion(try list(cur.value(for: arg, name), name))
        case "-x", "--exclude-type": exclude.formUnion(try list(cur.value(for: arg, name), name))
        case "-s", "--sender": sender = try cur.value(for: arg, name)
        case "-g", "--grep": grep = try cur.value(for: arg, name)
        case "--since": since = try cur.value(for: arg, name)
        default:
            if arg == "-" || !arg.hasPrefix("-") { sources.append(arg); return true }
            return false
        }
        return true
    }

    private func list(_ v: String, _ name: String) throws -> Set<String> {
        let items = v.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        if items.isEmpty { throw UsageError("\(name) needs at least one event type") }
        return Set(items)
    }

    func filter(now: Double = TimeParsing.now(), quiet: Bool = false) throws -> EventFilter {
        var since: Double?
        if let s = self.since {
            guard let t = TimeParsing.parseSince(s, now: now) else {
                throw UsageError("--since: cannot read '\(s)'; use ISO 8601 (2025-04-19T10:00:00Z), Unix seconds, or a duration such as 15m")
            }
            since = t
        }
        let known = Set(EventKind.allCases.map(\.typeName))
        for t in include.union(exclude) where !quiet && !known.contains(EventFilter.canonical(t)) {
            warn("event type '\(t)' is not one Rasa is known to send; filtering on it anyway")
        }
        return EventFilter(includeTypes: include, excludeTypes: exclude, senderGlob: sender, search: grep, since: since)
    }

    /// The specs to read, from SOURCE arguments and/or --endpoints.
    func specs() throws -> [SourceSpec] {
        var out: [SourceSpec] = []
        if let endpoints {
            let config: EndpointsConfig
            do {
                config = try EndpointsConfig.load(path: endpoints, environment: ProcessInfo.processInfo.environment)
            } catch {
                throw SourceError("\(endpoints): \(error)")
            }
            for w in config.warnings { warn(w) }
            out.append(config.spec)
        }
        for s in sources {
            do { out.append(try SourceSpec.parse(s)) } catch { throw UsageError("\(error)") }
        }
        if out.isEmpty { throw UsageError("no SOURCE given (a file, -, sqlite:///path, ... or --endpoints FILE)") }
        return out
    }

    func options(for spec: SourceSpec) -> SourceOptions {
        let start = self.start ?? ((exitAtEnd || !spec.isLive) ? .beginning : .end)
        return SourceOptions(start: start, exitAtEnd: exitAtEnd)
    }
}

func warn(_ message: String) {
    FileHandle.standardError.write(Data(("earshot: " + sanitize(message) + "\n").utf8))
}
