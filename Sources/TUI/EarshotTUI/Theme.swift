// Themes: what each semantic Role looks like. Read from small text files (themes/*.theme) so
// people can change colours without rebuilding; `dark` and `monochrome` are also built in.
//
// ## The theme file format
//
// One setting a line; blank lines are ignored and `#` starts a comment (anywhere on a line):
//
//     # my theme
//     name = dark
//     user-text     = 81   -    bold
//     selection     = 255  24
//     search-match  = black bright-yellow bold underline
//
// - `name = NAME` names the theme (optional: the file name without `.theme` otherwise).
// - `ROLE = FG [BG] [ATTR...]` styles one role. ROLE is the Role's rawValue in kebab-case
//   (`userText` → `user-text`, `borderFocused` → `border-focused`, `jsonKey` → `json-key`,
//   `statusOK` → `status-ok`). A role may be set only once per file.
// - FG and BG are colours: `default` or `-` (the terminal's own), the 16 names `black red green
//   yellow blue magenta cyan white` (indexes 0-7) and `bright-black` ... `bright-white`
//   (8-15), or an index 0-255 of the xterm 256-colour palette. BG may be left out (default).
// - ATTR: any of `bold dim underline reverse italic`, in any order.
// - Roles, colours and attributes are case-insensitive; spaces and tabs separate words.
// - A theme does not have to set every role: a role it leaves out looks like `normal`, and a
//   theme without `normal` uses the terminal's default colours.
//
// Errors name the file, the line and what is wrong, e.g.
// `themes/x.theme:12: unknown colour 'purple'`. In the BG position a word that is neither a
// colour nor an attribute is reported as `unknown colour or attribute 'WORD'`.
//
// ## Fewer colours, no colour
//
// `degraded(toColors:)` fits a theme to what the terminal has (8/16 colours: each index past
// the palette becomes the basic colour that looks most like it, see `nearest`; fewer than 8:
// attributes only), and `effective(_:environment:colors:)` also honours NO_COLOR
// (https://no-color.org): colours removed, attributes kept, selection and focus kept visible.

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public struct Theme: Sendable, Equatable {
    public var name: String
    /// The roles the theme sets; the subscript gives every role a style.
    public var styles: [Role: Style]

    public init(name: String, styles: [Role: Style]) {
        self.name = name
        self.styles = styles
    }

    /// The role's style, `normal`'s for a role the theme does not set, plain without either.
    public subscript(role: Role) -> Style {
        styles[role] ?? styles[.normal] ?? .plain
    }
}

// MARK: - Errors

/// A theme that cannot be used: `FILE:LINE: what is wrong` (`FILE: ...` for the whole file).
public struct ThemeError: Error, CustomStringConvertible, Equatable {
    /// The file as it was given; empty when no file is involved (a name that was not found).
    public var file: String
    /// 1-based; nil when the problem is not on one line (unreadable file, unknown name).
    public var line: Int?
    public var message: String

    public init(file: String, line: Int?, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String {
        if file.isEmpty { return message }
        guard let line else { return "\(file): \(message)" }
        return "\(file):\(line): \(message)"
    }
}

// MARK: - Role names in theme files

extension Role {
    /// The name used in theme files: the rawValue in kebab-case (`userText` → `user-text`,
    /// `statusOK` → `status-ok`: a run of capitals is one word).
    public var kebabName: String {
        let chars = Array(rawValue)
        var out = ""
        for (i, c) in chars.enumerated() {
            if c.isUppercase && i > 0 {
                let prev = chars[i - 1]
                let nextIsLower = i + 1 < chars.count && chars[i + 1].isLowercase
                if prev.isLowercase || prev.isNumber || (prev.isUppercase && nextIsLower) { out += "-" }
            }
            out += c.lowercased()
        }
        return out
    }

    /// The role named `kebabName` in a theme file (case-insensitive).
    public init?(kebabName: String) {
        guard let role = rolesByKebabName[kebabName.lowercased()] else { return nil }
        self = role
    }
}

private let rolesByKebabName: [String: Role] = Dictionary(uniqueKeysWithValues: Role.allCases.map { ($0.kebabName, $0) })

// MARK: - Parsing

extension Theme {
    /// The 16 basic colour names, index = position.
    static let colorNames = ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"]
        + ["black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"].map { "bright-" + $0 }

    static let attributeNames: [(String, Attributes)] = [
        ("bold", .bold), ("dim", .dim), ("underline", .underline), ("reverse", .reverse), ("italic", .italic),
    ]

