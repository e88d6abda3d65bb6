// Filters shared by every front end (tail, the TUI): event types, sender glob, text search, since.

public struct EventFilter: Sendable, Equatable {
    /// Only these types (names as in `event`, legacy names accepted); empty means all.
    public var includeTypes: Set<String> = [] {
        didSet {
            let c = Set(includeTypes.map(EventFilter.canonical))
            if c != includeTypes { includeTypes = c }
            kindMask = EventFilter.mask(includeTypes, excludeTypes)
        }
    }
    public var excludeTypes: Set<String> = [] {
        didSet {
            let c = Set(excludeTypes.map(EventFilter.canonical))
            if c != excludeTypes { excludeTypes = c }
            kindMask = EventFilter.mask(includeTypes, excludeTypes)
        }
    }
    /// A glob (`*`, `?`, `[a-z]`, `[!x]`) the sender id must match.
    public var senderGlob: String?
    /// Case-insensitive text searched in user/bot text, intent, action and slot names.
    public var search: String? {
        didSet { needle = search.map { Array($0.lowercased().utf8) } ?? [] }
    }
    /// Only events at or after this Unix time.
    public var since: Double?

    private var needle: [UInt8] = []
    /// Bit k set: known kind k passes the type filters (so the hot path hashes no strings).
    private var kindMask: UInt64 = ~0

    static func mask(_ include: Set<String>, _ exclude: Set<String>) -> UInt64 {
        var m: UInt64 = 0
        for k in EventKind.allCases where k != .unknown {
            let name = k.typeName
            if (include.isEmpty || include.contains(name)) && !exclude.contains(name) { m |= 1 << UInt64(k.rawValue) }
        }
        return m
    }

    public init(includeTypes: Set<String> = [], excludeTypes: Set<String> = [], senderGlob: String? = nil, search: String? = nil, since: Double? = nil) {
        self.includeTypes = Set(includeTypes.map(EventFilter.canonical))
        self.excludeTypes = Set(excludeTypes.map(EventFilter.canonical))
        self.senderGlob = senderGlob
        self.search = search
        self.needle = search.map { Array($0.lowercased().utf8) } ?? []
        self.since = since
        self.kindMask = EventFilter.mask(self.includeTypes, self.excludeTypes)
    }

    /// Legacy type names map to their current ones (`form` → `active_loop`).
    public static func canonical(_ name: String) -> String {
        let k = EventKind.from(name: name)
        return k == .unknown ? name : k.typeName
    }

    public var isEmpty: Bool {
        includeTypes.isEmpty && excludeTypes.isEmpty && senderGlob == nil && (search ?? "").isEmpty && since == nil
    }

    /// Only type filters are set: `matches(kind:name:)` then decides without the event.
    public var filtersTypesOnly: Bool {
        senderGlob == nil && (search ?? "").isEmpty && since == nil
    }

    /// The type filters alone, for a known kind or (for `.unknown`) the type's name.
    @inline(__always)
    public func matches(kind: EventKind, name: () -> String) -> Bool {
        if kind != .unknown { return kindMask & (1 << UInt64(kind.rawValue)) != 0 }
        return includeTypes.isEmpty && excludeTypes.isEmpty ? true : matchesType(name())
    }

    public func matchesType(_ name: String) -> Bool {
        if !includeTypes.isEmpty && !includeTypes.contains(name) { return false }
        return !excludeTypes.contains(name)
    }

    public func matches(_ v: EventView) -> Bool {
        if !matches(kind: v.kind, name: { v.typeName }) { return false }
        if let since {
            guard let ts = v.timestamp, ts >= since else { return false }
        }
        if let senderGlob {
            guard let s = v.senderID, globMatch(senderGlob, s) else { return false }
        }
        if !needle.isEmpty {
            return searchHit(v)
        }
        return true
    }

    /// Whether the search text (alone, whatever the other filters) is found in the event.
    public func searchMatches(_ v: EventView) -> Bool {
        !needle.isEmpty && searchHit(v)
    }

