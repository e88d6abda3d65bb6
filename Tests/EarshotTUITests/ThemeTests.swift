import Testing
@testable import EarshotTUI
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The repository's themes/ folder, found from this file: Tests/EarshotTUITests/ThemeTests.swift.
private let themesDir: String = {
    var parts = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
    parts.removeLast(3)
    return parts.joined(separator: "/") + "/themes"
}()

private let shipped = ["dark", "light", "monochrome", "high-contrast"]

private func parseError(_ text: String, file: String = "themes/x.theme") -> String? {
    do {
        _ = try Theme.parse(text, file: file)
        return nil
    } catch {
        return error.description
    }
}

private func colors(of theme: Theme) -> [Color] {
    theme.styles.values.flatMap { [$0.fg, $0.bg] }.filter { $0 != .default }
}

private func maxIndex(_ theme: Theme) -> Int {
    colors(of: theme).map { c -> Int in if case let .index(i) = c { return Int(i) } else { return -1 } }.max() ?? -1
}

private func writeTemp(_ name: String, _ text: String) -> String {
    var template = Array("/tmp/earshot-theme-test-XXXXXX".utf8CString)
    let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    let path = dir + "/" + name
    let f = fopen(path, "wb")!
    fputs(text, f)
    fclose(f)
    return dir
}

/// All theme tests, so `--filter ThemeTests` selects them.
@Suite enum ThemeTests {}

extension ThemeTests {
    @Suite struct Files {
        @Test func theShippedThemesAreThere() {
            let files = Theme.themeFiles(in: themesDir)
            for name in shipped { #expect(files.contains(name + ".theme"), "\(name).theme missing in \(themesDir)") }
        }

        @Test(arguments: Theme.themeFiles(in: themesDir))
        func everyShippedThemeLoadsAndSetsEveryRole(file: String) throws {
            let theme = try Theme.load(path: themesDir + "/" + file)
            #expect(theme.name + ".theme" == file)
            let missing = Role.allCases.filter { theme.styles[$0] == nil }.map(\.kebabName)
            #expect(missing.isEmpty, "\(file) does not set \(missing)")
        }

        @Test func monochromeHasNoColour() throws {
            let file = try Theme.load(path: themesDir + "/monochrome.theme")
            #expect(colors(of: file).isEmpty)
            #expect(colors(of: Theme.monochrome).isEmpty)
            #expect(file == Theme.monochrome)
        }

        @Test func builtinDarkIsDarkTheme() throws {
            let file = try Theme.load(path: themesDir + "/dark.theme")
            #expect(file == Theme.builtinDark)
            #expect(Theme.builtinDark.name == "dark")
            #expect(Theme.builtinDark[.userText] == Style(fg: .index(81), attrs: .bold))
        }

        /// What the brief asks of every palette: these roles must not look alike.
        @Test(arguments: shipped)
        func conversationRolesAreDistinct(name: String) throws {
            let theme = try Theme.load(path: themesDir + "/\(name).theme")
            let always: [[Role]] = [
                [.userText, .botText, .system],
                [.normal, .selection],
                [.normal, .lowConfidence],
                [.normal, .undecodable],
                [.selection, .searchMatch],
            ]
            // Without colour only the attributes remain: the JSON roles are told apart by colour
            // (except in the monochrome theme, checked through `always` below).
            let colour: [[Role]] = [[.jsonKey, .jsonString, .jsonNumber, .jsonLiteral]]
            let versions = [(theme, true), (theme.degraded(toColors: 16), true), (theme.degraded(toColors: 8), true),
                            (theme.withoutColors(), name == "monochrome")]
            for (t, hasColour) in versions {
                let groups = hasColour ? always + colour : always
                for roles in groups {
                    let styles = roles.map { t[$0] }
                    #expect(Set(styles).count == styles.count, "\(name) (\(maxIndex(t) + 1) colours): \(roles) look alike")
                }
                for role in Role.allCases {
                    let s = t[role]
                    #expect(s.fg == .default || s.fg != s.bg, "\(name): \(role) is invisible (fg == bg)")
                }
            }
        }

        /// Green, yellow and red keep their meaning in 256, 16 and 8 colours.
        @Test(arguments: ["dark", "light"])
        func statusColoursMeanWhatTheySay(name: String) throws {
            let theme = try Theme.load(path: themesDir + "/\(name).theme")
            let red: Set<Color> = [.index(1), .index(9)], yellow: Set<Color> = [.index(3), .index(11)]
            let green: Set<Color> = [.index(2), .index(10)]
            for n in [16, 8] {
                let t = theme.degraded(toColors: n)
                #expect(green.contains(t[.statusOK].fg), "\(name)/\(n)")
                #expect(yellow.contains(t[.statusWarn].fg), "\(name)/\(n)")
                #expect(red.contains(t[.statusError].fg), "\(name)/\(n)")
                #expect(red.contains(t[.undecodable].fg), "\(name)/\(n)")
                #expect(!Set([t[.userText].fg, t[.botText].fg, t[.system].fg]).contains(t[.lowConfidence].fg), "\(name)/\(n)")
            }
            #expect(Theme.builtinDark.degraded(toColors: 16)[.botText].fg == .index(15))
        }
    }
}

extension ThemeTests {
    @Suite struct Parsing {
        @Test func format() throws {
            let t = try Theme.parse("""
                # a comment
                name = mine

                normal = default
                user-text = 81 - bold   # trailing comment
                bot-text=bright-white black
                SELECTION = 7 BLUE reverse UNDERLINE
                \tjson-key\t=\t255\t0\titalic dim
                border = -
                """, file: "x.theme")
            #expect(t.name == "mine")
            #expect(t.styles.count == 6)
            #expect(t[.userText] == Style(fg: .index(81), bg: .default, attrs: .bold))
            #expect(t[.botText] == Style(fg: .index(15), bg: .index(0)))
            #expect(t[.selection] == Style(fg: .index(7), bg: .index(4), attrs: [.reverse, .underline]))
            #expect(t[.jsonKey] == Style(fg: .index(255), bg: .index(0), attrs: [.italic, .dim]))
            #expect(t[.border] == .plain)
        }

