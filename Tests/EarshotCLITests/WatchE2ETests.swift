// End to end: the built `earshot watch` in a real terminal (tmux), fed by a live writer, driven
// with keys the way a person would, and checked on what the screen shows.

import Foundation
import Glibc
import Synchronization
import Testing

/// tmux runs the monitor in a pseudo-terminal; without it only the non-terminal test runs.
private let tmuxAvailable: Bool = (try? runTool(["tmux", "-V"]).status) == 0

private let socketCounter = Atomic<Int>(0)

/// Starts `/usr/bin/env ARGS...` with posix_spawn: an empty signal mask and default signal
/// dispositions, stdin from /dev/null, stdout and stderr to `output` (or /dev/null), and no
/// other descriptor inherited. Foundation's Process is not used for these: it passes on the
/// spawning thread's signal mask (Swift's worker threads block nearly every signal, so a tmux
/// server or a writer started that way ignores SIGTERM and `kill-server`), and a daemon it
/// starts inherits the descriptor Process watches, so the client's exit is never noticed.
func spawn(_ args: [String], output: Int32? = nil) throws -> pid_t {
    var attr = posix_spawnattr_t()
    posix_spawnattr_init(&attr)
    defer { posix_spawnattr_destroy(&attr) }
    var none = sigset_t(), all = sigset_t()
    sigemptyset(&none)
    sigfillset(&all)
    posix_spawnattr_setsigmask(&attr, &none)
    posix_spawnattr_setsigdefault(&attr, &all)
    posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))
    posix_spawnattr_setpgroup(&attr, 0)
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    if let output {
        posix_spawn_file_actions_adddup2(&actions, output, 1)
        posix_spawn_file_actions_adddup2(&actions, output, 2)
    } else {
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    }
    if let closeFrom = addCloseFrom { _ = closeFrom(&actions, 3) }
    var env = ProcessInfo.processInfo.environment
    env["TMUX"] = nil
    // The screen is read as UTF-8 (box drawing, ▶): make sure tmux and the monitor agree.
    if !(env["LC_ALL"] ?? env["LC_CTYPE"] ?? env["LANG"] ?? "").uppercased().contains("UTF") {
        env["LC_ALL"] = "C.UTF-8"
    }
    let argv = (["/usr/bin/env"] + args).map { strdup($0) } + [nil]
    let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer { for p in argv + envp { free(p) } }
    var pid: pid_t = 0
    let rc = posix_spawn(&pid, "/usr/bin/env", &actions, &attr, argv, envp)
    guard rc == 0 else { throw SpawnError(message: "posix_spawn \(args): \(String(cString: strerror(rc)))") }
    return pid
}

