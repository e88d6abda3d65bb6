// The ncurses backend: the only code that calls curses. It reads input, and flushes a Grid
// (only the cells that changed) in the colours a Theme gives each role.

import CNcursesw
import EarshotTUI
#if canImport(Glibc)
import Glibc
#endif

public struct TerminalError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}

/// Set while curses owns the terminal, so that a fatal signal can give it back.
nonisolated(unsafe) private var cursesActive = false

public final class CursesTerminal {
    private var theme: Theme
    private var previous: Grid?
    private var pairs: [PairKey: Int16] = [:]
    private var nextPair: Int32 = 1
    private let colors: Int
    private var screen: OpaquePointer?
    private var cursorVisible = false
    private var output: UnsafeMutablePointer<FILE>?
    private var input: UnsafeMutablePointer<FILE>?

    struct PairKey: Hashable { var fg: Int32; var bg: Int32 }

    /// Starts curses on the controlling terminal. A bad or missing TERM, or output that is not
    /// a terminal, is an error, not an exit.
    public init(theme: Theme, environment: [String: String]) throws {
        guard isatty(1) == 1, isatty(0) == 1 else {
            throw TerminalError(message: "earshot watch needs a terminal on stdin and stdout (for pipes and scripts use earshot tail)")
        }
        guard let term = environment["TERM"], !term.isEmpty else {
            throw TerminalError(message: "TERM is not set, so the terminal type is unknown (try TERM=xterm-256color)")
        }
        if setlocale(LC_ALL, "") == nil { setlocale(LC_ALL, "C.UTF-8") }
        if let cs = nl_langinfo(nl_item(CODESET)), String(cString: cs) != "UTF-8" { setlocale(LC_ALL, "C.UTF-8") }
        // The C globals stdout/stdin are off limits under Swift 6: open our own streams.
        output = fdopen(1, "w")
        input = fdopen(0, "r")
        guard let output, let input, let scr = newterm(term, output, input) else {
            throw TerminalError(message: "unknown terminal type TERM=\(term) (no terminfo entry; try TERM=xterm-256color)")
        }
        screen = scr
        set_term(scr)
        cursesActive = true
        CursesTerminal.installCrashRestore()
        cbreak()
        noecho()
        nonl()
        keypad(es_stdscr(), true)
        intrflush(es_stdscr(), false)
        set_escdelay(25)
        curs_set(0)
        var colorCount = 0
        if has_colors() {
            start_color()
            use_default_colors()
            colorCount = Int(es_colors())
        }
        colors = colorCount
        self.theme = Theme.effective(theme, environment: environment, colors: colorCount)
        mousemask(es_button1_pressed() | es_button4_pressed() | es_button5_pressed(), nil)
        mouseinterval(0)
    }

    deinit { restore() }

    public var colorCount: Int { colors }

    /// Gives the terminal back (idempotent).
    public func restore() {
        guard cursesActive else { return }
        cursesActive = false
        curs_set(1)
        endwin()
        if let s = screen { delscreen(s); screen = nil }
        if let output { fflush(output) }
    }

    public var size: (width: Int, height: Int) {
        (Int(getmaxx(es_stdscr())), Int(getmaxy(es_stdscr())))
    }