        @Test func colourNames() throws {
            for (i, name) in Theme.colorNames.enumerated() {
                #expect(try Theme.parse("normal = \(name) \(name)", file: "x").styles[.normal] == Style(fg: .index(UInt8(i)), bg: .index(UInt8(i))))
            }
            #expect(Theme.colorNames.count == 16)
            #expect(Theme.colorNames[8] == "bright-black" && Theme.colorNames[15] == "bright-white")
        }

        @Test func nameDefaultsToFileNameAndNormalIsOptional() throws {
            let t = try Theme.parse("user-text = red\r\nbot-text = blue\r\n", file: "some/dir/ocean.theme")
            #expect(t.name == "ocean")
            #expect(t.styles[.normal] == nil)
            #expect(t[.normal] == .plain)
            #expect(t[.jsonKey] == .plain)
            #expect(try Theme.parse("\u{FEFF}normal = 3\nbadge = 4", file: "x")[.jsonKey] == Style(fg: .index(3)))
        }

        @Test func errors() {
            let known = "normal, border, border-focused, title, title-focused, sender, sender-selected, time, count, "
                + "user-text, bot-text, intent, low-confidence, entity, button, action, slot, system, undecodable, "
                + "selection, search-match, badge, new-marker, json-key, json-string, json-number, json-literal, "
                + "json-punctuation, status-bar, status-ok, status-warn, status-error, help-key, help-text, prompt, menu-checked"
            let head = "# header\nname = x\n\nnormal = default\n"   // four lines
            #expect(parseError(head + "foo = red") == "themes/x.theme:5: unknown role 'foo' (known: \(known))")
            #expect(parseError(head + "userText = red") == "themes/x.theme:5: unknown role 'usertext' (known: \(known))")
            #expect(parseError(head + "user-text = purple") == "themes/x.theme:5: unknown colour 'purple'")
            #expect(parseError(head + "user-text = bold") == "themes/x.theme:5: unknown colour 'bold' (attributes come after FG [BG]; '-' is the default colour)")
            #expect(parseError(head + "user-text = red purple") == "themes/x.theme:5: unknown colour or attribute 'purple'")
            #expect(parseError(head + "user-text = red - blink") == "themes/x.theme:5: unknown attribute 'blink'")
            #expect(parseError(head + "user-text = red bold blink") == "themes/x.theme:5: unknown attribute 'blink'")
            #expect(parseError(head + "user-text = red blue green") == "themes/x.theme:5: unknown attribute 'green' (FG and BG are already given)")
            #expect(parseError(head + "user-text = 300") == "themes/x.theme:5: colour 300 is out of range 0-255")
            #expect(parseError(head + "user-text = 1 256") == "themes/x.theme:5: colour 256 is out of range 0-255")
            #expect(parseError(head + "user-text = 99999999999999999999999") == "themes/x.theme:5: colour 99999999999999999999999 is out of range 0-255")
            #expect(parseError(head + "user-text = -1") == "themes/x.theme:5: unknown colour '-1'")
            #expect(parseError(head + "user-text red") == "themes/x.theme:5: expected ROLE = FG [BG] [ATTR...]")
            #expect(parseError(head + "user-text =") == "themes/x.theme:5: expected ROLE = FG [BG] [ATTR...]")
            #expect(parseError(head + "user-text =   # nothing") == "themes/x.theme:5: expected ROLE = FG [BG] [ATTR...]")
            #expect(parseError(head + "= red") == "themes/x.theme:5: expected ROLE = FG [BG] [ATTR...]")
            #expect(parseError(head + "user-text = red = blue") == "themes/x.theme:5: expected ROLE = FG [BG] [ATTR...]")
            #expect(parseError(head + "user-text = red\n\n# c\nuser-text = blue") == "themes/x.theme:8: duplicate role 'user-text' (already set on line 5)")
            #expect(parseError("normal = red\r\n\r\nnormal = blue\r\n") == "themes/x.theme:3: duplicate role 'normal' (already set on line 1)")
            #expect(parseError(head + "name = y") == "themes/x.theme:5: duplicate name (already set on line 2)")
            #expect(parseError(head + "name =") == "themes/x.theme:5: expected name = NAME")
            #expect(parseError("\n\n  \t\nbogus", file: "a.theme") == "a.theme:4: expected ROLE = FG [BG] [ATTR...]")
        }

