// Input, and the key table: bindings are data (keys, description, action). The help bar and
// the help screen are generated from the same table, and a config file can override it.

public enum Key: Hashable, Sendable {
    case char(Character)
    case ctrl(Character)
    case up, down, left, right, pageUp, pageDown, home, end
    case enter, escape, tab, backTab, backspace, delete
    case function(Int)

    /// The name used in help and in key config files: `j`, `Down`, `PgDn`, `C-c`, `Space`.
    public var name: String {
        switch self {
        case .char(" "): return "Space"
        case let .char(c): return String(c)
        case let .ctrl(c): return "C-\(c)"
        case .up: return "Up"
        case .down: return "Down"
        case .left: return "Left"
        case .right: return "Right"
        case .pageUp: return "PgUp"
        case .pageDown: return "PgDn"
        case .home: return "Home"
        case .end: return "End"
        case .enter: return "Enter"
        case .escape: return "Esc"
        case .tab: return "Tab"
        case .backTab: return "S-Tab"
        case .backspace: return "Backspace"
        case .delete: return "Delete"
        case let .function(n): return "F\(n)"
        }
    }

    /// Parses a key name as written in a config file.
    public init?(name: String) {
        let all: [Key] = [.up, .down, .left, .right, .pageUp, .pageDown, .home, .end, .enter, .escape, .tab, .backTab, .backspace, .delete]
        if let k = all.first(where: { $0.name.lowercased() == name.lowercased() }) { self = k; return }
        switch name.lowercased() {
        case "space": self = .char(" "); return
        case "return": self = .enter; return
        case "pageup": self = .pageUp; return
        case "pagedown": self = .pageDown; return
        default: break
        }
        if name.count == 1, let c = name.first { self = .char(c); return }
        if name.lowercased().hasPrefix("c-"), name.count == 3, let c = name.last { self = .ctrl(Character(c.lowercased())); return }
        if name.uppercased().hasPrefix("F"), let n = Int(name.dropFirst()), (1 ... 24).contains(n) { self = .function(n); return }
        return nil
    }
}

public enum MouseAction: Sendable, Equatable {
    case press, wheelUp, wheelDown
}

public struct MouseEvent: Sendable, Equatable {
    public var x: Int
    public var y: Int
    public var action: MouseAction
    public init(x: Int, y: Int, action: MouseAction) {
        self.x = x
        self.y = y
        self.action = action
    }
}

public enum InputEvent: Sendable, Equatable {
    case key(Key)
    case mouse(MouseEvent)
    case resize(width: Int, height: Int)
}

/// What a key does in the main view.
public enum Action: String, CaseIterable, Sendable {
    case up, down, pageUp = "page-up", pageDown = "page-down", top, bottom
    case nextPane = "next-pane", previousPane = "previous-pane", left, right
    case detail, back, search, nextMatch = "next-match", previousMatch = "previous-match"
    case typeFilter = "type-filter", senderFilter = "sender-filter", follow, help, quit
}

public struct Binding: Sendable, Equatable {
    public var action: Action
    public var keys: [Key]
    public var description: String
    /// Shown in the one-line help bar (the help screen shows all).
    public var inHelpBar: Bool
    /// The short label in the help bar.
    public var short: String
}

public struct KeyTable: Sendable, Equatable {
    public private(set) var bindings: [Binding]

