// Indented JSON for `--format pretty` and the TUI's detail view, as lines of typed tokens so
// that a front end can colour keys, strings and numbers. Strings are shown decoded (ü, 👋),
// re-escaped where needed to stay valid JSON and harmless on a terminal.

public enum JSONTokenKind: Sendable, Equatable {
    case key, string, number, literal, punctuation, space
}

public struct JSONToken: Sendable, Equatable {
    public var kind: JSONTokenKind
    public var text: String
    public init(kind: JSONTokenKind, text: String) {
        self.kind = kind
        self.text = text
    }
}

public enum PrettyJSON {
    /// Lines of tokens for a message; nil when it is not valid JSON.
    public static func lines(_ bytes: UnsafeRawBufferPointer, indent: Int = 2, keySeparator: String = ": ") -> [[JSONToken]]? {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count > 0 else { return nil }
        var s = JSONScanner(base, count: bytes.count)
        var out: [[JSONToken]] = []
        var line: [JSONToken] = []
        let step = String(repeating: " ", count: indent)

        func newline(_ depth: Int) {
            out.append(line)
            line = depth > 0 ? [JSONToken(kind: .space, text: String(repeating: step, count: depth))] : []
        }

        func value(_ s: inout JSONScanner, _ depth: Int) throws(JSONSyntaxError) {
            s.skipWhitespace()
            switch s.peek {
            case 0x7B:
                var empty = true
                line.append(JSONToken(kind: .punctuation, text: "{"))
                try s.members(depth: depth + 1) { (sc, key) throws(JSONSyntaxError) in
                    if !empty { line.append(JSONToken(kind: .punctuation, text: ",")) }
                    empty = false
                    newline(depth + 1)
                    line.append(JSONToken(kind: .key, text: quote(base, key)))
                    line.append(JSONToken(kind: .punctuation, text: keySeparator))
                    try value(&sc, depth + 1)
                }
                if !empty { newline(depth) }
                line.append(JSONToken(kind: .punctuation, text: "}"))
            case 0x5B:
                var empty = true
                line.append(JSONToken(kind: .punctuation, text: "["))
                try s.elements(depth: depth + 1) { (sc) throws(JSONSyntaxError) in
                    if !empty { line.append(JSONToken(kind: .punctuation, text: ",")) }
                    empty = false
                    newline(depth + 1)
                    try value(&sc, depth + 1)
                }
                if !empty { newline(depth) }
                line.append(JSONToken(kind: .punctuation, text: "]"))
            default:
                let r = try s.scanValue(depth: depth)
                switch r.kind {
                case .string: line.append(JSONToken(kind: .string, text: quote(base, r)))
                case .number: line.append(JSONToken(kind: .number, text: text(base, r)))
                default: line.append(JSONToken(kind: .literal, text: text(base, r)))
                }
            }
        }
        do throws(JSONSyntaxError) {
            try value(&s, 0)
            s.skipWhitespace()
            guard s.atEnd else { return nil }
        } catch {
            return nil
        }
        out.append(line)
        return out
    }

    /// The whole message indented, one string.
    /// One line, no insignificant whitespace, strings decoded (`{"city":"Zürich"}`).
    public static func compact(_ bytes: UnsafeRawBufferPointer) -> String? {
        compact(bytes, knownValid: false)
    }

    /// `knownValid`: the bytes were already scanned (a field of a decoded event).
    static func compact(_ bytes: UnsafeRawBufferPointer, knownValid: Bool) -> String? {
        // Printable ASCII with no escape decodes to itself: only the whitespace between
        // tokens goes.
        if isPrintableASCII(bytes) && !bytes.contains(0x5C) && (knownValid || isValid(bytes)) { return compactJSON(bytes) }
        return compactViaTokens(bytes)
    }

    static func compactViaTokens(_ bytes: UnsafeRawBufferPointer) -> String? {
        guard let ls = lines(bytes, indent: 0, keySeparator: ":") else { return nil }
        return ls.map { $0.filter { $0.kind != .space }.map(\.text).joined() }.joined()
    }

    static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count > 0 else { return false }
        var s = JSONScanner(base, count: bytes.count)
        guard (try? s.scanValue(depth: 0)) != nil else { return false }
        s.skipWhitespace()
        return s.atEnd
    }

    public static func string(_ bytes: UnsafeRawBufferPointer, indent: Int = 2) -> String? {
        guard let ls = lines(bytes, indent: indent) else { return nil }
        return ls.map { $0.map(\.text).joined() }.joined(separator: "\n")
    }

    static func text(_ base: UnsafePointer<UInt8>, _ r: JSONRef) -> String {
        String(decoding: UnsafeBufferPointer(start: base + Int(r.start), count: Int(r.end - r.start)), as: UTF8.self)
    }

    /// A JSON string literal of the decoded content: printable text as itself; quotes,
    /// backslashes, controls and invisible format characters escaped. A string whose escapes
    /// are broken is shown as it was written.
    static func quote(_ base: UnsafePointer<UInt8>, _ r: JSONRef) -> String {
        guard case let .success(s) = JSONString.decode(base, Int(r.start), Int(r.end), escaped: r.escaped) else {
            return "\"" + sanitize(text(base, r)) + "\""
        }
        var out = "\""
        for u in s.unicodeScalars {
            switch u.value {
            case 0x22: out += "\\\""
            case 0x5C: out += "\\\\"
            case 0x0A: out += "\\n"
            case 0x0D: out += "\\r"
            case 0x09: out += "\\t"
            case 0x08: out += "\\b"
            case 0x0C: out += "\\f"
            case let v where v < 0x20 || v == 0x7F || isDangerousFormat(v):
                out += "\\u" + hex4(v).lowercased()
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}
