import Testing
@testable import EarshotCore

/// No scalar of `s` can drive a terminal: no C0 control, no DEL, no C1 control.
private func isTerminalSafe(_ s: String) -> Bool {
    s.unicodeScalars.allSatisfy { !($0.value < 0x20 || (0x7F ... 0x9F).contains($0.value)) }
}

@Suite struct TerminalTextTests {
    // MARK: sanitize

    static let controlPictures: [(String, String)] = [
        ("\u{1B}", "\u{241B}"),   // ESC → ␛
        ("\u{07}", "\u{2407}"),   // BEL → ␇
        ("\r", "\u{240D}"),       // CR → ␍
        ("\n", "\u{240A}"),       // LF → ␊
        ("\t", "\u{2409}"),       // TAB → ␉
        ("\u{7F}", "\u{2421}"),   // DEL → ␡
        ("\u{00}", "\u{2400}"),   // NUL → ␀
        ("\u{08}", "\u{2408}"),   // BS → ␈
        ("\u{1F}", "\u{241F}"),   // US → ␟
    ]

    @Test(arguments: controlPictures)
    func controlsBecomeControlPictures(_ c: (String, String)) {
        #expect(sanitize(c.0) == c.1)
        #expect(sanitize("a" + c.0 + "b") == "a" + c.1 + "b")
    }

    @Test func escapeSequenceIsDefused() {
        let s = sanitize("\u{1B}[2J\u{1B}]0;pwned\u{07}hello")
        #expect(s == "\u{241B}[2J\u{241B}]0;pwned\u{2407}hello")
        #expect(!s.unicodeScalars.contains("\u{1B}"))
    }

    @Test func crlfIsTwoPictures() {
        // "\r\n" is a single Character in Swift; both scalars must still be replaced.
        #expect(sanitize("a\r\nb") == "a\u{240D}\u{240A}b")
    }

    static let dangerousFormats: [(String, String)] = [
        ("\u{9B}", "<U+009B>"),     // C1 CSI
        ("\u{80}", "<U+0080>"),
        ("\u{9F}", "<U+009F>"),
        ("\u{85}", "<U+0085>"),     // NEL
        ("\u{202E}", "<U+202E>"),   // RIGHT-TO-LEFT OVERRIDE
        ("\u{202A}", "<U+202A>"),
        ("\u{2066}", "<U+2066>"),   // LEFT-TO-RIGHT ISOLATE
        ("\u{2069}", "<U+2069>"),
        ("\u{2028}", "<U+2028>"),   // LINE SEPARATOR
        ("\u{2029}", "<U+2029>"),
        ("\u{200E}", "<U+200E>"),
        ("\u{200F}", "<U+200F>"),
        ("\u{061C}", "<U+061C>"),
        ("\u{FEFF}", "<U+FEFF>"),
        ("\u{FFF9}", "<U+FFF9>"),
    ]

    @Test(arguments: dangerousFormats)
    func dangerousFormatsAreSpelledOut(_ c: (String, String)) {
        #expect(sanitize(c.0) == c.1)
        #expect(sanitize("x" + c.0 + "y") == "x" + c.1 + "y")
    }

    @Test func bidiSpoofIsVisible() {
        #expect(sanitize("invoice\u{202E}fdp.exe") == "invoice<U+202E>fdp.exe")
    }

    @Test(arguments: [
        "", "plain ASCII text 123 !@#$%^&*()_+-=[]{};':\",./<>?`~ \\",
        "Grüße aus München", "你好，世界", "👋🇩🇪👨‍👩‍👧", "e\u{301}", "❤️", "한국어", "Ａ", "zero\u{200B}width", "ZWJ\u{200D}",
        "soft\u{AD}hyphen", "\u{2400} already a picture",
    ])
    func ordinaryTextIsUnchanged(_ s: String) {
        #expect(sanitize(s) == s)
        #expect(Array(sanitize(s).unicodeScalars) == Array(s.unicodeScalars))
    }

    @Test func resultIsAlwaysTerminalSafe() {
        // Every scalar below U+00A0 plus the specials, alone and mixed with text.
        var all = ""
        for v in 0 ..< 0xA0 { all.unicodeScalars.append(Unicode.Scalar(UInt8(v))) }
        for v: UInt32 in [0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069, 0x2028, 0x2029] {
            all.unicodeScalars.append(Unicode.Scalar(v)!)
        }
        let out = sanitize(all)
        #expect(isTerminalSafe(out))
        for v: UInt32 in [0x202A, 0x202E, 0x2066, 0x2069, 0x2028, 0x2029] {
            #expect(!out.unicodeScalars.contains(Unicode.Scalar(v)!))
        }
        // Printable ASCII survives in order.
        #expect(out.contains(" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~"))

        var rng = SplitMix(seed: 42)
        for _ in 0 ..< 2_000 {
            var s = ""
            for _ in 0 ..< Int(rng.next() % 12) {
                let pick = rng.next() % 4
                let v: UInt32 = pick == 0 ? UInt32(rng.next() % 0xA0) : pick == 1 ? 0x2000 + UInt32(rng.next() % 0x80) : UInt32(rng.next() % 0x3000)
                if let u = Unicode.Scalar(v) { s.unicodeScalars.append(u) }
            }
            let o = sanitize(s)
            #expect(isTerminalSafe(o), "\(Array(s.unicodeScalars))")
        }
    }