    private enum ColorWord {
        case color(Color)
        case outOfRange
        case unknown
    }

    private static func colorWord(_ word: String) -> ColorWord {
        if word == "default" || word == "-" { return .color(.default) }
        if let i = colorNames.firstIndex(of: word) { return .color(.index(UInt8(i))) }
        if !word.isEmpty && word.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) {
            guard let n = Int(word), n <= 255 else { return .outOfRange }
            return .color(.index(UInt8(n)))
        }
        return .unknown
    }

    private static func attribute(_ word: String) -> Attributes? {
        attributeNames.first { $0.0 == word }?.1
    }

    /// Parses the text of a theme file; `file` is used in error messages and, when the text has
    /// no `name = ...` line, for the name (its last path component without `.theme`).
    public static func parse(_ text: String, file: String) throws(ThemeError) -> Theme {
        var name: String?
        var nameLine = 0
        var styles: [Role: Style] = [:]
        var setOn: [Role: Int] = [:]
        var lineNumber = 0
        // "\r\n" is one Character, so split on both.
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            lineNumber += 1
            func fail(_ message: String) -> ThemeError { ThemeError(file: file, line: lineNumber, message: message) }
            let expected = "expected ROLE = FG [BG] [ATTR...]"

            var line = rawLine
            if lineNumber == 1 && line.first == "\u{FEFF}" { line = line.dropFirst() }
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            line = trimmed(line)
            if line.isEmpty { continue }

            guard let eq = line.firstIndex(of: "=") else { throw fail(expected) }
            let key = trimmed(line[..<eq]).lowercased()
            let value = trimmed(line[line.index(after: eq)...])
            guard !key.isEmpty else { throw fail(expected) }

            if key == "name" {
                guard !value.isEmpty, !value.contains("=") else { throw fail("expected name = NAME") }
                if name != nil { throw fail("duplicate name (already set on line \(nameLine))") }
                name = String(value)
                nameLine = lineNumber
                continue
            }

            guard let role = Role(kebabName: key) else {
                let known = Role.allCases.map(\.kebabName).joined(separator: ", ")
                throw fail("unknown role '\(key)' (known: \(known))")
            }
            if let first = setOn[role] {
                throw fail("duplicate role '\(key)' (already set on line \(first))")
            }
            let words = value.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { $0.lowercased() }
            guard !words.isEmpty, !value.contains("=") else { throw fail(expected) }

            var style = Style()
            switch colorWord(words[0]) {
            case let .color(c): style.fg = c
            case .outOfRange: throw fail("colour \(words[0]) is out of range 0-255")
            case .unknown:
                if attribute(words[0]) != nil {
                    throw fail("unknown colour '\(words[0])' (attributes come after FG [BG]; '-' is the default colour)")
                }
                throw fail("unknown colour '\(words[0])'")
            }
            var rest = words.dropFirst()
            if let second = rest.first, attribute(second) == nil {
                switch colorWord(second) {
                case let .color(c): style.bg = c
                case .outOfRange: throw fail("colour \(second) is out of range 0-255")
                case .unknown: throw fail("unknown colour or attribute '\(second)'")
                }
                rest = rest.dropFirst()
            }
            for word in rest {
                guard let a = attribute(word) else {
                    if case .unknown = colorWord(word) { throw fail("unknown attribute '\(word)'") }
                    throw fail("unknown attribute '\(word)' (FG and BG are already given)")
                }
                style.attrs.insert(a)
            }
            styles[role] = style
            setOn[role] = lineNumber
        }
        return Theme(name: name ?? defaultName(forFile: file), styles: styles)
    }

    private static func trimmed(_ s: Substring) -> Substring {
        var s = s
        while let c = s.first, c == " " || c == "\t" || c == "\r" { s = s.dropFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" { s = s.dropLast() }
        return s
    }

    private static func defaultName(forFile file: String) -> String {
        var base = file.split(separator: "/").last.map(String.init) ?? ""
        if base.hasSuffix(".theme") { base.removeLast(".theme".count) }
        return base
    }
}

// MARK: - Loading