        @Test func errorsWhenLoading() {
            #expect(throws: ThemeError(file: "/nonexistent/x.theme", line: nil, message: "cannot read: No such file or directory")) {
                try Theme.load(path: "/nonexistent/x.theme")
            }
            let dir = writeTemp("bad.theme", "normal = red\nbadge = 999\n")
            #expect(throws: ThemeError(file: dir + "/bad.theme", line: 2, message: "colour 999 is out of range 0-255")) {
                try Theme.load(named: "bad", searchPaths: [dir])
            }
            do {
                _ = try Theme.load(named: "solar", searchPaths: ["/nonexistent", dir])
                Issue.record("found a theme that does not exist")
            } catch {
                #expect(error.description == "no theme named 'solar' (looked in /nonexistent, \(dir); available: bad, dark, monochrome)")
            }
        }

        @Test func kebabNamesRoundTrip() throws {
            #expect(Role.userText.kebabName == "user-text")
            #expect(Role.borderFocused.kebabName == "border-focused")
            #expect(Role.jsonKey.kebabName == "json-key")
            #expect(Role.statusOK.kebabName == "status-ok")
            #expect(Role.normal.kebabName == "normal")
            var seen = Set<String>()
            for role in Role.allCases {
                let name = role.kebabName
                #expect(Role(kebabName: name) == role)
                #expect(Role(kebabName: name.uppercased()) == role)
                #expect(name.allSatisfy { $0.isLowercase || $0 == "-" }, "\(name)")
                #expect(name.replacingOccurrences("-", "") == role.rawValue.lowercased())
                #expect(seen.insert(name).inserted, "\(name) twice")
                #expect(try Theme.parse("\(name) = red", file: "x").styles == [role: Style(fg: .index(1))])
            }
        }
    }
}

