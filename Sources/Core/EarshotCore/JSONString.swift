// Decoding the content of a JSON string (the part between the quotes) into text, with full
// escape semantics: Rasa writes pure ASCII, so `\u00fc` is ü and `\ud83d\udc4b` is 👋.

public struct FieldError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    /// Offset of the problem within the message.
    public var offset: Int
    public var description: String { "\(message) at byte \(offset)" }
}

public enum JSONString {
    /// Decodes string content `base[start..<end]` (already validated as UTF-8 by the scanner).
    public static func decode(_ base: UnsafePointer<UInt8>, _ start: Int, _ end: Int, escaped: Bool) -> Result<String, FieldError> {
        if !escaped {
            return .success(String(decoding: UnsafeBufferPointer(start: base + start, count: end - start), as: UTF8.self))
        }
        var out: [UInt8] = []
        out.reserveCapacity(end - start)
        var i = start
        while i < end {
            let b = base[i]
            if b != 0x5C {
                out.append(b)
                i += 1
                continue
            }
            guard i + 1 < end else { return .failure(FieldError(message: "unterminated escape", offset: i)) }
            let e = base[i + 1]
            switch e {
            case 0x22: out.append(0x22)
            case 0x5C: out.append(0x5C)
            case 0x2F: out.append(0x2F)
            case 0x62: out.append(0x08)
            case 0x66: out.append(0x0C)
            case 0x6E: out.append(0x0A)
            case 0x72: out.append(0x0D)
            case 0x74: out.append(0x09)
            case 0x75:
                guard let u = hex4(base, i + 2, end) else {
                    return .failure(FieldError(message: "\\u needs four hex digits", offset: i))
                }
                var scalar = UInt32(u)
                if u >= 0xD800 && u <= 0xDBFF {
                    // A high surrogate must be followed by \u and a low surrogate.
                    guard i + 8 <= end, base[i + 6] == 0x5C, base[i + 7] == 0x75,
                          let lo = hex4(base, i + 8, end), lo >= 0xDC00 && lo <= 0xDFFF
                    else {
                        return .failure(FieldError(message: "lone surrogate \\u\(hexString(u))", offset: i))
                    }
                    scalar = 0x10000 + ((UInt32(u) - 0xD800) << 10) + (UInt32(lo) - 0xDC00)
                    i += 6
                } else if u >= 0xDC00 && u <= 0xDFFF {
                    return .failure(FieldError(message: "lone surrogate \\u\(hexString(u))", offset: i))
                }
                appendUTF8(scalar, to: &out)
                i += 6
                continue
            default:
                return .failure(FieldError(message: "bad escape \\\(printable(e))", offset: i))
            }
            i += 2
        }
        return .success(String(decoding: out, as: UTF8.self))
    }

    @inline(__always)
    static func hex4(_ base: UnsafePointer<UInt8>, _ at: Int, _ end: Int) -> UInt16? {
        guard at + 4 <= end,
              let a = hexValue(base[at]), let b = hexValue(base[at + 1]),
              let c = hexValue(base[at + 2]), let d = hexValue(base[at + 3]) else { return nil }
        return UInt16(a) << 12 | UInt16(b) << 8 | UInt16(c) << 4 | UInt16(d)
    }

    static func hexString(_ u: UInt16) -> String {
        let s = String(u, radix: 16)
        return String(repeating: "0", count: 4 - s.count) + s
    }

    static func printable(_ b: UInt8) -> String {
        (b >= 0x21 && b < 0x7F) ? String(Character(Unicode.Scalar(b))) : "<0x\(String(b, radix: 16))>"
    }

    @inline(__always)
    static func appendUTF8(_ s: UInt32, to out: inout [UInt8]) {
        if s < 0x80 {
            out.append(UInt8(s))
        } else if s < 0x800 {
            out.append(UInt8(0xC0 | (s >> 6)))
            out.append(UInt8(0x80 | (s & 0x3F)))
        } else if s < 0x10000 {
            out.append(UInt8(0xE0 | (s >> 12)))
            out.append(UInt8(0x80 | ((s >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (s & 0x3F)))
        } else {
            out.append(UInt8(0xF0 | (s >> 18)))
            out.append(UInt8(0x80 | ((s >> 12) & 0x3F)))
            out.append(UInt8(0x80 | ((s >> 6) & 0x3F)))
            out.append(UInt8(0x80 | (s & 0x3F)))
        }
    }
}

/// Parses a JSON number's text into a Double without going through String.

func parseJSONNumber(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Double? {
    var i = start
    var negative = false
    if i < end && p[i] == 0x2D { negative = true; i += 1 }
    var mantissa: UInt64 = 0
    var digits = 0
    var exp10 = 0
    while i < end, p[i] &- 0x30 < 10 {
        if digits < 19 { mantissa = mantissa &* 10 &+ UInt64(p[i] &- 0x30); if mantissa > 0 { digits += 1 } } else { exp10 += 1 }
        i += 1
    }
    if i < end && p[i] == 0x2E {
        i += 1
        while i < end, p[i] &- 0x30 < 10 {
            if digits < 19 { mantissa = mantissa &* 10 &+ UInt64(p[i] &- 0x30); exp10 -= 1; if mantissa > 0 { digits += 1 } }
            i += 1
        }
    }
    if i < end && (p[i] | 0x20) == 0x65 {
        i += 1
        var eneg = false
        if i < end && (p[i] == 0x2B || p[i] == 0x2D) { eneg = p[i] == 0x2D; i += 1 }
        var e = 0
        while i < end, p[i] &- 0x30 < 10 { if e < 100_000 { e = e * 10 + Int(p[i] &- 0x30) }; i += 1 }
        exp10 += eneg ? -e : e
    }
    // Exact fast path (Clinger): mantissa fits in 53 bits and 10^|exp| is exact.
    if mantissa < (1 << 53) && exp10 >= -22 && exp10 <= 22 {
        var d = Double(mantissa)
        if exp10 < 0 { d /= pow10[-exp10] } else { d *= pow10[exp10] }
        return negative ? -d : d
    }
    // Rare: fall back to the standard library's correctly rounded parser.
    let text = String(decoding: UnsafeBufferPointer(start: p + start, count: end - start), as: UTF8.self)
    return Double(text)
}


let pow10: [Double] = (0 ... 22).map { e in var d = 1.0; for _ in 0 ..< e { d *= 10 }; return d }