extension Theme {
    /// Reads and parses a theme file.
    public static func load(path: String) throws(ThemeError) -> Theme {
        let bytes = try readThemeFile(path)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ThemeError(file: path, line: nil, message: "not UTF-8 text")
        }
        return try parse(text, file: path)
    }

    /// The theme `name`: a value containing `/` or ending in `.theme` is a path; otherwise the
    /// first `NAME.theme` in `searchPaths` (in order), then the built-in `dark` and `monochrome`.
    public static func load(named name: String, searchPaths: [String]) throws(ThemeError) -> Theme {
        if name.contains("/") || name.hasSuffix(".theme") { return try load(path: name) }
        guard !name.isEmpty else { throw ThemeError(file: "", line: nil, message: "empty theme name") }
        for dir in searchPaths where !dir.isEmpty {
            let path = joined(dir, name + ".theme")
            if access(path, F_OK) == 0 { return try load(path: path) }
        }
        if let builtin = builtins[name] { return builtin }
        let looked = searchPaths.filter { !$0.isEmpty }
        let lookedText = looked.isEmpty ? "no search paths" : "looked in " + looked.joined(separator: ", ")
        throw ThemeError(file: "", line: nil,
                         message: "no theme named '\(name)' (\(lookedText); available: \(available(searchPaths: searchPaths).joined(separator: ", ")))")
    }

    /// The theme names `load(named:searchPaths:)` can find: every `*.theme` in the search paths
    /// and the built-in ones, sorted.
    public static func available(searchPaths: [String]) -> [String] {
        var names = Set(builtins.keys)
        for dir in searchPaths where !dir.isEmpty {
            for file in themeFiles(in: dir) { names.insert(String(file.dropLast(".theme".count))) }
        }
        return names.sorted()
    }

    static var builtins: [String: Theme] { ["dark": builtinDark, "monochrome": monochrome] }

    /// The `*.theme` file names in `dir` (not paths), sorted; empty when it cannot be read.
    static func themeFiles(in dir: String) -> [String] {
        guard let d = opendir(dir) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let entry = readdir(d) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) {
                String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self))
            }
            if name.hasSuffix(".theme") && name.count > ".theme".count && !name.hasPrefix(".") { names.append(name) }
        }
        return names.sorted()
    }

    private static func joined(_ dir: String, _ file: String) -> String {
        dir.hasSuffix("/") ? dir + file : dir + "/" + file
    }

    /// Theme files are small; anything past 1 MiB is refused.
    private static func readThemeFile(_ path: String) throws(ThemeError) -> [UInt8] {
        func failure(_ reason: String) -> ThemeError { ThemeError(file: path, line: nil, message: "cannot read: \(reason)") }
        guard let f = fopen(path, "rb") else { throw failure(String(cString: strerror(errno))) }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            let n = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
            bytes.append(contentsOf: buffer[..<n])
            if bytes.count > 1 << 20 { throw failure("too large for a theme file") }
            if n < buffer.count {
                if ferror(f) != 0 { throw failure(String(cString: strerror(errno))) }
                break
            }
        }
        return bytes
    }
}

// MARK: - Built-in themes

extension Theme {
    /// The default theme, the same as themes/dark.theme, so the binary needs no themes folder.
    public static let builtinDark: Theme = try! parse(builtinDarkText, file: "<built-in dark>")

    /// Attributes only, no colour at all (the same as themes/monochrome.theme).
    public static let monochrome: Theme = try! parse(builtinMonochromeText, file: "<built-in monochrome>")

    static let builtinDarkText = """
# Earshot theme: dark (the default; built into the binary as Theme.builtinDark).
# For terminals with a dark background and 256 colours; the background stays the terminal's
# own except where a role sets one. Format: themes/README.md.
#
# ROLE = FG [BG] [ATTR...]      colours: default, -, black..white, bright-black..bright-white, 0-255
#                               attributes: bold dim underline reverse italic
name = dark

normal           = default
border           = 242
border-focused   = 75       -    bold
title            = 245
title-focused    = 117      -    bold
sender           = 110
sender-selected  = 231      31   bold
time             = 243
count            = 244

# The conversation: user, bot and system lines must never be confused.
user-text        = 81       -    bold
bot-text         = 230
intent           = 141
low-confidence   = 214      -    bold
entity           = 157
button           = 111      -    underline
action           = 176
slot             = 109
system           = 245      -    italic
undecodable      = 203      -    bold

selection        = 255      24
search-match     = 16       220  bold
badge            = 231      61   bold
new-marker       = 78       -    bold

# The detail view's JSON.
json-key         = 75
json-string      = 114
json-number      = 215
json-literal     = 176
json-punctuation = 244

# The status bar; the state roles are drawn inside it, so they share its background.
status-bar       = 252      236
status-ok        = 78       236  bold
status-warn      = 220      236  bold
status-error     = 203      236  bold

help-key         = 117      -    bold
help-text        = 250
prompt           = 75       -    bold
menu-checked     = 114      -    bold
"""

