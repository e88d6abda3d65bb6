// Text from a chat is hostile. Everything that reaches a terminal passes through `sanitize`,
// and every width is measured in display columns, never in Characters.

/// Makes text safe to print: C0 controls and DEL become their visible Control Pictures
/// (ESC is shown as ␛, a newline as ␊), C1 controls and bidirectional overrides become
/// `<U+XXXX>`. Nothing of the input can move the cursor or change the terminal's state.
public func sanitize(_ s: String) -> String {
    if isPrintableASCII(s) { return s }
    // Most non-ASCII text (accents, CJK, emoji) has nothing to replace: keep it as it is.
    if !s.unicodeScalars.contains(where: { needsReplacing($0.value) }) { return s }
    var out = String.UnicodeScalarView()
    for u in s.unicodeScalars {
        let v = u.value
        if !needsReplacing(v) {
            out.append(u)
        } else if v < 0x20 {
            out.append(Unicode.Scalar(0x2400 + v)!)
        } else if v == 0x7F {
            out.append("\u{2421}")
        } else {
            for c in "<U+\(hex4(v))>".unicodeScalars { out.append(c) }
        }
    }
    return String(out)
}

/// What `sanitize` replaces: C0 controls, DEL, and the dangerous invisible formats.
@inline(__always)
func needsReplacing(_ v: UInt32) -> Bool {
    v < 0x20 || v == 0x7F || isDangerousFormat(v)
}

/// Whether every byte is printable ASCII (0x20 ..< 0x7F): then a string is safe as it is and
/// its display width is its length.
@inline(__always)
public func isPrintableASCII(_ s: String) -> Bool {
    allBytes(s, printableOnly: true)
}

public func isPrintableASCII(_ b: UnsafeRawBufferPointer) -> Bool {
    allBytes(b, printableOnly: true)
}

/// Whether every byte is ASCII (< 0x80).
@inline(__always)
func isASCII(_ s: String) -> Bool {
    allBytes(s, printableOnly: false)
}

@inline(__always)
func allBytes(_ s: String, printableOnly: Bool) -> Bool {
    if let r = s.utf8.withContiguousStorageIfAvailable({ allBytes(UnsafeRawBufferPointer($0), printableOnly: printableOnly) }) { return r }
    return s.utf8.allSatisfy { printableOnly ? $0 >= 0x20 && $0 < 0x7F : $0 < 0x80 }
}

/// Every byte ASCII, and with `printableOnly` none below 0x20 nor 0x7F; eight at a time.
@inline(__always)
func allBytes(_ b: UnsafeRawBufferPointer, printableOnly: Bool) -> Bool {
    let ones: UInt64 = 0x0101_0101_0101_0101
    var i = 0
    let n = b.count
    while i + 8 <= n {
        let w = b.loadUnaligned(fromByteOffset: i, as: UInt64.self)
        // >= 0x80; and < 0x20 (the subtraction borrows) or 0x7F (adding 1 reaches bit 7). A
        // borrow or carry into a neighbour only comes from a byte that is flagged itself.
        let flagged = printableOnly ? w | (w &- ones &* 0x20) | (w &+ ones) : w
        if flagged & (ones &* 0x80) != 0 { return false }
        i += 8
    }
    while i < n {
        let c = b[i]
        if c >= 0x80 || (printableOnly && (c < 0x20 || c == 0x7F)) { return false }
        i += 1
    }
    return true
}

/// C1 controls, bidi embeddings/overrides/isolates, line and paragraph separators, BOM and
/// other invisible specials that can reorder or hide what is on screen.
@inline(__always)
func isDangerousFormat(_ v: UInt32) -> Bool {
    (v >= 0x80 && v <= 0x9F) || (v >= 0x202A && v <= 0x202E) || (v >= 0x2066 && v <= 0x2069)
        || v == 0x2028 || v == 0x2029 || v == 0x200E || v == 0x200F || v == 0x061C || v == 0xFEFF
        || (v >= 0xFFF9 && v <= 0xFFFB)
}

func hex4(_ v: UInt32) -> String {
    let s = String(v, radix: 16, uppercase: true)
    return s.count >= 4 ? s : String(repeating: "0", count: 4 - s.count) + s
}

/// Display columns of one scalar as a terminal lays it out: 0 for combining marks and
/// zero-width formats, 2 for East Asian wide/fullwidth and emoji presentation, else 1.
public func displayWidth(_ u: Unicode.Scalar) -> Int {
    let v = u.value
    if v < 0x7F { return v >= 0x20 ? 1 : 0 }
    if v < 0xA0 { return 0 }
    if v == 0x00AD { return 1 }
    if v >= 0x1160 && v <= 0x11FF { return 0 }  // Hangul medial vowels and final consonants
    if v == 0x200B { return 0 }
    switch u.properties.generalCategory {
    case .nonspacingMark, .enclosingMark, .format: return 0
    default: break
    }
    if isWide(v) || u.properties.isEmojiPresentation { return 2 }
    return 1
}

/// Display columns of a grapheme: its base scalar's width, widened by an emoji
/// presentation selector, regional-indicator flags and ZWJ sequences count as one emoji.
public func displayWidth(_ c: Character) -> Int {
    let scalars = c.unicodeScalars
    guard let first = scalars.first else { return 0 }
    if scalars.count == 1 { return displayWidth(first) }
    var w = displayWidth(first)
    for u in scalars.dropFirst() {
        if u.value == 0xFE0F && w == 1 { w = 2 }
        if first.value >= 0x1F1E6 && first.value <= 0x1F1FF { w = 2 }
    }
    return w
}

public func displayWidth(_ s: String) -> Int {
    if isASCII(s) { return s.utf8.count }
    var w = 0
    for c in s { w += displayWidth(c) }
    return w
}

/// Pads with spaces to `width` display columns (no truncation).
public func pad(_ s: String, _ width: Int) -> String {
    let w = displayWidth(s)
    return w >= width ? s : s + String(repeating: " ", count: width - w)
}

@inline(__always)
func isWide(_ v: UInt32) -> Bool {
    if v < 0x1100 { return false }
    for r in wideRanges {
        if v < r.lowerBound { return false }
        if v <= r.upperBound { return true }
    }
    return false
}

/// East Asian Wide (W) and Fullwidth (F) blocks, sorted. Emoji are covered by the
/// Emoji_Presentation property instead.
let wideRanges: [ClosedRange<UInt32>] = [
    0x1100 ... 0x115F, 0x2329 ... 0x232A, 0x2E80 ... 0x303E, 0x3041 ... 0x33FF,
    0x3400 ... 0x4DBF, 0x4E00 ... 0x9FFF, 0xA000 ... 0xA4CF, 0xA960 ... 0xA97F,
    0xAC00 ... 0xD7A3, 0xF900 ... 0xFAFF, 0xFE10 ... 0xFE19, 0xFE30 ... 0xFE6F,
    0xFF00 ... 0xFF60, 0xFFE0 ... 0xFFE6, 0x16FE0 ... 0x16FE4, 0x17000 ... 0x18AFF,
    0x1B000 ... 0x1B2FF, 0x1F200 ... 0x1F2FF, 0x20000 ... 0x2FFFD, 0x30000 ... 0x3FFFD,
]