    public static let defaults = KeyTable(bindings: [
        Binding(action: .up, keys: [.up, .char("k")], description: "move up", inHelpBar: false, short: "up"),
        Binding(action: .down, keys: [.down, .char("j")], description: "move down", inHelpBar: true, short: "move"),
        Binding(action: .pageUp, keys: [.pageUp, .ctrl("b")], description: "page up", inHelpBar: false, short: "page"),
        Binding(action: .pageDown, keys: [.pageDown, .ctrl("f"), .char(" ")], description: "page down", inHelpBar: false, short: "page"),
        Binding(action: .top, keys: [.char("g"), .home], description: "go to the first", inHelpBar: false, short: "top"),
        Binding(action: .bottom, keys: [.char("G"), .end], description: "go to the last (and follow)", inHelpBar: false, short: "end"),
        Binding(action: .left, keys: [.left, .char("h")], description: "focus the conversations", inHelpBar: false, short: "left"),
        Binding(action: .right, keys: [.right, .char("l")], description: "focus the transcript", inHelpBar: false, short: "right"),
        Binding(action: .nextPane, keys: [.tab], description: "next pane", inHelpBar: false, short: "pane"),
        Binding(action: .previousPane, keys: [.backTab], description: "previous pane", inHelpBar: false, short: "pane"),
        Binding(action: .detail, keys: [.enter], description: "open the event's full JSON", inHelpBar: true, short: "detail"),
        Binding(action: .back, keys: [.escape], description: "close / clear search", inHelpBar: false, short: "back"),
        Binding(action: .search, keys: [.char("/")], description: "search text, intents, actions, slots", inHelpBar: true, short: "search"),
        Binding(action: .nextMatch, keys: [.char("n")], description: "next match", inHelpBar: false, short: "next"),
        Binding(action: .previousMatch, keys: [.char("N")], description: "previous match", inHelpBar: false, short: "prev"),
        Binding(action: .typeFilter, keys: [.char("t")], description: "choose the event types shown", inHelpBar: true, short: "types"),
        Binding(action: .senderFilter, keys: [.char("s")], description: "filter conversations by sender (glob)", inHelpBar: true, short: "sender"),
        Binding(action: .follow, keys: [.char("f")], description: "follow new events / freeze the screen", inHelpBar: true, short: "follow"),
        Binding(action: .help, keys: [.char("?")], description: "all keys", inHelpBar: true, short: "help"),
        Binding(action: .quit, keys: [.char("q"), .ctrl("c")], description: "quit", inHelpBar: true, short: "quit"),
    ])

    public func action(for key: Key) -> Action? {
        bindings.first(where: { $0.keys.contains(key) })?.action
    }

    public func binding(_ a: Action) -> Binding? { bindings.first(where: { $0.action == a }) }

    /// `j/Down move  Tab pane  ...` for the help bar.
    public var helpBar: [(keys: String, label: String)] {
        bindings.filter(\.inHelpBar).map { b in
            var keys = b.keys.prefix(1).map(\.name)
            if b.action == .down, let up = binding(.up)?.keys.first(where: { if case .char = $0 { return true }; return false }), let dn = b.keys.first(where: { if case .char = $0 { return true }; return false }) {
                keys = ["\(dn.name)/\(up.name)"]
            }
            return (keys.joined(separator: "/"), b.short)
        }
    }

    public struct ConfigError: Error, CustomStringConvertible, Equatable {
        public var file: String
        public var line: Int
        public var message: String
        public var description: String { "\(file):\(line): \(message)" }
    }

    /// Applies a key config file: lines `ACTION = KEY[, KEY...]` (`#` comments). The keys given
    /// replace the action's defaults.
    public func overridden(by text: String, file: String) throws(ConfigError) -> KeyTable {
        var table = self
        for (n, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = Substring(raw)
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let trimmed = line.trimmingSpaces
            if trimmed.isEmpty { continue }
            let parts = trimmed.split(separator: "=", maxSplits: 1).map { $0.trimmingSpaces }
            guard parts.count == 2, !parts[0].isEmpty else {
                throw ConfigError(file: file, line: n + 1, message: "expected ACTION = KEY[, KEY...]")
            }
            guard let action = Action(rawValue: parts[0]) else {
                throw ConfigError(file: file, line: n + 1, message: "unknown action '\(parts[0])' (known: \(Action.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            var keys: [Key] = []
            for k in parts[1].split(separator: ",").map({ $0.trimmingSpaces }) where !k.isEmpty {
                guard let key = Key(name: k) else { throw ConfigError(file: file, line: n + 1, message: "unknown key '\(k)'") }
                keys.append(key)
            }
            guard !keys.isEmpty else { throw ConfigError(file: file, line: n + 1, message: "no keys for '\(action.rawValue)'") }
            // A key moves to its new action.
            for i in table.bindings.indices { table.bindings[i].keys.removeAll(where: keys.contains) }
            if let i = table.bindings.firstIndex(where: { $0.action == action }) { table.bindings[i].keys = keys }
        }
        return table
    }
}

extension StringProtocol {
    var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s.removeLast() }
        return String(s)
    }
}