    static let builtinMonochromeText = """
# Earshot theme: monochrome. Attributes only, every colour is the terminal's default: for
# terminals without colour and people who prefer none (built into the binary as
# Theme.monochrome; NO_COLOR strips the colours of any theme in the same spirit).
# Format: themes/README.md.
name = monochrome

normal           = default
border           = default  -    dim
border-focused   = default  -    bold
title            = default
title-focused    = default  -    bold
sender           = default
sender-selected  = default  -    reverse
time             = default  -    dim
count            = default  -    dim

# The conversation: user bold, bot plain, system dim italic.
user-text        = default  -    bold
bot-text         = default
intent           = default  -    italic
low-confidence   = default  -    bold underline
entity           = default  -    underline
button           = default  -    underline
action           = default  -    italic
slot             = default  -    italic
system           = default  -    dim italic
undecodable      = default  -    bold reverse

selection        = default  -    reverse
search-match     = default  -    bold underline
badge            = default  -    reverse
new-marker       = default  -    bold

# The detail view's JSON.
json-key         = default  -    bold
json-string      = default
json-number      = default  -    italic
json-literal     = default  -    underline
json-punctuation = default  -    dim

status-bar       = default  -    reverse
status-ok        = default  -    reverse
status-warn      = default  -    reverse bold
status-error     = default  -    reverse bold underline

help-key         = default  -    bold
help-text        = default
prompt           = default  -    bold
menu-checked     = default  -    bold
"""
}

// MARK: - Fewer colours

extension Theme {
    /// The theme for a terminal with `n` colours: unchanged from 256 up; with 8 to 255, every
    /// index the terminal lacks (and, below 256, every index from 16, whose meaning differs on
    /// 88-colour terminals) becomes the nearest of the first min(n, 16) in the xterm palette
    /// (`nearest`), never the same as the cell's background; below 8, no colour at all (see
    /// `withoutColors`).
    public func degraded(toColors n: Int) -> Theme {
        if n >= 256 { return self }
        if n < 8 { return withoutColors() }
        let limit = Swift.min(n, 16)
        var out = self
        for (role, style) in styles {
            var s = style
            s.bg = Theme.fit(style.bg, limit: limit, avoiding: nil)
            s.fg = Theme.fit(style.fg, limit: limit, avoiding: style.fg != style.bg ? s.bg : nil)
            out.styles[role] = s
        }
        return out
    }

    /// Attributes to add, when colours are removed, to roles that must stay visible: a
    /// selection, a focus, a search match.
    static let visibilityAttributes: [Role: Attributes] = [
        .selection: .reverse,
        .senderSelected: .reverse,
        .searchMatch: [.bold, .underline],
        .borderFocused: .bold,
        .titleFocused: .bold,
    ]

    /// Every colour replaced by the default, attributes kept; every role gets a style. A
    /// `visibilityAttributes` role that would be left with no attribute, or whose background
    /// colour was what set it apart (a selection that is bold on a bright background stays
    /// bold but would look like a bold search match), gets its visibility attributes added.
    public func withoutColors() -> Theme {
        var out = Theme(name: name, styles: [:])
        for role in Role.allCases {
            let original = self[role]
            var s = Style(attrs: original.attrs)
            if let extra = Theme.visibilityAttributes[role], s.attrs.isEmpty || original.bg != .default {
                s.attrs.formUnion(extra)
            }
            out.styles[role] = s
        }
        return out
    }

    /// The theme to draw with: without colour when NO_COLOR is set to a non-empty value
    /// (https://no-color.org), otherwise degraded to the terminal's `colors`.
    public static func effective(_ t: Theme, environment: [String: String], colors: Int) -> Theme {
        if let v = environment["NO_COLOR"], !v.isEmpty { return t.withoutColors() }
        return t.degraded(toColors: colors)
    }

    /// The colour as the nearest index below `limit` (see `nearest`); `avoiding` (a background)
    /// is never chosen, so text cannot become invisible.
    static func fit(_ c: Color, limit: Int, avoiding: Color?) -> Color {
        guard case let .index(i) = c else { return c }
        var avoid: Int?
        if case let .index(a)? = avoiding { avoid = Int(a) }
        if Int(i) < limit && Int(i) != avoid { return c }
        return .index(UInt8(nearest(Int(i), limit: limit, avoiding: avoid)))
    }

