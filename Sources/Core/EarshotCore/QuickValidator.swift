// The common case of `EventDecoder.validate`, in one loop: a flat Rasa event that is sound
// JSON, an object with a string "event". Iterative (a bit stack instead of recursion), and
// it records nothing: about 30% fewer instructions than the recording scanner. It only
// ever says "sound" or "not sure": anything unusual (an error, a Mantle envelope, an escape
// the scanner treats leniently, nesting deeper than 64) is handed to the full scanner, which
// gives the verdict and words the reason. So it can never accept what `decode` refuses.

/// Flags (bit 7 of each byte) the bytes of an 8-byte word that end a plain run in a JSON
/// string: '"', '\\', a control character (< 0x20) or a non-ASCII byte. The lowest flagged
/// byte is exact (a borrow only spills into higher bytes); higher flags may be spurious.
/// Without the usual `& ~x` of the zero-byte test: what it lets through is >= 0x80, which is
/// flagged anyway.
@inline(__always)
func stringSpecials(_ w: UInt64) -> UInt64 {
    let ones: UInt64 = 0x0101_0101_0101_0101
    let quote = w ^ (ones &* 0x22)
    let backslash = w ^ (ones &* 0x5C)
    return (w | (w &- ones &* 0x20) | (quote &- ones) | (backslash &- ones)) & (ones &* 0x80)
}

enum QuickValidator {
    /// True only when the message is a sound flat event; false means "ask the full scanner".
    static func isSoundFlatEvent(_ base: UnsafePointer<UInt8>, count: Int) -> Bool {
        var type = 0 ..< 0
        return isSoundFlatEvent(base, count: count, type: &type)
    }

    /// The same, and where the content of its (last) top-level "event" string is.
    static func isSoundFlatEvent(_ base: UnsafePointer<UInt8>, count: Int, type: inout Range<Int>) -> Bool {
        var i = 0
        @inline(__always) func skipWhitespace() {
            // Mostly there is none, or the one space json.dumps puts after ',' and ':'.
            while i < count {
                let b = base[i]
                guard b <= 0x20, b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
                i &+= 1
            }
        }
        skipWhitespace()
        guard i < count, base[i] == 0x7B else { return false }
        // One bit per open container, 1 = object; `depth` containers are open.
        var stack: UInt64 = 0
        var depth = 0
        var eventIsString = false
        var nextIsEvent = false

        enum Step { case value, afterValue, key, emptyOrKey, emptyOrValue }
        var step = Step.value
        while true {
            switch step {
            case .value:
                skipWhitespace()
                guard i < count else { return false }
                let b = base[i]
                let wasEvent = nextIsEvent
                nextIsEvent = false
                switch b {
                case 0x22:
                    let start = i &+ 1
                    i = skipString(base, count, i)
                    guard i >= 0 else { return false }
                    if wasEvent {
                        eventIsString = true
                        type = start ..< i &- 1
                    }
                    step = .afterValue
                    continue
                case 0x7B, 0x5B:
                    guard depth < 64 else { return false }
                    stack = (stack << 1) | (b == 0x7B ? 1 : 0)
                    depth &+= 1
                    i &+= 1
                    step = b == 0x7B ? .emptyOrKey : .emptyOrValue
                case 0x74:
                    guard i &+ 4 <= count, UnsafeRawPointer(base + i).loadUnaligned(as: UInt32.self) == 0x6575_7274 else { return false }
                    i &+= 4
                    step = .afterValue
                case 0x66:
                    guard i &+ 5 <= count, UnsafeRawPointer(base + i + 1).loadUnaligned(as: UInt32.self) == 0x6573_6C61 else { return false }
                    i &+= 5
                    step = .afterValue
                case 0x6E:
                    guard i &+ 4 <= count, UnsafeRawPointer(base + i).loadUnaligned(as: UInt32.self) == 0x6C6C_756E else { return false }
                    i &+= 4
                    step = .afterValue
                case 0x2D, 0x30 ... 0x39:
                    i = skipNumber(base, count, i)
                    guard i >= 0 else { return false }
                    step = .afterValue
                default:
                    return false
                }
                if wasEvent { eventIsString = false }
            case .emptyOrKey:
                skipWhitespace()
                if i < count, base[i] == 0x7D {
                    i &+= 1
                    stack >>= 1
                    depth &-= 1
                    step = .afterValue
                } else {
                    step = .key
                }
            case .emptyOrValue:
                skipWhitespace()
                if i < count, base[i] == 0x5D {
                    i &+= 1
                    stack >>= 1
                    depth &-= 1
                    step = .afterValue
                } else {
                    step = .value
                }
            case .key:
                skipWhitespace()
                guard i < count, base[i] == 0x22 else { return false }
                let start = i &+ 1
                i = skipString(base, count, i)
                guard i >= 0 else { return false }
                // "event" at the top level, unescaped (an escaped key never matches, as in decode).
                if depth == 1, i &- start == 6, base[start] == 0x65,
                   UnsafeRawPointer(base + start + 1).loadUnaligned(as: UInt32.self) == 0x746E_6576 {
                    nextIsEvent = true
                }
                // json.dumps writes ": " after every key.
                if i &+ 2 <= count, UnsafeRawPointer(base + i).loadUnaligned(as: UInt16.self) == 0x203A {
                    i &+= 2
                    step = .value
                    continue
                }
                skipWhitespace()
                guard i < count, base[i] == 0x3A else { return false }
                i &+= 1
                step = .value
            case .afterValue:
                if depth == 0 {
                    skipWhitespace()
                    return i == count && eventIsString
                }
                let inObject = stack & 1 == 1
                // And ", " between members and elements.
                if i &+ 2 <= count, UnsafeRawPointer(base + i).loadUnaligned(as: UInt16.self) == 0x202C {
                    i &+= 2
                    step = inObject ? .key : .value
                    continue
                }
                skipWhitespace()
                guard i < count else { return false }
                let b = base[i]
                i &+= 1
                if b == 0x2C {
                    step = inObject ? .key : .value
                } else if b == (inObject ? 0x7D : 0x5D) {
                    stack >>= 1
                    depth &-= 1
                } else {
                    return false
                }
            }
        }
    }

