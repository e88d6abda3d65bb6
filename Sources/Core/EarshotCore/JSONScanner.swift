// A validating JSON byte scanner: walks a message once, checks its syntax and UTF-8, and
// hands back where values are (offsets), never building a tree. The decoder uses it to pick
// out just the fields Earshot displays; everything else is validated and skipped.

/// What kind of JSON value a reference points at.
public enum JSONKind: UInt8, Sendable {
    case absent = 0, string, number, object, array, `true`, `false`, null
}

/// Where a value sits in a message. For strings the range excludes the quotes.
public struct JSONRef: Sendable, Equatable {
    public var start: Int32
    public var end: Int32
    public var kind: JSONKind
    /// For strings: the content holds at least one backslash escape.
    public var escaped: Bool

    public static let absent = JSONRef(start: 0, end: 0, kind: .absent, escaped: false)

    public var isPresent: Bool { kind != .absent }
    public var isNull: Bool { kind == .null }
    public var range: Range<Int> { Int(start) ..< Int(end) }
}

/// A syntax error: what was wrong and the byte offset where it was seen.
public struct JSONSyntaxError: Error, Sendable, Equatable {
    public var message: String
    public var offset: Int
}


let maxDepth = 256

/// Scans one buffer. All offsets are relative to `base`.

struct JSONScanner {
    let base: UnsafePointer<UInt8>
    let count: Int
    var i: Int = 0

    
    init(_ base: UnsafePointer<UInt8>, count: Int) {
        self.base = base
        self.count = count
    }

    @inline(__always)
    var atEnd: Bool { i >= count }

    @inline(__always)
    var peek: UInt8 { i < count ? base[i] : 0 }

    @inline(__always)
    mutating func skipWhitespace() {
        while i < count {
            let b = base[i]
            if b <= 0x20 && (b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09) { i += 1 } else { return }
        }
    }


    func fail(_ what: String) -> JSONSyntaxError {
        if i >= count { return JSONSyntaxError(message: "unexpected end of input, \(what)", offset: i) }
        let b = base[i]
        let shown = (b >= 0x21 && b < 0x7F) ? "'\(Character(Unicode.Scalar(b)))'" : "byte 0x\(String(b, radix: 16))"
        return JSONSyntaxError(message: "\(what), found \(shown)", offset: i)
    }

    @inline(__always)
    mutating func expect(_ byte: UInt8, _ what: String) throws(JSONSyntaxError) {
        skipWhitespace()
        guard i < count, base[i] == byte else { throw fail(what) }
        i += 1
    }

    /// At an opening quote: scans the string, validating UTF-8 and rejecting raw control
    /// characters. Escapes are only skipped here; their meaning (and errors such as a lone
    /// surrogate) are the business of whoever decodes the field.
    
    mutating func scanString() throws(JSONSyntaxError) -> JSONRef {
        i += 1  // opening quote
        let start = i
        var escaped = false
        while true {
            // Fast path: eight plain ASCII bytes at a time.
            while i &+ 8 <= count {
                let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                // A byte is "special" if it is '"' (0x22), '\\' (0x5C), < 0x20 or >= 0x80.
                let special = stringSpecials(w)
                if special != 0 {
                    // The lowest flagged byte is exact (borrows only spill upwards): go straight to it.
                    i &+= special.trailingZeroBitCount >> 3
                    break
                }
                i &+= 8
            }
            guard i < count else { throw fail("unterminated string") }
            let b = base[i]
            if b == 0x22 {
                let ref = JSONRef(start: Int32(start), end: Int32(i), kind: .string, escaped: escaped)
                i += 1
                return ref
            } else if b == 0x5C {
                escaped = true
                i += 1
                guard i < count else { throw fail("unterminated escape") }
                let e = base[i]
                switch e {
                case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74: i += 1
                case 0x75:
                    guard i + 4 < count, hexValue(base[i + 1]) != nil, hexValue(base[i + 2]) != nil,
                          hexValue(base[i + 3]) != nil, hexValue(base[i + 4]) != nil
                    else { throw fail("\\u needs four hex digits") }
                    i += 5
                default:
                    // Not valid JSON, but scoped to this one string: decoding the field reports it.
                    i += 1
                }
            } else if b < 0x20 {
                throw fail("raw control character in string")
            } else if b < 0x80 {
                i += 1
            } else {
                try skipUTF8Sequence()
            }
        }
    }

    /// Validates one multi-byte UTF-8 sequence starting at `i` (RFC 3629: no overlongs, no surrogates).
    
    mutating func skipUTF8Sequence() throws(JSONSyntaxError) {
        let next = QuickValidator.skipUTF8(base, count, i)
        guard next >= 0 else { throw invalidUTF8() }
        i = next
    }