    /// Waits up to `timeoutMs` for input.
    public func read(timeoutMs: Int) -> InputEvent? {
        wtimeout(es_stdscr(), Int32(timeoutMs))
        var ch: wint_t = 0
        let rc = wget_wch(es_stdscr(), &ch)
        if rc == es_err() { return nil }
        if rc == es_key_code_yes() {
            let code = Int32(ch)
            switch code {
            case es_key_resize():
                previous = nil
                let s = size
                return .resize(width: s.width, height: s.height)
            case es_key_mouse():
                var m = MEVENT()
                guard getmouse(&m) == es_ok() else { return nil }
                let action: MouseAction
                if m.bstate & es_button4_pressed() != 0 { action = .wheelUp }
                else if m.bstate & es_button5_pressed() != 0 { action = .wheelDown }
                else if m.bstate & es_button1_pressed() != 0 { action = .press }
                else { return nil }
                return .mouse(MouseEvent(x: Int(m.x), y: Int(m.y), action: action))
            case KEY_UP: return .key(.up)
            case KEY_DOWN: return .key(.down)
            case KEY_LEFT: return .key(.left)
            case KEY_RIGHT: return .key(.right)
            case KEY_PPAGE: return .key(.pageUp)
            case KEY_NPAGE: return .key(.pageDown)
            case KEY_HOME: return .key(.home)
            case KEY_END: return .key(.end)
            case KEY_ENTER: return .key(.enter)
            case KEY_BACKSPACE: return .key(.backspace)
            case KEY_DC: return .key(.delete)
            case KEY_BTAB: return .key(.backTab)
            case (KEY_F0 + 1) ... (KEY_F0 + 24): return .key(.function(Int(code - KEY_F0)))
            default: return nil
            }
        }
        switch ch {
        case 0x1B: return .key(.escape)
        case 0x0D, 0x0A: return .key(.enter)
        case 0x09: return .key(.tab)
        case 0x7F, 0x08: return .key(.backspace)
        case 1 ... 26: return .key(.ctrl(Character(Unicode.Scalar(UInt8(ch) + 0x60))))
        default:
            guard let u = Unicode.Scalar(UInt32(ch)), ch >= 0x20 else { return nil }
            return .key(.char(Character(u)))
        }
    }

    /// Flushes the grid: only cells that differ from the last frame are sent.
    public func draw(_ grid: Grid) {
        let full = previous == nil || previous!.width != grid.width || previous!.height != grid.height
        if full { werase(es_stdscr()) }
        var wbuf = [wchar_t](repeating: 0, count: 8)
        for y in 0 ..< grid.height {
            for x in 0 ..< grid.width {
                let cell = grid[x, y]
                if !full, let p = previous, p[x, y] == cell { continue }
                if cell.isContinuation { continue }
                let style = theme[cell.role]
                var n = 0
                for u in cell.text.unicodeScalars where n < 5 {
                    wbuf[n] = wchar_t(bitPattern: u.value)
                    n += 1
                }
                if n == 0 { wbuf[0] = 0x20; n = 1 }
                wbuf[n] = 0
                let pair = self.pair(style)
                _ = es_put_cell(Int32(y), Int32(x), wbuf, attributes(style.attrs), pair)
            }
        }
        if let c = grid.cursor {
            if !cursorVisible { curs_set(1); cursorVisible = true }
            wmove(es_stdscr(), Int32(c.y), Int32(c.x))
        } else if cursorVisible {
            curs_set(0)
            cursorVisible = false
        }
        wrefresh(es_stdscr())
        previous = grid
    }

    /// Forgets the last frame so that the next draw repaints everything.
    public func invalidate() { previous = nil }

    private func attributes(_ a: Attributes) -> attr_t {
        var r = es_a_normal()
        if a.contains(.bold) { r |= es_a_bold() }
        if a.contains(.dim) { r |= es_a_dim() }
        if a.contains(.underline) { r |= es_a_underline() }
        if a.contains(.reverse) { r |= es_a_reverse() }
        if a.contains(.italic) { r |= es_a_italic() }
        return r
    }

    private func colorNumber(_ c: Color) -> Int32 {
        switch c {
        case .default: return -1
        case let .index(i): return Int(i) < colors ? Int32(i) : -1
        }
    }

    private func pair(_ s: Style) -> Int16 {
        guard colors > 0 else { return 0 }
        let key = PairKey(fg: colorNumber(s.fg), bg: colorNumber(s.bg))
        if key.fg == -1 && key.bg == -1 { return 0 }
        if let p = pairs[key] { return p }
        guard nextPair < min(es_color_pairs(), 32767) else { return 0 }
        let p = Int16(nextPair)
        init_pair(p, Int16(key.fg), Int16(key.bg))
        nextPair += 1
        pairs[key] = p
        return p
    }

    /// A crash (trap, segfault, abort) still gives the terminal back before the process dies.
    static func installCrashRestore() {
        for sig in [SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGABRT, SIGFPE] {
            signal(sig) { s in
                if cursesActive {
                    cursesActive = false
                    endwin()
                }
                signal(s, SIG_DFL)
                raise(s)
            }
        }
    }
}
