// The screen model: widgets draw into a grid of cells; a backend (ncurses, or a test) only
// flushes it. Widths are display columns: a wide character takes its cell and the next one.

import EarshotCore

/// What a piece of text is, not how it looks: themes map roles to colours and attributes.
public enum Role: String, CaseIterable, Sendable {
    case normal
    case border, borderFocused, title, titleFocused
    case sender, senderSelected, time, count
    case userText, botText, intent, lowConfidence, entity, button
    case action, slot, system, undecodable
    case selection, searchMatch, badge, newMarker
    case jsonKey, jsonString, jsonNumber, jsonLiteral, jsonPunctuation
    case statusBar, statusOK, statusWarn, statusError
    case helpKey, helpText, prompt, menuChecked
}

public struct Attributes: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    public static let bold = Attributes(rawValue: 1)
    public static let dim = Attributes(rawValue: 2)
    public static let underline = Attributes(rawValue: 4)
    public static let reverse = Attributes(rawValue: 8)
    public static let italic = Attributes(rawValue: 16)
}

/// A terminal colour: the terminal's default, one of 256 indexed colours.
public enum Color: Sendable, Hashable {
    case `default`
    case index(UInt8)
}

public struct Style: Sendable, Hashable {
    public var fg: Color
    public var bg: Color
    public var attrs: Attributes
    public init(fg: Color = .default, bg: Color = .default, attrs: Attributes = []) {
        self.fg = fg
        self.bg = bg
        self.attrs = attrs
    }
    public static let plain = Style()
}

public struct Cell: Sendable, Equatable {
    /// One grapheme (already sanitised), "" for the right half of a wide character.
    public var text: String
    public var role: Role
    public init(text: String = " ", role: Role = .normal) {
        self.text = text
        self.role = role
    }
    public static let blank = Cell()
    public var isContinuation: Bool { text.isEmpty }
}

public struct Rect: Sendable, Equatable {
    public var x, y, width, height: Int
    public init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = max(0, width)
        self.height = max(0, height)
    }
    public var maxX: Int { x + width }
    public var maxY: Int { y + height }
    public func inset(_ n: Int) -> Rect { Rect(x: x + n, y: y + n, width: width - 2 * n, height: height - 2 * n) }
    public func contains(x px: Int, y py: Int) -> Bool { px >= x && px < maxX && py >= y && py < maxY }
}

public struct Grid: Sendable, Equatable {
    public let width: Int
    public let height: Int
    public private(set) var cells: [Cell]
    /// Where the terminal cursor should be (for prompts); nil hides it.
    public var cursor: (x: Int, y: Int)?

    public static func == (a: Grid, b: Grid) -> Bool {
        a.width == b.width && a.height == b.height && a.cells == b.cells
    }

    public init(width: Int, height: Int) {
        self.width = max(0, width)
        self.height = max(0, height)
        cells = Array(repeating: .blank, count: self.width * self.height)
    }

    public subscript(x: Int, y: Int) -> Cell {
        get { cells[y * width + x] }
        set { cells[y * width + x] = newValue }
    }

    public mutating func fill(_ r: Rect, role: Role = .normal, text: String = " ") {
        for y in max(0, r.y) ..< min(height, r.maxY) {
            for x in max(0, r.x) ..< min(width, r.maxX) { self[x, y] = Cell(text: text, role: role) }
        }
    }

    /// Writes `text` (sanitised here: nothing from an event can reach the terminal raw) at
    /// (x, y), clipped to `maxX`. Returns the column after the last cell written.
    @discardableResult
    public mutating func put(_ text: String, x: Int, y: Int, role: Role, maxX: Int? = nil) -> Int {
        guard y >= 0 && y < height else { return x }
        let limit = min(maxX ?? width, width)
        var col = x
        for ch in sanitize(text) {
            let w = displayWidth(ch)
            if w == 0 {
                // A combining mark or zero-width format joins the previous cell.
                if col > x && col - 1 < limit && col - 1 >= 0 {
                    var prev = col - 1
                    while prev > 0 && self[prev, y].isContinuation { prev -= 1 }
                    self[prev, y].text.append(ch)
                }
                continue
            }
            if col + w > limit { break }
            if col >= 0 {
                clearWide(at: col, y: y)
                self[col, y] = Cell(text: String(ch), role: role)
                if w == 2 {
                    clearWide(at: col + 1, y: y)
                    self[col + 1, y] = Cell(text: "", role: role)
                }
            }
            col += w
        }
        return col
    }

    /// Overwriting half of a wide character blanks its other half.
    private mutating func clearWide(at x: Int, y: Int) {
        guard x >= 0 && x < width else { return }
        if self[x, y].isContinuation && x > 0 {
            self[x - 1, y] = Cell(text: " ", role: self[x - 1, y].role)
        } else if x + 1 < width && self[x + 1, y].isContinuation && displayWidth(self[x, y].text) == 2 {
            self[x + 1, y] = Cell(text: " ", role: self[x + 1, y].role)
        }
    }

    /// The text of row `y` (continuation cells contribute nothing), trailing spaces kept.
    public func line(_ y: Int) -> String {
        var s = ""
        for x in 0 ..< width { s += self[x, y].text }
        return s
    }

    /// All rows with trailing spaces removed: what a person would read off the screen.
    public var lines: [String] {
        (0 ..< height).map { y in
            var l = line(y)
            while l.last == " " { l.removeLast() }
            return l
        }
    }

    /// The roles of row `y`, one per column.
    public func roles(_ y: Int) -> [Role] { (0 ..< width).map { self[$0, y].role } }

    /// Draws a box border with a title.
    public mutating func box(_ r: Rect, title: String, focused: Bool) {
        guard r.width >= 2 && r.height >= 2 else { return }
        let role: Role = focused ? .borderFocused : .border
        let h = focused ? "━" : "─", v = focused ? "┃" : "│"
        let (tl, tr, bl, br) = focused ? ("┏", "┓", "┗", "┛") : ("┌", "┐", "└", "┘")
        for x in r.x + 1 ..< r.maxX - 1 {
            put(h, x: x, y: r.y, role: role)
            put(h, x: x, y: r.maxY - 1, role: role)
        }
        for y in r.y + 1 ..< r.maxY - 1 {
            put(v, x: r.x, y: y, role: role)
            put(v, x: r.maxX - 1, y: y, role: role)
        }
        put(tl, x: r.x, y: r.y, role: role)
        put(tr, x: r.maxX - 1, y: r.y, role: role)
        put(bl, x: r.x, y: r.maxY - 1, role: role)
        put(br, x: r.maxX - 1, y: r.maxY - 1, role: role)
        if !title.isEmpty && r.width > 4 {
            put(" " + clipped(title, r.width - 4) + " ", x: r.x + 1, y: r.y, role: focused ? .titleFocused : .title, maxX: r.maxX - 1)
        }
    }
}