/// glibc's posix_spawn_file_actions_addclosefrom_np (2.34), which the Glibc module does not export.
private let addCloseFrom: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32)? = {
    guard let sym = dlsym(nil, "posix_spawn_file_actions_addclosefrom_np") else { return nil }
    return unsafeBitCast(sym, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
}()

private struct SpawnError: Error { var message: String }

/// Waits for `pid` (killing it after `timeout` seconds); its exit status, 128+N for a signal.
@discardableResult
func reap(_ pid: pid_t, timeout: Double = 10) -> Int32 {
    let deadline = Date().addingTimeInterval(timeout)
    var status: Int32 = 0
    while true {
        let r = waitpid(pid, &status, WNOHANG)
        if r == pid { break }
        if r < 0 { return -1 }
        if Date() > deadline { kill(pid, SIGKILL) }
        usleep(5000)
    }
    return status & 0x7F == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
}

/// Runs `/usr/bin/env ARGS...` to the end; its status and output (stdout and stderr).
func runTool(_ args: [String], timeout: Double = 10) throws -> (status: Int32, output: String) {
    var fds: [Int32] = [0, 0]
    guard pipe(&fds) == 0 else { throw SpawnError(message: "pipe") }
    let pid: pid_t
    do { pid = try spawn(args, output: fds[1]) } catch {
        close(fds[0]); close(fds[1])
        throw error
    }
    close(fds[1])
    let reader = FileHandle(fileDescriptor: fds[0], closeOnDealloc: true)
    let data = reader.readDataToEndOfFile()
    return (reap(pid, timeout: timeout), String(decoding: data, as: UTF8.self))
}

private func shellQuote(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }

/// One tmux server on a private socket, with one window running `command`.
private final class TmuxScreen {
    let socket: String

    init(width: Int, height: Int, command: String) throws {
        socket = "earshot-e2e-\(getpid())-\(socketCounter.add(1, ordering: .relaxed).newValue)"
        // The server it starts gets /dev/null, not a pipe that would stay open.
        let status = reap(try spawn(["tmux", "-u", "-L", socket, "-f", "/dev/null", "new-session", "-d",
                                     "-x", "\(width)", "-y", "\(height)", command]))
        guard status == 0 else { throw TmuxError(message: "tmux new-session failed with status \(status)") }
    }

    struct TmuxError: Error { var message: String }

    @discardableResult
    func tmux(_ args: [String]) -> Int32 { (try? runTool(["tmux", "-u", "-L", socket] + args).status) ?? -1 }

    /// Named keys (`Enter`, `Escape`, `Tab`, `Space`, `j`).
    func keys(_ names: String...) { tmux(["send-keys"] + names) }
    /// Text typed as is.
    func type(_ text: String) { tmux(["send-keys", "-l", text]) }
    func resize(_ width: Int, _ height: Int) { tmux(["resize-window", "-x", "\(width)", "-y", "\(height)"]) }

    /// The screen as text (`escapes`: with SGR sequences).
    func capture(escapes: Bool = false) -> String {
        (try? runTool(["tmux", "-u", "-L", socket, "capture-pane", "-p"] + (escapes ? ["-e"] : [])).output) ?? ""
    }

    /// Polls the screen every 100 ms until `ok` holds; the last screen either way.
    func wait(timeout: Double = 10, _ ok: (Screen) -> Bool) -> (ok: Bool, screen: Screen) {
        let deadline = Date().addingTimeInterval(timeout)
        var s = Screen(capture())
        while !ok(s) {
            if Date() > deadline { return (false, s) }
            Thread.sleep(forTimeInterval: 0.1)
            s = Screen(capture())
        }
        return (true, s)
    }

    /// Ends the server (and so the monitor and its shell), making sure it is gone.
    func kill() {
        let info = ((try? runTool(["tmux", "-u", "-L", socket, "display-message", "-p", "#{pid} #{socket_path}"]).output) ?? "")
            .trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ", maxSplits: 1).map(String.init)
        tmux(["kill-server"])
        guard info.count == 2, let pid = pid_t(info[0]) else { return }
        let deadline = Date().addingTimeInterval(3)
        while Glibc.kill(pid, 0) == 0 && Date() < deadline { usleep(20000) }
        if Glibc.kill(pid, 0) == 0 { Glibc.kill(pid, SIGKILL) }
        unlink(info[1])
    }
}

/// A captured screen, row by row.
private struct Screen: CustomStringConvertible {
    var text: String
    var rows: [String]

    init(_ text: String) {
        self.text = text
        var rows = text.components(separatedBy: "\n")
        if rows.last == "" { rows.removeLast() }
        self.rows = rows
    }

    var description: String { "\n" + text }
    func contains(_ s: String) -> Bool { text.contains(s) }
    /// The status bar: second-to-last row of a screen `height` rows high.
    func status(height: Int) -> String { rows.count >= height ? rows[height - 2] : "" }

    /// The boxes' top-left corners on the first row (light: unfocused, heavy: focused).
    var boxesOnTop: Int { rows.first.map { $0.filter { $0 == "┌" || $0 == "┏" }.count } ?? 0 }

    /// The title of the box whose top border starts at the second corner of row 0 (the
    /// transcript when both panes are shown).
    var transcriptTitle: String? {
        guard let top = rows.first, let close = top.firstIndex(where: { $0 == "┐" || $0 == "┓" }) else { return nil }
        var rest = top[top.index(after: close)...]
        guard let open = rest.first, open == "┌" || open == "┏" else { return nil }
        rest = rest.dropFirst().drop(while: { $0 == " " })
        let end = rest.range(of: " · ")?.lowerBound ?? rest.range(of: " ─")?.lowerBound ?? rest.range(of: " ━")?.lowerBound ?? rest.endIndex
        return String(rest[..<end])
    }

    /// Whether the transcript's box is the focused (heavy) one.
    var transcriptFocused: Bool {
        guard let top = rows.first, let close = top.firstIndex(where: { $0 == "┐" || $0 == "┓" }) else { return false }
        return top[top.index(after: close)...].first == "┏"
    }

    var listFocused: Bool { rows.first?.hasPrefix("┏ Conversations") ?? false }

    /// Right pane's rows (after the list box's right border), between the borders.
    var transcriptLines: [String] {
        rows.dropFirst().compactMap { row -> String? in
            guard let i = row.firstIndex(where: { $0 == "┃" || $0 == "│" }) else { return nil }
            let afterLeft = row[row.index(after: i)...]
            guard let j = afterLeft.firstIndex(where: { $0 == "┃" || $0 == "│" }) else { return nil }
            let right = afterLeft[afterLeft.index(after: j)...]
            guard right.first == "┃" || right.first == "│" else { return nil }
            return String(right.dropFirst())
        }
    }
}

/// The text of a list row drawn as the selection, from a `capture-pane -e` row: SGR sequences
/// are followed, and when the row's first cell after the list's left border has a background
/// colour (or reverse video), the characters so drawn up to the list's right border are
/// returned; "" for a row that is not selected (a badge's background alone does not count).
private func highlightedListText(_ row: String) -> String {
    var out = ""
    var highlighted = false
    var borders = 0
    var firstCell: Bool?
    var it = row.unicodeScalars.makeIterator()
    while let u = it.next() {
        if u == "\u{1B}" {
            guard let b = it.next(), b == "[" else { continue }
            var params = ""
            var final: Unicode.Scalar?
            while let c = it.next() {
                if (0x40 ... 0x7E).contains(c.value) { final = c; break }
                params.unicodeScalars.append(c)
            }
            guard final == "m" else { continue }
            let ps = params.split(separator: ";", omittingEmptySubsequences: false).map { Int($0) ?? 0 }
            var i = 0
            while i < ps.count {
                let extended = i + 1 < ps.count && ps[i + 1] == 5 ? 2 : 4
                switch ps[i] {
                case 0, 27, 49: highlighted = false
                case 7, 40 ... 47, 100 ... 107: highlighted = true
                case 38: i += extended
                case 48: highlighted = true; i += extended
                default: break
                }
                i += 1
            }
            continue
        }
        if u == "┃" || u == "│" {
            borders += 1
            if borders == 2 { break }
            continue
        }
        guard borders == 1 else { continue }
        if firstCell == nil { firstCell = highlighted }
        if highlighted { out.unicodeScalars.append(u) }
    }
    return firstCell == true ? out.trimmingCharacters(in: .whitespaces) : ""
}

/// The sender a list row names (its first word, without the ellipsis of a clipped name).
private func senderPrefix(_ rowText: String) -> String {
    var name = rowText.split(separator: " ").first.map(String.init) ?? ""
    if name.hasSuffix("…") { name.removeLast() }
    return name
}

@Suite(.serialized) struct WatchE2ETests {
    /// A shell script that runs the monitor, then reports its exit status and the terminal's
    /// modes, and stays open so that the screen can be read.
    func monitorScript(dir: String, db: String, term: String) throws -> String {
        let path = dir + "/run-watch.sh"
        let script = """
        #!/bin/sh
        TERM=\(shellQuote(term)) \(shellQuote(earshotBinary)) watch \(shellQuote("sqlite://" + db)) --from-beginning
        echo "EXITED=$?"
        stty -a | tr ' ;' '\\n\\n' | grep -E '^-?(icanon|echo)$' | sed 's/^/STTY:/'
        sleep 30

        """
        try script.write(toFile: path, atomically: true, encoding: .utf8)
        return "sh " + shellQuote(path)
    }

    @Test(.enabled(if: tmuxAvailable), .timeLimit(.minutes(1)))
    func liveMonitorInATerminal() throws {
        let dir = tempDir()
        let db = dir + "/events.db"
        // A writer that keeps filling a fresh database while the monitor watches it.
        let writer = try spawn([earshotBinary, "demo", "--write-only", db, "--rate", "50", "--seed", "7"])
        defer {
            kill(writer, SIGTERM)
            reap(writer, timeout: 5)
        }

        let tmux = try TmuxScreen(width: 120, height: 35, command: try monitorScript(dir: dir, db: db, term: "xterm-256color"))
        defer { tmux.kill() }

        // What a person sees once events flow.
        var w = tmux.wait { s in
            s.contains("Conversations (") && s.contains("All conversations") && s.status(height: 35).contains("live")
                && s.status(height: 35).contains("ev/s") && s.transcriptLines.contains { $0.contains("▶ ") }
        }
        #expect(w.ok, "the monitor never showed conversations, a live status bar and a user line:\(w.screen)")
        guard w.ok else { return }
        #expect(w.screen.rows.count == 35)
        #expect(w.screen.boxesOnTop == 2, "list and transcript side by side at 120 columns:\(w.screen)")
        #expect(w.screen.transcriptTitle == "All conversations")
        #expect(w.screen.rows.last?.contains("q quit") == true, "help bar:\(w.screen)")
        let initiallySelected = Screen(tmux.capture(escapes: true)).rows.dropFirst().map(highlightedListText).filter { !$0.isEmpty }
        #expect(initiallySelected.count == 1 && initiallySelected.first?.hasPrefix("All conversations") == true,
                "the first row is selected at start: \(initiallySelected)")

        // j selects the first conversation: the transcript is titled with its sender.
        tmux.keys("j")
        w = tmux.wait { s in (s.transcriptTitle.map { $0 != "All conversations" && !$0.isEmpty }) ?? false }
        #expect(w.ok, "j did not select a conversation:\(w.screen)")
        let sender = w.screen.transcriptTitle ?? ""
        let colored = Screen(tmux.capture(escapes: true))
        let selectedRows = colored.rows.dropFirst().map(highlightedListText).filter { !$0.isEmpty }
        #expect(selectedRows.count == 1, "one list row is highlighted: \(selectedRows)")
        let prefix = senderPrefix(selectedRows.first ?? "")
        #expect(!prefix.isEmpty && sender.hasPrefix(prefix), "transcript title '\(sender)' is not the selected row '\(selectedRows.first ?? "")'")
        #expect(!prefix.hasPrefix("All"), "the selection is still on All conversations")

        // The type menu: action is listed and shown; Space hides it.
        w = tmux.wait { s in s.transcriptLines.contains { $0.contains("· action ") } }
        #expect(w.ok, "the conversation never showed an action line:\(w.screen)")
        tmux.keys("t")
        w = tmux.wait { s in s.contains("Event types") && s.contains("[x] action ") }
        #expect(w.ok, "t did not open the type menu with action checked:\(w.screen)")
        tmux.keys("Space")
        w = tmux.wait { s in s.contains("[ ] action ") }
        #expect(w.ok, "Space did not uncheck action:\(w.screen)")
        tmux.keys("Escape")
        w = tmux.wait { s in !s.contains("Event types") }
        #expect(w.ok, "Escape did not close the type menu:\(w.screen)")
        #expect(!w.screen.transcriptLines.contains { $0.contains("· action ") }, "action lines still shown:\(w.screen)")
        #expect(w.screen.rows.first?.contains("types filtered") == true, "transcript title says the types are filtered:\(w.screen)")
        #expect(w.screen.status(height: 35).contains("type≠action"), "status bar shows the type filter:\(w.screen)")

        // Search for an intent the transcript shows: the status bar shows it, the match gets focus.
        let userLine = w.screen.transcriptLines.first { $0.contains("▶ ") } ?? ""
        let afterMarker = userLine.components(separatedBy: "▶ ").dropFirst().joined(separator: "▶ ")
        let intent = afterMarker.components(separatedBy: "  ").dropFirst().first?.split(separator: " ").first.map(String.init) ?? "greet"
        tmux.keys("/")
        w = tmux.wait { s in s.rows.last?.hasPrefix("search:") == true }
        #expect(w.ok, "/ did not open the search prompt:\(w.screen)")
        tmux.type(intent)
        w = tmux.wait { s in s.rows.last?.contains("search: \(intent)") == true }
        #expect(w.ok, "the prompt does not echo '\(intent)':\(w.screen)")
        tmux.keys("Enter")
        w = tmux.wait { s in s.status(height: 35).contains("search=\(intent)") }
        #expect(w.ok, "the status bar does not show search=\(intent) after searching for it:\(w.screen)")
        #expect(w.screen.transcriptFocused, "the match is focused in the transcript:\(w.screen)")
        #expect(w.screen.transcriptLines.contains { $0.contains("»") }, "matches are marked:\(w.screen)")

        // Tab moves the focus to the list and back; Enter on the transcript opens the detail.
        tmux.keys("Tab")
        w = tmux.wait { s in s.listFocused }
        #expect(w.ok, "Tab did not focus the list:\(w.screen)")
        tmux.keys("Tab")
        w = tmux.wait { s in s.transcriptFocused }
        #expect(w.ok, "Tab did not focus the transcript:\(w.screen)")
        tmux.keys("Enter")
        w = tmux.wait { s in s.contains("\"sender_id\":") && s.rows.first?.contains("row id") == true }
        #expect(w.ok, "Enter did not open the event's JSON with its position:\(w.screen)")
        #expect(w.screen.contains("\"event\":"))
        tmux.keys("Escape")
        w = tmux.wait { s in s.contains("Conversations (") && !s.contains("\"sender_id\":") }
        #expect(w.ok, "Escape did not close the detail:\(w.screen)")

        // Narrow: one pane. Tiny: a message. Back: both panes again.
        tmux.resize(60, 20)
        w = tmux.wait { s in s.rows.count == 20 && s.rows[0].count == 60 && s.boxesOnTop == 1 }
        #expect(w.ok, "60x20 is not a single pane:\(w.screen)")
        for joint in ["┐┌", "┓┌", "┐┏", "┓┏"] { #expect(!w.screen.contains(joint), "two boxes side by side at 60x20:\(w.screen)") }
        #expect(w.screen.rows.last?.contains("move") == true, "help bar at 60x20:\(w.screen)")
        tmux.resize(25, 6)
        w = tmux.wait { s in s.contains("Terminal too small") }
        #expect(w.ok, "25x6 does not say the terminal is too small:\(w.screen)")
        tmux.resize(100, 30)
        w = tmux.wait { s in
            s.rows.count == 30 && s.contains("Conversations (") && s.boxesOnTop == 2 && s.status(height: 30).contains("ev/s")
                && !s.contains("Terminal too small")
        }
        #expect(w.ok, "100x30 did not bring the normal screen back:\(w.screen)")

        // q quits with status 0 and leaves the terminal as it found it.
        tmux.keys("q")
        w = tmux.wait { s in s.contains("EXITED=") && s.contains("STTY:") && s.text.components(separatedBy: "STTY:").count >= 3 }
        #expect(w.ok, "q did not quit:\(w.screen)")
        #expect(w.screen.contains("EXITED=0"), "exit status:\(w.screen)")
        #expect(w.screen.contains("STTY:icanon") && !w.screen.contains("STTY:-icanon"), "canonical mode restored:\(w.screen)")
        #expect(w.screen.contains("STTY:echo") && !w.screen.contains("STTY:-echo"), "echo restored:\(w.screen)")
        #expect(!w.screen.contains("Conversations ("), "the alternate screen is left behind:\(w.screen)")
    }

    @Test(.enabled(if: tmuxAvailable), .timeLimit(.minutes(1)))
    func unknownTermFailsWithOneLine() throws {
        let dir = tempDir()
        let db = dir + "/events.db"
        let demo = try earshot(["demo", "--write-only", db, "--rate", "1000000", "--count", "50", "--seed", "7"])
        #expect(demo.status == 0, "\(demo.stderr)")
        let tmux = try TmuxScreen(width: 120, height: 35, command: try monitorScript(dir: dir, db: db, term: "nonexistent-term"))
        defer { tmux.kill() }
        let w = tmux.wait { s in s.contains("EXITED=") }
        #expect(w.ok, "earshot watch with an unknown TERM did not exit:\(w.screen)")
        #expect(w.screen.contains("EXITED=1"), "exit status:\(w.screen)")
        let before = w.screen.rows.prefix { !$0.hasPrefix("EXITED=") }.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
        #expect(before.count == 1, "one line of message: \(before)")
        #expect(before.first?.contains("TERM=nonexistent-term") == true, "the message names the TERM: \(before)")
        #expect(w.screen.contains("STTY:icanon") && w.screen.contains("STTY:echo"), "terminal untouched:\(w.screen)")
    }

    @Test func notATerminalFails() throws {
        let dir = tempDir()
        let db = dir + "/events.db"
        let demo = try earshot(["demo", "--write-only", db, "--rate", "1000000", "--count", "20", "--seed", "7"])
        #expect(demo.status == 0, "\(demo.stderr)")
        let r = try earshot(["watch", "sqlite://" + db, "--from-beginning"], env: ["TERM": "xterm-256color"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("needs a terminal"), "\(r.stderr)")
        #expect(r.stderr.split(separator: "\n").count == 1, "one line: \(r.stderr)")
        #expect(r.stdout.isEmpty, "nothing written to a non-terminal stdout: \(r.stdout.debugDescription)")
    }
}
