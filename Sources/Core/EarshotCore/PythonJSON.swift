// Bytes exactly as Python's `json.dumps(obj)` writes them with default arguments:
// separators ", " and ": ", ensure_ascii=True (every non-ASCII character, and DEL, as a
// lowercase `\uXXXX`; astral characters as a UTF-16 surrogate pair), floats as
// `repr(float)`, `Infinity` / `-Infinity` / `NaN`, dict keys in insertion order.
// Rasa publishes every tracker event this way, so this is what a simulated assistant writes.

#if canImport(Glibc)
import Glibc
#endif

/// A JSON value as Python holds it before `json.dumps`: objects keep their key order.
/// (Not `indirect`: the arrays already give the recursion its indirection, and boxing every
/// scalar would cost an allocation per node.)
public enum PyValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([PyValue])
    /// A dict; keys in insertion order (duplicates are written as given).
    case object([(String, PyValue)])

    public static func == (lhs: PyValue, rhs: PyValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.int(a), .int(b)): return a == b
        // Two doubles are equal when they dump to the same text: NaN == NaN, 0.0 != -0.0.
        case let (.double(a), .double(b)): return a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN)
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            guard a.count == b.count else { return false }
            for i in a.indices where a[i].0 != b[i].0 || a[i].1 != b[i].1 { return false }
            return true
        default: return false
        }
    }
}

extension PyValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(arrayLiteral elements: PyValue...) { self = .array(elements) }
    /// Keeps the literal's key order, as a Python dict literal does.
    public init(dictionaryLiteral elements: (String, PyValue)...) { self = .object(elements) }
}

public enum PythonJSON {
    /// `json.dumps(v)` as bytes (pure ASCII).
    public static func dumps(_ v: PyValue) -> [UInt8] {
        var w = PyJSONWriter(capacity: 512)
        defer { w.free() }
        w.value(v)
        return [UInt8](UnsafeBufferPointer(start: w.base, count: w.count))
    }

    /// Appends `json.dumps(v)` to `out`.
    public static func dumps(_ v: PyValue, into out: inout [UInt8]) {
        var w = PyJSONWriter(capacity: 512)
        defer { w.free() }
        w.value(v)
        out.append(contentsOf: UnsafeBufferPointer(start: w.base, count: w.count))
    }

    /// Appends Python's `str(i)`.
    public static func appendInt(_ i: Int, to out: inout [UInt8]) {
        var w = PyJSONWriter(capacity: 24)
        defer { w.free() }
        w.int(i)
        out.append(contentsOf: UnsafeBufferPointer(start: w.base, count: w.count))
    }

    /// Appends a float as `json.dumps` writes it: `repr(float)`, or `NaN` / `Infinity` / `-Infinity`.
    public static func appendDouble(_ d: Double, to out: inout [UInt8]) {
        var w = PyJSONWriter(capacity: 32)
        defer { w.free() }
        w.double(d)
        out.append(contentsOf: UnsafeBufferPointer(start: w.base, count: w.count))
    }

    /// Appends a JSON string literal (quotes included) with Python's ensure_ascii escaping.
    public static func appendString(_ s: String, to out: inout [UInt8]) {
        var w = PyJSONWriter(capacity: s.utf8.count + 16)
        defer { w.free() }
        w.string(s)
        out.append(contentsOf: UnsafeBufferPointer(start: w.base, count: w.count))
    }
}