    // MARK: displayWidth

    static let widths: [(String, Int)] = [
        ("", 0),
        ("a", 1),
        ("hello", 5),
        ("你好", 4),
        ("你好, world", 11),
        ("👋", 2),
        ("👋🏽", 2),                 // skin tone modifier
        ("🇩🇪", 2),                 // flag: two regional indicators
        ("🇩🇪🇫🇷", 4),
        ("👨‍👩‍👧", 2),              // ZWJ family
        ("e\u{301}", 1),           // é decomposed
        ("\u{E9}", 1),             // é precomposed
        ("cafe\u{301}", 4),
        ("\u{200B}", 0),           // zero-width space
        ("a\u{200B}b", 2),
        ("❤️", 2),                 // U+2764 + FE0F
        ("❤", 1),                  // without the selector: text presentation
        ("1️⃣", 2),                 // keycap
        ("한", 2),                 // Hangul syllable
        ("\u{1112}\u{1161}\u{11AB}", 2),  // the same syllable as conjoining jamo
        ("Ａ", 2),                 // fullwidth A
        ("ｱ", 1),                  // halfwidth katakana
        ("…", 1),
        ("Grüße", 5),
    ]

    @Test(arguments: widths)
    func displayWidthOfStrings(_ c: (String, Int)) {
        #expect(displayWidth(c.0) == c.1, "\(Array(c.0.unicodeScalars))")
    }

    @Test func displayWidthOfCharactersAndScalars() {
        #expect(displayWidth(Character("a")) == 1)
        #expect(displayWidth(Character("你")) == 2)
        #expect(displayWidth(Character("👨‍👩‍👧")) == 2)
        #expect(displayWidth(Character("e\u{301}")) == 1)
        #expect(displayWidth(Unicode.Scalar(0x301)!) == 0)   // combining acute alone
        #expect(displayWidth(Unicode.Scalar(0x200D)!) == 0)  // ZWJ
        #expect(displayWidth(Unicode.Scalar(0xFE0F)!) == 0)  // variation selector
        #expect(displayWidth(Unicode.Scalar(0x1B)!) == 0)    // controls take no column
        #expect(displayWidth(Unicode.Scalar(0x9B)!) == 0)
        #expect(displayWidth(Unicode.Scalar(0x4E00)!) == 2)
        #expect(displayWidth(Unicode.Scalar(0x1F600)!) == 2)
    }

    // MARK: pad / clipped

    @Test func padCountsColumns() {
        #expect(pad("ab", 5) == "ab   ")
        #expect(pad("你好", 6) == "你好  ")
        #expect(displayWidth(pad("你好", 6)) == 6)
        #expect(pad("👋", 3) == "👋 ")
        #expect(pad("e\u{301}", 3) == "e\u{301}  ")
        #expect(pad("abcdef", 3) == "abcdef")  // never truncates
        #expect(pad("你好", 4) == "你好")
        #expect(pad("", 2) == "  ")
    }

    @Test func clippedCutsToColumnsWithAnEllipsis() {
        #expect(clipped("hello", 10) == "hello")
        #expect(clipped("hello", 5) == "hello")
        #expect(clipped("hello world", 5) == "hell…")
        #expect(clipped("abc", 1) == "…")
        #expect(clipped("你好世界", 8) == "你好世界")
        #expect(clipped("你好世界", 7) == "你好世…")
        #expect(clipped("你好世界", 6) == "你好…")   // 世 would reach column 7: left out
        #expect(clipped("你好世界", 5) == "你好…")
        #expect(clipped("你好世界", 4) == "你…")
        #expect(clipped("👨‍👩‍👧👨‍👩‍👧", 3) == "👨‍👩‍👧…")  // a grapheme is never split
        #expect(clipped("e\u{301}e\u{301}e\u{301}", 2) == "e\u{301}…")
    }

    @Test func clippedNeverExceedsTheLimit() {
        let samples = ["你好世界你好", "a你b好c世d界", "👋👋👋👋", "🇩🇪🇫🇷🇮🇹", "abcdefgh", "ＡＢＣＤ", "é\u{301}x你"]
        for s in samples {
            for limit in 1 ... 12 {
                let c = clipped(s, limit)
                #expect(displayWidth(c) <= limit, "\(s) @\(limit) -> \(c)")
                if displayWidth(s) <= limit {
                    #expect(c == s)
                } else {
                    #expect(c.hasSuffix("…"))
                    // What is kept is a prefix of whole graphemes.
                    #expect(s.hasPrefix(String(c.dropLast())))
                    // And it is as long as fits: one more grapheme would not.
                    let kept = c.dropLast().count
                    let next = s[s.index(s.startIndex, offsetBy: kept)]
                    #expect(displayWidth(String(c.dropLast())) + displayWidth(next) > limit - 1)
                }
            }
        }
    }
}