    /// The xterm hue families of the basic colours: hue in degrees, normal and bright index.
    private static let hueFamilies: [(hue: Double, normal: Int, bright: Int)] = [
        (0, 1, 9), (60, 3, 11), (120, 2, 10), (180, 6, 14), (240, 4, 12), (300, 5, 13),
    ]

    /// The basic colour (below `limit`, 8 or 16) that looks most like index `i`. Plain RGB
    /// distance turns every muted colour grey (salmon, sea green, sky blue all become
    /// bright-black), so: a near-grey (channels within 40 of each other) becomes the grey
    /// (black, bright-black, white, bright-white) of nearest CIELAB lightness; any other colour
    /// keeps its hue family (red, yellow, green, cyan, blue, magenta, by HSV hue; both families
    /// when the hue is within 5° of halfway), and CIELAB distance picks among those.
    static func nearest(_ i: Int, limit: Int, avoiding avoid: Int?) -> Int {
        let c = rgb(i)
        let hi = max(c.0, c.1, c.2), lo = min(c.0, c.1, c.2)
        var candidates: [Int]
        if hi - lo <= 40 {
            candidates = [0, 8, 7, 15]
        } else {
            let h = hue(c)
            func apart(_ f: Double) -> Double { let d = abs(h - f).truncatingRemainder(dividingBy: 360); return min(d, 360 - d) }
            let best = hueFamilies.map { apart($0.hue) }.min()!
            candidates = hueFamilies.filter { apart($0.hue) <= best + 5 }.flatMap { [$0.normal, $0.bright] }
        }
        candidates = candidates.filter { $0 < limit && $0 != avoid }
        // Only when the avoided colour was the one candidate (never for the palettes used here).
        if candidates.isEmpty { candidates = (0 ..< limit).filter { $0 != avoid } }
        let target = lab(c)
        let grey = hi - lo <= 40
        return candidates.min { a, b in
            let la = lab(rgb(a)), lb = lab(rgb(b))
            return grey ? abs(la.l - target.l) < abs(lb.l - target.l) : labDistance(la, target) < labDistance(lb, target)
        }!
    }

    /// HSV hue in degrees (0 for greys).
    static func hue(_ c: (Int, Int, Int)) -> Double {
        let r = Double(c.0), g = Double(c.1), b = Double(c.2)
        let hi = max(r, g, b), d = hi - min(r, g, b)
        guard d > 0 else { return 0 }
        var h: Double
        if hi == r { h = ((g - b) / d).truncatingRemainder(dividingBy: 6) } else if hi == g { h = (b - r) / d + 2 } else { h = (r - g) / d + 4 }
        h *= 60
        return h < 0 ? h + 360 : h
    }

    /// sRGB to CIELAB (D65).
    static func lab(_ c: (Int, Int, Int)) -> (l: Double, a: Double, b: Double) {
        func linear(_ v: Int) -> Double {
            let x = Double(v) / 255
            return x <= 0.04045 ? x / 12.92 : pow((x + 0.055) / 1.055, 2.4)
        }
        let r = linear(c.0), g = linear(c.1), b = linear(c.2)
        let x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
        let y = 0.2126 * r + 0.7152 * g + 0.0722 * b
        let z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883
        func f(_ t: Double) -> Double { t > 0.008856 ? cbrt(t) : 7.787 * t + 16.0 / 116 }
        let fx = f(x), fy = f(y), fz = f(z)
        return (116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz))
    }

    static func labDistance(_ p: (l: Double, a: Double, b: Double), _ q: (l: Double, a: Double, b: Double)) -> Double {
        (p.l - q.l) * (p.l - q.l) + (p.a - q.a) * (p.a - q.a) + (p.b - q.b) * (p.b - q.b)
    }

    static let basicRGB: [(Int, Int, Int)] = [
        (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
        (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255), (255, 255, 255),
    ]

    /// The xterm RGB value of index `i`: the basic 16, the 6x6x6 cube (16-231), the greys (232-255).
    static func rgb(_ i: Int) -> (Int, Int, Int) {
        if i < 16 { return basicRGB[i] }
        if i < 232 {
            let levels = [0, 95, 135, 175, 215, 255]
            let c = i - 16
            return (levels[c / 36], levels[(c / 6) % 6], levels[c % 6])
        }
        let g = 8 + 10 * (i - 232)
        return (g, g, g)
    }
}