extension ThemeTests {
    @Suite struct Lookup {
        @Test func namesAndPaths() throws {
            #expect(try Theme.load(named: "light", searchPaths: ["/nonexistent", themesDir]).name == "light")
            #expect(try Theme.load(named: themesDir + "/high-contrast.theme", searchPaths: []).name == "high-contrast")
            // Built-in fallbacks when no folder has them.
            #expect(try Theme.load(named: "dark", searchPaths: []) == Theme.builtinDark)
            #expect(try Theme.load(named: "monochrome", searchPaths: ["/nonexistent"]) == Theme.monochrome)
            // A folder's file wins over the built-in one.
            let dir = writeTemp("dark.theme", "name = my-dark\nnormal = 1\n")
            #expect(try Theme.load(named: "dark", searchPaths: [dir, themesDir]).name == "my-dark")
            #expect(try Theme.load(named: "dark", searchPaths: [dir + "/"]).name == "my-dark")
            // Ending in .theme makes it a path, relative or not.
            #expect(throws: ThemeError.self) { try Theme.load(named: "dark.theme", searchPaths: [themesDir]) }
            #expect(Theme.available(searchPaths: [themesDir]) == ["dark", "high-contrast", "light", "monochrome"])
        }
    }
}

extension ThemeTests {
    @Suite struct Degradation {
        @Test func palette() {
            #expect(Theme.rgb(16) == (0, 0, 0))
            #expect(Theme.rgb(231) == (255, 255, 255))
            #expect(Theme.rgb(196) == (255, 0, 0))
            #expect(Theme.rgb(110) == (135, 175, 215))
            #expect(Theme.rgb(232) == (8, 8, 8))
            #expect(Theme.rgb(255) == (238, 238, 238))
            #expect(Theme.rgb(9) == (255, 0, 0))
        }

        @Test func nearest() {
            #expect(Theme.fit(.index(196), limit: 16, avoiding: nil) == .index(9))
            #expect(Theme.fit(.index(196), limit: 8, avoiding: nil) == .index(1))
            #expect(Theme.fit(.index(9), limit: 8, avoiding: nil) == .index(1))
            #expect(Theme.fit(.index(9), limit: 16, avoiding: nil) == .index(9))
            #expect(Theme.fit(.index(231), limit: 16, avoiding: nil) == .index(15))
            #expect(Theme.fit(.index(16), limit: 16, avoiding: nil) == .index(0))
            #expect(Theme.fit(.index(244), limit: 16, avoiding: nil) == .index(8))
            #expect(Theme.fit(.index(244), limit: 8, avoiding: nil) == .index(7))
            #expect(Theme.fit(.index(203), limit: 16, avoiding: nil) == .index(1))   // salmon stays red, not grey
            #expect(Theme.fit(.index(78), limit: 16, avoiding: nil) == .index(2))    // sea green stays green
            #expect(Theme.fit(.index(214), limit: 8, avoiding: nil) == .index(3))    // orange: yellow
            #expect(Theme.fit(.index(19), limit: 16, avoiding: nil) == .index(4))
            #expect(Theme.fit(.index(12), limit: 8, avoiding: nil) == .index(4))
            #expect(Theme.fit(.index(8), limit: 8, avoiding: nil) == .index(7))
            #expect(Theme.fit(.index(15), limit: 8, avoiding: .index(7)) == .index(0))
            #expect(Theme.fit(.index(231), limit: 16, avoiding: .index(15)) != .index(15))
            #expect(Theme.fit(.default, limit: 8, avoiding: nil) == .default)
        }