/// A growable byte buffer written through a raw pointer (no per-byte uniqueness checks).
fileprivate struct PyJSONWriter {
    var base: UnsafeMutablePointer<UInt8>
    var count = 0
    var capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    func free() { base.deallocate() }

    @inline(__always)
    mutating func reserve(_ n: Int) {
        if count + n > capacity { grow(count + n) }
    }

    @inline(never)
    mutating func grow(_ needed: Int) {
        var cap = capacity * 2
        while cap < needed { cap *= 2 }
        let b = UnsafeMutablePointer<UInt8>.allocate(capacity: cap)
        b.update(from: base, count: count)
        base.deallocate()
        base = b
        capacity = cap
    }

    @inline(__always)
    mutating func byte(_ b: UInt8) {
        reserve(1)
        base[count] = b
        count += 1
    }

    @inline(__always)
    mutating func bytes(_ p: UnsafePointer<UInt8>, _ n: Int) {
        reserve(n)
        (base + count).update(from: p, count: n)
        count += n
    }

    @inline(__always)
    mutating func ascii(_ s: StaticString) {
        bytes(s.utf8Start, s.utf8CodeUnitCount)
    }

    mutating func value(_ v: PyValue) {
        switch v {
        case .null: ascii("null")
        case let .bool(b): if b { ascii("true") } else { ascii("false") }
        case let .int(i): int(i)
        case let .double(d): double(d)
        case let .string(s): string(s)
        case let .array(items):
            byte(UInt8(ascii: "["))
            var first = true
            for item in items {
                if first { first = false } else { ascii(", ") }
                value(item)
            }
            byte(UInt8(ascii: "]"))
        case let .object(pairs):
            byte(UInt8(ascii: "{"))
            var first = true
            for pair in pairs {
                if first { first = false } else { ascii(", ") }
                string(pair.0)
                ascii(": ")
                value(pair.1)
            }
            byte(UInt8(ascii: "}"))
        }
    }

    // MARK: Numbers

    /// Python `str(int)`.
    mutating func int(_ i: Int) {
        reserve(20)
        var m = i.magnitude
        if i < 0 { base[count] = UInt8(ascii: "-"); count += 1 }
        var digits = 1
        var t = m
        while t >= 10 { t /= 10; digits += 1 }
        var pos = count + digits
        count = pos
        repeat {
            pos -= 1
            base[pos] = UInt8(truncatingIfNeeded: m % 10) &+ 48
            m /= 10
        } while m > 0
    }

    /// Python `float.__repr__`: the shortest digits that round-trip, fixed notation when the
    /// decimal exponent is in [-4, 16), else `d.ddde±XX`.
    mutating func double(_ d: Double) {
        if d.isNaN { ascii("NaN"); return }
        if d.isInfinite { if d < 0 { ascii("-Infinity") } else { ascii("Infinity") }; return }
        if d == 0 { if d.sign == .minus { ascii("-0.0") } else { ascii("0.0") }; return }
        // Small integral values need no digit generator.
        if d.magnitude < 1e15, d == d.rounded(.towardZero) {
            int(Int(d))
            ascii(".0")
            return
        }
        // Swift's `description` gives the shortest round-trip digits (closest to the exact
        // value, as Python's repr picks them); only the layout may differ, so re-lay them out.
        var text = d.description
        text.withUTF8 { layOutPython($0) }
    }

    /// Re-lays out a decimal float text (`-1.25e-07`, `0.001`, `12345.0`) in Python's repr form.
    mutating func layOutPython(_ s: UnsafeBufferPointer<UInt8>) {
        // Significant digits (at most 17) and the decimal exponent: value = 0.D1D2... * 10^decpt.
        var digitBuf: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)  // 32 bytes of stack
        withUnsafeMutableBytes(of: &digitBuf) { raw in
            let buf = raw.bindMemory(to: UInt8.self)
            var n = 0
            var i = 0
            var negative = false
            if i < s.count, s[i] == UInt8(ascii: "-") { negative = true; i += 1 }
            var decpt = 0
            var seenPoint = false
            var leading = true
            while i < s.count {
                let c = s[i]
                if c == UInt8(ascii: ".") { seenPoint = true; i += 1; continue }
                if c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { break }
                i += 1
                if leading && c == UInt8(ascii: "0") {
                    if seenPoint { decpt -= 1 }
                    continue
                }
                leading = false
                if n < 32 { buf[n] = c; n += 1 }
                if !seenPoint { decpt += 1 }
            }
            if i < s.count {  // exponent
                i += 1
                var expNeg = false
                if i < s.count, s[i] == UInt8(ascii: "-") {
                    expNeg = true; i += 1
                } else if i < s.count, s[i] == UInt8(ascii: "+") {
                    i += 1
                }
                var e = 0
                while i < s.count { e = e * 10 + Int(s[i] &- 48); i += 1 }
                decpt += expNeg ? -e : e
            }
            while n > 0 && buf[n - 1] == UInt8(ascii: "0") { n -= 1 }
            if n == 0 { if negative { ascii("-0.0") } else { ascii("0.0") }; return }
            let digits = buf.baseAddress!

            reserve(n + 32)
            if negative { byte(UInt8(ascii: "-")) }
            if decpt > -4 && decpt <= 16 {
                if decpt <= 0 {
                    ascii("0.")
                    for _ in 0 ..< -decpt { byte(UInt8(ascii: "0")) }
                    bytes(digits, n)
                } else if decpt >= n {
                    bytes(digits, n)
                    for _ in 0 ..< decpt - n { byte(UInt8(ascii: "0")) }
                    ascii(".0")
                } else {
                    bytes(digits, decpt)
                    byte(UInt8(ascii: "."))
                    bytes(digits + decpt, n - decpt)
                }
            } else {
                byte(digits[0])
                if n > 1 {
                    byte(UInt8(ascii: "."))
                    bytes(digits + 1, n - 1)
                }
                byte(UInt8(ascii: "e"))
                let e = decpt - 1
                byte(e < 0 ? UInt8(ascii: "-") : UInt8(ascii: "+"))
                if e.magnitude < 10 { byte(UInt8(ascii: "0")) }
                int(Int(e.magnitude))
            }
        }
    }

    // MARK: Strings

    @inline(__always)
    static func hex(_ v: UInt32) -> UInt8 {
        let d = UInt8(truncatingIfNeeded: v & 0xF)
        return d < 10 ? d &+ 48 : d &+ 87  // lowercase, as Python writes them
    }

    /// `\u` and four lowercase hex digits.
    @inline(__always)
    mutating func u(_ unit: UInt32) {
        reserve(6)
        let p = base + count
        p[0] = UInt8(ascii: "\\"); p[1] = UInt8(ascii: "u")
        p[2] = Self.hex(unit >> 12); p[3] = Self.hex(unit >> 8)
        p[4] = Self.hex(unit >> 4); p[5] = Self.hex(unit)
        count += 6
    }

    /// A JSON string literal with Python's ensure_ascii escaping.
    mutating func string(_ s: String) {
        byte(UInt8(ascii: "\""))
        if s.utf8.withContiguousStorageIfAvailable({ escaped($0) }) == nil {
            var s = s
            s.withUTF8 { escaped($0) }
        }
        byte(UInt8(ascii: "\""))
    }

    /// Whether any of eight bytes is < 0x20, >= 0x7F, '"' or '\\' (SWAR: borrows can mark
    /// extra bytes, but only above a byte that really is flagged, so the answer is exact).
    @inline(__always)
    static func needsEscape(_ x: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let high: UInt64 = 0x8080_8080_8080_8080
        @inline(__always) func hasZero(_ v: UInt64) -> UInt64 { (v &- ones) & ~v & high }
        let flagged = (x &- ones &* 0x20) | x | hasZero(x ^ (ones &* 0x7F))
            | hasZero(x ^ (ones &* 0x22)) | hasZero(x ^ (ones &* 0x5C))
        return flagged & high != 0
    }

    /// Escapes valid UTF-8 (no quotes added).
    mutating func escaped(_ b: UnsafeBufferPointer<UInt8>) {
        guard let p = b.baseAddress else { return }
        let n = b.count
        var i = 0
        var runStart = 0  // start of a run of bytes copied verbatim
        let raw = UnsafeRawPointer(p)
        while i < n {
            // Eight bytes at a time while none needs escaping.
            while i + 8 <= n, !Self.needsEscape(raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) { i += 8 }
            if i < n && n - i < 8 {
                // The tail: the last eight bytes (some already known clean), or the short
                // string padded with a clean byte.
                let x: UInt64
                if n >= 8 {
                    x = raw.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
                } else {
                    var t: UInt64 = 0x6161_6161_6161_6161
                    withUnsafeMutableBytes(of: &t) { $0.copyMemory(from: UnsafeRawBufferPointer(start: raw + i, count: n - i)) }
                    x = t
                }
                if !Self.needsEscape(x) { i = n; break }
            }
            if i >= n { break }
            let c = p[i]
            // Printable ASCII other than '"' and '\\' goes out as is.
            if c >= 0x20 && c < 0x7F && c != 0x22 && c != 0x5C { i += 1; continue }
            if runStart < i { bytes(p + runStart, i - runStart) }
            if c < 0x80 {
                switch c {
                case 0x22: byte(0x5C); byte(0x22)
                case 0x5C: byte(0x5C); byte(0x5C)
                case 0x0A: byte(0x5C); byte(UInt8(ascii: "n"))
                case 0x0D: byte(0x5C); byte(UInt8(ascii: "r"))
                case 0x09: byte(0x5C); byte(UInt8(ascii: "t"))
                case 0x08: byte(0x5C); byte(UInt8(ascii: "b"))
                case 0x0C: byte(0x5C); byte(UInt8(ascii: "f"))
                default: u(UInt32(c))  // other controls, and DEL
                }
                i += 1
            } else {
                // One scalar (a Swift String is always valid UTF-8).
                var scalar: UInt32
                if c < 0xE0 {
                    scalar = (UInt32(c & 0x1F) << 6) | UInt32(p[i + 1] & 0x3F)
                    i += 2
                } else if c < 0xF0 {
                    scalar = (UInt32(c & 0x0F) << 12) | (UInt32(p[i + 1] & 0x3F) << 6) | UInt32(p[i + 2] & 0x3F)
                    i += 3
                } else {
                    scalar = (UInt32(c & 0x07) << 18) | (UInt32(p[i + 1] & 0x3F) << 12)
                        | (UInt32(p[i + 2] & 0x3F) << 6) | UInt32(p[i + 3] & 0x3F)
                    i += 4
                }
                if scalar >= 0x10000 {
                    scalar -= 0x10000
                    u(0xD800 | (scalar >> 10))
                    u(0xDC00 | (scalar & 0x3FF))
                } else {
                    u(scalar)
                }
            }
            runStart = i
        }
        if runStart < n { bytes(p + runStart, n - runStart) }
    }
}