    func searchHit(_ v: EventView) -> Bool {
        for f in [Field.text, .intentName, .intent, .name] {
            let r = v.ref(f)
            guard r.kind == .string else { continue }
            if r.escaped {
                if let s = v.string(r), contains(Array(s.utf8)[...], needle) { return true }
            } else {
                let bytes = UnsafeRawBufferPointer(rebasing: v.bytes[r.range])
                if bytes.withMemoryRebound(to: UInt8.self, { contains($0, needle) }) { return true }
            }
        }
        return false
    }
}

/// Case-insensitive substring test. `needle` is lowercased; ASCII letters of the haystack are
/// folded byte by byte, and non-ASCII text is lowercased with full Unicode rules.
func contains<C: Collection>(_ hay: C, _ needle: [UInt8]) -> Bool where C.Element == UInt8, C.Index == Int {
    if needle.isEmpty { return true }
    if hay.contains(where: { $0 >= 0x80 }) {
        let lowered = Array(String(decoding: hay, as: UTF8.self).lowercased().utf8)
        return naiveSearch(lowered[...], needle)
    }
    return naiveSearch(hay, needle)
}

@inline(__always)
func lowerASCII(_ b: UInt8) -> UInt8 { (b >= 0x41 && b <= 0x5A) ? b | 0x20 : b }

func naiveSearch<C: Collection>(_ hay: C, _ needle: [UInt8]) -> Bool where C.Element == UInt8, C.Index == Int {
    let n = needle.count
    guard hay.count >= n else { return false }
    let first = needle[0]
    var i = hay.startIndex
    let last = hay.endIndex - n
    while i <= last {
        if lowerASCII(hay[i]) == first {
            var k = 1
            while k < n && lowerASCII(hay[i + k]) == needle[k] { k += 1 }
            if k == n { return true }
        }
        i += 1
    }
    return false
}

/// Shell-style glob: `*` any run, `?` one character, `[abc]`, `[a-z]`, `[!x]`, `\` escapes.
public func globMatch(_ pattern: String, _ text: String) -> Bool {
    let p = Array(pattern), t = Array(text)
    var pi = 0, ti = 0
    var starP = -1, starT = 0
    while ti < t.count {
        if pi < p.count {
            switch p[pi] {
            case "*":
                starP = pi
                starT = ti
                pi += 1
                continue
            case "?":
                pi += 1
                ti += 1
                continue
            case "[":
                if let (matched, next) = matchClass(p, pi, t[ti]) {
                    if matched { pi = next; ti += 1; continue }
                } else if t[ti] == "[" {
                    pi += 1; ti += 1; continue
                }
            case "\\" where pi + 1 < p.count:
                if p[pi + 1] == t[ti] { pi += 2; ti += 1; continue }
            default:
                if p[pi] == t[ti] { pi += 1; ti += 1; continue }
            }
        }
        if starP >= 0 {
            pi = starP + 1
            starT += 1
            ti = starT
            continue
        }
        return false
    }
    while pi < p.count && p[pi] == "*" { pi += 1 }
    return pi == p.count
}

/// Matches a `[...]` class at `p[at]`; nil when the bracket is not closed (then it is literal).
private func matchClass(_ p: [Character], _ at: Int, _ c: Character) -> (Bool, Int)? {
    var i = at + 1
    var negate = false
    if i < p.count && (p[i] == "!" || p[i] == "^") { negate = true; i += 1 }
    var matched = false
    var first = true
    while i < p.count && (p[i] != "]" || first) {
        first = false
        if i + 2 < p.count && p[i + 1] == "-" && p[i + 2] != "]" {
            if p[i] <= c && c <= p[i + 2] { matched = true }
            i += 3
        } else {
            if p[i] == c { matched = true }
            i += 1
        }
    }
    guard i < p.count else { return nil }
    return (matched != negate, i + 1)
}