    /// At an opening quote: the index after the closing quote, or -1 when the full scanner
    /// should look (an error, or an escape other than the plain ones and \uXXXX).
    @inline(__always)
    static func skipString(_ base: UnsafePointer<UInt8>, _ count: Int, _ at: Int) -> Int {
        var i = at &+ 1
        while true {
            while i &+ 8 <= count {
                let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                let special = stringSpecials(w)
                if special != 0 {
                    i &+= special.trailingZeroBitCount >> 3
                    break
                }
                i &+= 8
            }
            guard i < count else { return -1 }
            let b = base[i]
            if b == 0x22 { return i &+ 1 }
            if b == 0x5C {
                guard i &+ 1 < count else { return -1 }
                switch base[i &+ 1] {
                case 0x22, 0x5C, 0x2F, 0x62, 0x66, 0x6E, 0x72, 0x74: i &+= 2
                case 0x75:
                    guard i &+ 6 <= count, isHex(base[i &+ 2]), isHex(base[i &+ 3]), isHex(base[i &+ 4]), isHex(base[i &+ 5])
                    else { return -1 }
                    i &+= 6
                default: return -1
                }
            } else if b < 0x20 {
                return -1
            } else if b < 0x80 {
                i &+= 1
            } else {
                i = skipUTF8(base, count, i)
                guard i >= 0 else { return -1 }
            }
        }
    }

    @inline(__always)
    static func isHex(_ b: UInt8) -> Bool {
        b &- 0x30 < 10 || (b | 0x20) &- 0x61 < 6
    }

    /// One multi-byte UTF-8 sequence at `i` (RFC 3629): the index after it, or -1.
    static func skipUTF8(_ base: UnsafePointer<UInt8>, _ count: Int, _ i: Int) -> Int {
        let b0 = base[i]
        @inline(__always) func cont(_ k: Int) -> UInt8? {
            guard i &+ k < count else { return nil }
            let c = base[i &+ k]
            return c & 0xC0 == 0x80 ? c : nil
        }
        if b0 >= 0xC2 && b0 <= 0xDF {
            return cont(1) != nil ? i &+ 2 : -1
        } else if b0 >= 0xE0 && b0 <= 0xEF {
            guard let c1 = cont(1), cont(2) != nil else { return -1 }
            if b0 == 0xE0 && c1 < 0xA0 { return -1 }
            if b0 == 0xED && c1 >= 0xA0 { return -1 }
            return i &+ 3
        } else if b0 >= 0xF0 && b0 <= 0xF4 {
            guard let c1 = cont(1), cont(2) != nil, cont(3) != nil else { return -1 }
            if b0 == 0xF0 && c1 < 0x90 { return -1 }
            if b0 == 0xF4 && c1 >= 0x90 { return -1 }
            return i &+ 4
        }
        return -1
    }

    /// The index of the first byte at or after `i` that is not an ASCII digit; eight at a
    /// time (timestamps and confidences have 10 to 17 digits).
    @inline(__always)
    static func skipDigits(_ base: UnsafePointer<UInt8>, _ count: Int, _ at: Int) -> Int {
        var i = at
        while i &+ 8 <= count {
            let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
            // A byte is a digit when its high nibble is 3 and adding 6 does not carry out of
            // the low nibble; flag the bytes that are not.
            let notDigit = ((w & 0xF0F0_F0F0_F0F0_F0F0) ^ 0x3030_3030_3030_3030) | ((w &+ 0x0606_0606_0606_0606) & 0x1010_1010_1010_1010 ^ (w & 0x1010_1010_1010_1010))
            if notDigit != 0 {
                return i &+ (notDigit.trailingZeroBitCount >> 3)
            }
            i &+= 8
        }
        while i < count && base[i] &- 0x30 < 10 { i &+= 1 }
        return i
    }

    /// At a '-' or digit: the index after a number in JSON's grammar, or -1.
    @inline(__always)
    static func skipNumber(_ base: UnsafePointer<UInt8>, _ count: Int, _ at: Int) -> Int {
        var i = at
        if base[i] == 0x2D { i &+= 1 }
        guard i < count else { return -1 }
        if base[i] == 0x30 {
            i &+= 1
        } else if base[i] &- 0x31 < 9 {
            i = skipDigits(base, count, i &+ 1)
        } else { return -1 }
        if i < count && base[i] == 0x2E {
            i &+= 1
            guard i < count, base[i] &- 0x30 < 10 else { return -1 }
            i = skipDigits(base, count, i &+ 1)
        }
        if i < count && (base[i] | 0x20) == 0x65 {
            i &+= 1
            if i < count && (base[i] == 0x2B || base[i] == 0x2D) { i &+= 1 }
            guard i < count, base[i] &- 0x30 < 10 else { return -1 }
            while i < count && base[i] &- 0x30 < 10 { i &+= 1 }
        }
        return i
    }
}