    func invalidUTF8() -> JSONSyntaxError {
        JSONSyntaxError(message: "not valid UTF-8 (byte 0x\(String(base[i], radix: 16)))", offset: i)
    }

    
    mutating func scanNumber() throws(JSONSyntaxError) -> JSONRef {
        let start = i
        if base[i] == 0x2D { i += 1 }
        guard i < count else { throw fail("digit expected") }
        if base[i] == 0x30 {
            i += 1
        } else if base[i] >= 0x31 && base[i] <= 0x39 {
            i = QuickValidator.skipDigits(base, count, i + 1)
        } else { throw fail("digit expected") }
        if i < count && base[i] == 0x2E {
            i += 1
            guard i < count, base[i] &- 0x30 < 10 else { throw fail("digit expected after '.'") }
            i = QuickValidator.skipDigits(base, count, i + 1)
        }
        if i < count && (base[i] | 0x20) == 0x65 {
            i += 1
            if i < count && (base[i] == 0x2B || base[i] == 0x2D) { i += 1 }
            guard i < count, base[i] &- 0x30 < 10 else { throw fail("digit expected in exponent") }
            while i < count && base[i] &- 0x30 < 10 { i += 1 }
        }
        return JSONRef(start: Int32(start), end: Int32(i), kind: .number, escaped: false)
    }

    
    mutating func scanLiteral(_ word: StaticString, _ kind: JSONKind) throws(JSONSyntaxError) -> JSONRef {
        let n = word.utf8CodeUnitCount
        let start = i
        guard i + n <= count else { throw fail("invalid literal") }
        let w = word.utf8Start
        for k in 0 ..< n where base[i + k] != w[k] { throw fail("invalid literal") }
        i += n
        return JSONRef(start: Int32(start), end: Int32(i), kind: kind, escaped: false)
    }

    /// Scans any value at `i` (after whitespace), validating all of it.
    
    mutating func scanValue(depth: Int) throws(JSONSyntaxError) -> JSONRef {
        skipWhitespace()
        guard i < count else { throw fail("value expected") }
        switch base[i] {
        case 0x22: return try scanString()
        case 0x7B:
            let start = i
            try skipObject(depth: depth + 1)
            return JSONRef(start: Int32(start), end: Int32(i), kind: .object, escaped: false)
        case 0x5B:
            let start = i
            try skipArray(depth: depth + 1)
            return JSONRef(start: Int32(start), end: Int32(i), kind: .array, escaped: false)
        case 0x74: return try scanLiteral("true", .true)
        case 0x66: return try scanLiteral("false", .false)
        case 0x6E: return try scanLiteral("null", .null)
        case 0x2D, 0x30 ... 0x39: return try scanNumber()
        default: throw fail("value expected")
        }
    }


    mutating func skipObject(depth: Int) throws(JSONSyntaxError) {
        guard depth <= maxDepth else { throw fail("nested deeper than \(maxDepth)") }
        i += 1
        skipWhitespace()
        if peek == 0x7D { i += 1; return }
        while true {
            skipWhitespace()
            guard peek == 0x22 else { throw fail("object key expected") }
            _ = try scanString()
            try expect(0x3A, "':' expected")
            _ = try scanValue(depth: depth)
            skipWhitespace()
            guard i < count else { throw fail("',' or '}' expected") }
            let b = base[i]
            i += 1
            if b == 0x2C { continue }
            if b == 0x7D { return }
            i -= 1
            throw fail("',' or '}' expected")
        }
    }


    mutating func skipArray(depth: Int) throws(JSONSyntaxError) {
        guard depth <= maxDepth else { throw fail("nested deeper than \(maxDepth)") }
        i += 1
        skipWhitespace()
        if peek == 0x5D { i += 1; return }
        while true {
            _ = try scanValue(depth: depth)
            skipWhitespace()
            guard i < count else { throw fail("',' or ']' expected") }
            let b = base[i]
            i += 1
            if b == 0x2C { continue }
            if b == 0x5D { return }
            i -= 1
            throw fail("',' or ']' expected")
        }
    }

    /// Iterates the members of the object at `i`: calls `member(keyRef)`, which must consume
    /// the value (with `scanValue` or a nested `members`).
    
    mutating func members(depth: Int, _ member: (inout JSONScanner, JSONRef) throws(JSONSyntaxError) -> Void) throws(JSONSyntaxError) {
        guard depth <= maxDepth else { throw fail("nested deeper than \(maxDepth)") }
        i += 1
        skipWhitespace()
        if peek == 0x7D { i += 1; return }
        while true {
            skipWhitespace()
            guard peek == 0x22 else { throw fail("object key expected") }
            let key = try scanString()
            try expect(0x3A, "':' expected")
            skipWhitespace()
            try member(&self, key)
            skipWhitespace()
            guard i < count else { throw fail("',' or '}' expected") }
            let b = base[i]
            i += 1
            if b == 0x2C { continue }
            if b == 0x7D { return }
            i -= 1
            throw fail("',' or '}' expected")
        }
    }

    /// Iterates the elements of the array at `i`, like `members`.
    
    mutating func elements(depth: Int, _ element: (inout JSONScanner) throws(JSONSyntaxError) -> Void) throws(JSONSyntaxError) {
        guard depth <= maxDepth else { throw fail("nested deeper than \(maxDepth)") }
        i += 1
        skipWhitespace()
        if peek == 0x5D { i += 1; return }
        while true {
            skipWhitespace()
            try element(&self)
            skipWhitespace()
            guard i < count else { throw fail("',' or ']' expected") }
            let b = base[i]
            i += 1
            if b == 0x2C { continue }
            if b == 0x5D { return }
            i -= 1
            throw fail("',' or ']' expected")
        }
    }

    /// Whether the key at `ref` is exactly `name` (keys with escapes never match).
    @inline(__always)
    func keyIs(_ ref: JSONRef, _ name: StaticString) -> Bool {
        let n = name.utf8CodeUnitCount
        guard Int(ref.end - ref.start) == n else { return false }
        let p = base + Int(ref.start)
        let w = name.utf8Start
        for k in 0 ..< n where p[k] != w[k] { return false }
        return true
    }
}