        @Test(arguments: shipped)
        func noIndexBeyondTheTerminal(name: String) throws {
            let theme = try Theme.load(path: themesDir + "/\(name).theme")
            for n in [8, 16, 88] {
                let d = theme.degraded(toColors: n)
                #expect(maxIndex(d) < min(n, 16), "\(name) degraded to \(n)")
                #expect(Set(d.styles.keys) == Set(theme.styles.keys))
                for role in Role.allCases { #expect(d[role].attrs == theme[role].attrs) }
            }
            for n in [0, 1, 2, 7, -1] {
                let d = theme.degraded(toColors: n)
                #expect(colors(of: d).isEmpty, "\(name) degraded to \(n)")
                for role in Role.allCases { #expect(d[role].attrs.isSuperset(of: theme[role].attrs)) }
            }
            #expect(theme.degraded(toColors: 256) == theme)
            #expect(theme.degraded(toColors: 1 << 24) == theme)
        }

        @Test func basicColoursSurviveSixteen() {
            let t = Theme(name: "t", styles: [.normal: Style(fg: .index(12), bg: .index(3), attrs: .bold)])
            #expect(t.degraded(toColors: 16) == t)
            #expect(t.degraded(toColors: 8)[.normal] == Style(fg: .index(4), bg: .index(3), attrs: .bold))
        }
    }
}

extension ThemeTests {
    @Suite struct NoColor {
        @Test(arguments: shipped)
        func noColorRemovesColoursAndKeepsSelectionVisible(name: String) throws {
            let theme = try Theme.load(path: themesDir + "/\(name).theme")
            let t = Theme.effective(theme, environment: ["NO_COLOR": "1", "TERM": "xterm-256color"], colors: 256)
            #expect(colors(of: t).isEmpty)
            for role in [Role.selection, .senderSelected, .borderFocused, .searchMatch, .titleFocused] {
                #expect(!t[role].attrs.isEmpty, "\(name): \(role) invisible without colour")
                #expect(t[role] != t[.normal])
                #expect(t[role].attrs.isSuperset(of: theme[role].attrs))
            }
            #expect(t[.selection] != t[.searchMatch])
            for role in Role.allCases where Theme.visibilityAttributes[role] == nil { #expect(t[role].attrs == theme[role].attrs) }
        }

        @Test func attributesOnlyFromColourlessSelection() {
            let bare = Theme(name: "bare", styles: [.normal: Style(fg: .index(7)), .selection: Style(bg: .index(4)),
                                                   .searchMatch: Style(fg: .index(0), bg: .index(11), attrs: .underline)])
            let t = Theme.effective(bare, environment: ["NO_COLOR": "yes"], colors: 256)
            #expect(t[.selection] == Style(attrs: .reverse))
            #expect(t[.senderSelected] == Style(attrs: .reverse))
            #expect(t[.borderFocused] == Style(attrs: .bold))
            #expect(t[.titleFocused] == Style(attrs: .bold))
            #expect(t[.searchMatch] == Style(attrs: [.bold, .underline]))   // its background set it apart
            let bold = Theme(name: "b", styles: [.selection: Style(attrs: .bold), .titleFocused: Style(fg: .index(3), attrs: .underline)])
            let u = bold.withoutColors()
            #expect(u[.selection] == Style(attrs: .bold))          // an attribute and no background: kept as it is
            #expect(u[.titleFocused] == Style(attrs: .underline))
            #expect(t[.normal] == .plain)
        }

        @Test func emptyOrMissingNoColorKeepsColours() {
            let dark = Theme.builtinDark
            #expect(Theme.effective(dark, environment: ["NO_COLOR": ""], colors: 256) == dark)
            #expect(Theme.effective(dark, environment: [:], colors: 256) == dark)
            #expect(Theme.effective(dark, environment: [:], colors: 16) == dark.degraded(toColors: 16))
            #expect(colors(of: Theme.effective(dark, environment: [:], colors: 0)).isEmpty)
        }

        @Test func monochromeIsItsOwnColourlessVersion() {
            #expect(Theme.monochrome.withoutColors() == Theme.monochrome)
        }
    }
}

private extension String {
    func replacingOccurrences(_ a: Character, _ b: String) -> String {
        var out = ""
        for c in self { if c == a { out += b } else { out.append(c) } }
        return out
    }
}
