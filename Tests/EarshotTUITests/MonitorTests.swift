@testable import EarshotCore
import Testing
@testable import EarshotTUI

let t0 = 1745044390.0

/// A batch from JSON lines, positions as file lines.
func batch(_ lines: [String], firstLine: UInt64 = 1) -> MessageBatch {
    var b = MessageBatch()
    for (i, l) in lines.enumerated() { b.append(Array(l.utf8), at: .line(number: firstLine + UInt64(i), offset: 0)) }
    return b
}

func user(_ s: String, _ t: Double, _ text: String, intent: String = "greet", conf: Double = 0.97, entities: String = "[]") -> String {
    #"{"sender_id": "\#(s)", "event": "user", "timestamp": \#(t), "text": "\#(text)", "parse_data": {"intent": {"name": "\#(intent)", "confidence": \#(conf)}, "entities": \#(entities)}, "input_channel": "rest"}"#
}

func bot(_ s: String, _ t: Double, _ text: String, buttons: String = "null") -> String {
    #"{"sender_id": "\#(s)", "event": "bot", "timestamp": \#(t), "text": "\#(text)", "data": {"elements": null, "quick_replies": null, "buttons": \#(buttons), "attachment": null, "image": null, "custom": null}}"#
}

func action(_ s: String, _ t: Double, _ name: String) -> String {
    #"{"sender_id": "\#(s)", "event": "action", "timestamp": \#(t), "name": "\#(name)", "policy": "RulePolicy", "confidence": 1.0}"#
}

func demoMonitor(filter: EventFilter = EventFilter()) -> Monitor {
    let store = ConversationStore(capacity: 10_000)
    let m = Monitor(store: store, sources: ["sqlite:///tmp/events.db"], filter: filter, now: { t0 + 100 })
    m.ingest(.state(.live), source: 0)
    m.ingest(.messages(batch([
        #"{"sender_id": "alice", "event": "session_started", "timestamp": \#(t0)}"#,
        user("alice", t0 + 1, "Gr\\u00fc\\u00dfe \\ud83d\\udc4b"),
        action("alice", t0 + 2, "utter_greet"),
        bot("alice", t0 + 3, "Hallo! Tisch buchen?", buttons: #"[{"title": "Ja", "payload": "/affirm"}, {"title": "Nein", "payload": "/deny"}]"#),
        user("王小明", t0 + 10, "你好，我想订餐", intent: "book", conf: 0.31, entities: #"[{"entity": "city", "value": "北京"}]"#),
        #"{"sender_id": "王小明", "event": "slot", "timestamp": \#(t0 + 11), "name": "city", "value": "北京"}"#,
        bot("evil\\u001b[2J", t0 + 20, "\\u001b]0;pwned\\u0007 red \\u001b[31mX \\u202eabc"),
        "this is not json",
    ])), source: 0)
    return m
}

/// Every line is exactly the grid's width in display columns and free of control characters.
func checkClean(_ g: Grid) {
    for y in 0 ..< g.height {
        let line = g.line(y)
        #expect(displayWidth(line) == g.width, "row \(y) is \(displayWidth(line)) columns: \(line)")
        #expect(!line.unicodeScalars.contains { $0.value < 0x20 || ($0.value >= 0x7F && $0.value < 0xA0) || $0.value == 0x202E })
    }
}

@Suite struct MonitorRendering {
    @Test func listAndAllView80x24() {
        let m = demoMonitor()
        let g = m.render(width: 80, height: 24)
        checkClean(g)
        let l = g.lines
        #expect(l[0].hasPrefix("┏ Conversations (4) ━"))
        #expect(l[0].contains("┌ All conversations ─"))
        #expect(l[1].hasPrefix("┃All conversations      8┃"))
        // Most recent first; badges: low confidence, undecodable.
        #expect(l[2].hasPrefix("┃(undecodable)"))
        #expect(l[2].contains("0s 1 ✗1┃"))  // no timestamp: its arrival time
        #expect(l[3].hasPrefix("┃evil␛[2J"))
        #expect(l[4].hasPrefix("┃王小明"))
        #expect(l[4].contains("1m 2 ?1┃"))
        #expect(l[5].hasPrefix("┃alice"))
        // The all-conversations transcript, with senders.
        #expect(l[1].hasSuffix("│06:33:10 alice        ── session started  ──        │"))
        #expect(l[2].contains("06:33:11 alice        ▶ Grüße 👋  greet 0.97"))
        #expect(l[3].hasSuffix("│06:33:12 alice        · action utter_greet  policy=R│"))
        #expect(l[4].hasSuffix("│06:33:13 alice        ◀ Hallo! Tisch buchen?  [Ja]  │"))
        #expect(l[5].hasSuffix("│06:33:20 王小明       ▶ 你好，我想订餐  book 0.31  c│"))
        #expect(l[7].hasSuffix("│06:33:30 evil␛[2J     ◀ ␛]0;pwned␇ red ␛[31mX <U+202│"))
        #expect(l[8].contains("--:--:-- ?            ✗ undecodable: not valid JSON"))
        #expect(l[22] == "● sqlite:///tmp/events.db live               0.0 ev/s · 8 events · 1 undecodable")
        #expect(l[23] == "j/k move  Enter detail  / search  t types  s sender  f follow  ? help  q quit")
    }

    @Test func roles() {
        let m = demoMonitor()
        let g = m.render(width: 80, height: 24)
        // The low-confidence intent is drawn in its role; user and bot text in theirs.
        let row5 = g.roles(5)
        #expect(row5.contains(.lowConfidence))
        #expect(g.roles(2).contains(.userText))
        #expect(g.roles(4).contains(.botText))
        #expect(g.roles(4).contains(.button))
        #expect(g.roles(1).contains(.selection))  // the selected "All conversations" row
        #expect(g.roles(22).contains(.statusOK))
    }

    @Test func wideLayout120x40AndNarrow40x12() {
        let m = demoMonitor()
        let wide = m.render(width: 120, height: 40)
        checkClean(wide)
        #expect(wide.lines[5].contains("│06:33:20 王小明       ▶ 你好，我想订餐  book 0.31  city=北京    "))
        #expect(wide.lines[7].contains("◀ ␛]0;pwned␇ red ␛[31mX <U+202E>abc"))
        let narrow = m.render(width: 40, height: 12)
        checkClean(narrow)
        // One pane at a time when narrow: the focused list takes the screen.
        #expect(narrow.lines[0].hasPrefix("┏ Conversations (4) ━"))
        #expect(narrow.lines[0].hasSuffix("┓"))
        #expect(narrow.lines[4].hasPrefix("┃王小明"))
        m.handle(.key(.tab))
        let t = m.render(width: 40, height: 12)
        checkClean(t)
        #expect(t.lines[0].hasPrefix("┏ All conversations ━"))
        #expect(t.lines[11] == "j/k move  Enter detail  / search")
    }

    @Test func tooSmall() {
        let g = demoMonitor().render(width: 20, height: 5)
        #expect(g.lines[0] == "Terminal too small:…")
        let h = demoMonitor().render(width: 29, height: 8)
        #expect(h.lines[0] == "Terminal too small: 29x8")
        #expect(h.lines[1] == "Earshot needs at least 30x8.")
    }

    @Test func selectConversationShowsItsTranscript() {
        let m = demoMonitor()
        m.handle(.key(.char("G")))  // last conversation in the list: alice
        var g = m.render(width: 80, height: 24)
        #expect(g.lines[0].contains("┌ alice ─"))
        #expect(g.lines[1].contains("06:33:10 ── session started  ──"))
        #expect(g.lines[4].contains("06:33:13 ◀ Hallo! Tisch buchen?  [Ja]  [Nein]"))
        #expect(!g.lines.joined().contains("你好"))
        m.handle(.key(.char("k")))  // up to 王小明
        g = m.render(width: 80, height: 24)
        #expect(g.lines[0].contains("王小明"))
        #expect(g.lines[1].contains("▶ 你好，我想订餐"))
    }

    @Test func typeFilterMenuTogglesTypes() {
        let m = demoMonitor()
        m.handle(.key(.char("t")))
        var g = m.render(width: 80, height: 24)
        let menu = g.lines.filter { $0.contains("[x]") }
        #expect(menu.count == 6)  // action, bot, session_started, slot, undecodable, user
        #expect(g.lines.contains { $0.contains("[x] action") && $0.contains(" 1") })
        // Cursor on the first type (action): toggle it off.
        m.handle(.key(.char(" ")))
        g = m.render(width: 80, height: 24)
        #expect(g.lines.contains { $0.contains("[ ] action") })
        m.handle(.key(.escape))
        g = m.render(width: 80, height: 24)
        #expect(!g.lines.joined().contains("utter_greet"))
        #expect(g.lines[22] == "● sqlite:///tmp/events.db live  type≠action  0.0 ev/s · 8 events · 1 undecodable")
        #expect(g.lines[0].contains("types filtered"))
    }

    @Test func searchJumpsBetweenMatches() {
        let m = demoMonitor()
        m.handle(.key(.char("/")))
        for c in "TISCH" { m.handle(.key(.char(c))) }
        var g = m.render(width: 80, height: 24)
        #expect(g.lines[23].hasPrefix("search: TISCH"))
        #expect(g.cursor != nil)
        m.handle(.key(.enter))
        g = m.render(width: 80, height: 24)
        #expect(m.focus == .transcript)
        #expect(m.selectedEvent?.kind == .bot)
        #expect(g.roles(4).contains(.selection))
        #expect(g.lines[22].contains("search=TISCH"))
        m.handle(.key(.char("n")))
        #expect(m.message?.contains("no later match") == true)
    }

    @Test func detailShowsPrettyJSONAndPosition() {
        let m = demoMonitor()
        m.handle(.key(.tab))
        for _ in 0 ..< 6 { m.handle(.key(.char("k"))) }  // from the last event up to alice's user message
        m.handle(.key(.enter))
        let g = m.render(width: 80, height: 24)
        checkClean(g)
        #expect(g.lines[0].hasPrefix("┏ user · sqlite:///tmp/events.db · line 2 (byte 0) ━"))
        #expect(g.lines[1] == "┃{" + String(repeating: " ", count: 77) + "┃")
        #expect(g.lines[2].hasPrefix("┃  \"sender_id\": \"alice\","))
        #expect(g.lines[5].hasPrefix("┃  \"text\": \"Grüße 👋\","))
        #expect(g.roles(2)[3] == .jsonKey)
        m.handle(.key(.escape))
        #expect(m.overlay == .none)
    }

    @Test func undecodableDetailKeepsRawBytes() {
        let m = demoMonitor()
        m.handle(.key(.tab))
        m.handle(.key(.enter))  // the newest event: the undecodable line
        let g = m.render(width: 80, height: 24)
        #expect(g.lines[0].contains("undecodable · sqlite:///tmp/events.db · line 8"))
        #expect(g.lines[1].contains("undecodable: not valid JSON"))
        #expect(g.lines[3].contains("this is not json"))
    }

    @Test func freezeKeepsTheScreenWhileIngestGoesOn() {
        let m = demoMonitor()
        m.handle(.key(.tab))
        m.handle(.key(.char("f")))
        func transcript(_ g: Grid) -> [String] { (1 ... 20).map { y in (26 ..< 80).map { g[$0, y].text }.joined() } }
        let before = transcript(m.render(width: 80, height: 24))
        m.ingest(.messages(batch((0 ..< 30).map { user("bob", t0 + 50 + Double($0), "flood \($0)") }, firstLine: 9)), source: 0)
        let afterGrid = m.render(width: 80, height: 24)
        let after = afterGrid.lines
        #expect(after[0].contains("frozen, 30 new ▼"))
        // The transcript (right of the list) has not moved; the list did get bob.
        #expect(transcript(afterGrid) == before)
        #expect(after.contains { $0.contains("bob") })
        m.handle(.key(.char("f")))
        let following = m.render(width: 80, height: 24).lines
        #expect(following[20].contains("flood 29"))
        #expect(!following[0].contains("frozen"))
    }

    @Test func helpScreenComesFromTheKeyTable() {
        let m = demoMonitor()
        m.handle(.key(.char("?")))
        let g = m.render(width: 80, height: 24)
        for b in KeyTable.defaults.bindings {
            #expect(g.lines.contains { $0.contains(b.description) }, "\(b.description)")
        }
        m.handle(.key(.char("x")))
        #expect(m.overlay == .none)
    }

    @Test func mouseSelectsAndScrolls() {
        let m = demoMonitor()
        _ = m.render(width: 80, height: 24)
        m.handle(.mouse(MouseEvent(x: 5, y: 5, action: .press)))  // alice's row
        let g = m.render(width: 80, height: 24)
        #expect(g.lines[0].contains("alice"))
        m.handle(.mouse(MouseEvent(x: 50, y: 2, action: .press)))
        #expect(m.focus == .transcript)
        #expect(m.selectedEvent?.kind == .user)
        m.handle(.mouse(MouseEvent(x: 50, y: 2, action: .wheelDown)))
        #expect(m.selectedEvent?.kind == .bot)
    }

    @Test func senderFilterNarrowsTheList() {
        let m = demoMonitor()
        m.handle(.key(.char("s")))
        for c in "a*" { m.handle(.key(.char(c))) }
        m.handle(.key(.enter))
        let g = m.render(width: 80, height: 24)
        #expect(g.lines[0].hasPrefix("┏ Conversations (1) sen… ┓"))
        #expect(g.lines[22].contains("sender=a*"))
        #expect(g.lines[2].hasPrefix("┃alice"))
        #expect(!g.lines.joined().contains("王小明"))
    }

    @Test func evictionIsCountedAndShown() {
        let store = ConversationStore(capacity: 5)
        let m = Monitor(store: store, sources: ["f"], filter: EventFilter(), now: { t0 })
        m.ingest(.messages(batch((0 ..< 12).map { user("u\($0 % 2)", t0 + Double($0), "m\($0)") })), source: 0)
        let g = m.render(width: 80, height: 24)
        #expect(g.lines[22].contains("12 events · 7 evicted"))
        #expect(g.lines.filter { $0.contains("▶ m") }.count == 5)
    }
}

@Suite struct KeyTableTests {
    @Test func overridesAndErrors() throws {
        let t = try KeyTable.defaults.overridden(by: "# mine\nquit = x, C-q\nsearch = Space\n", file: "k.conf")
        #expect(t.action(for: .char("x")) == .quit)
        #expect(t.action(for: .ctrl("q")) == .quit)
        #expect(t.action(for: .char("q")) == nil)
        #expect(t.action(for: .char(" ")) == .search)  // moved from page-down
        #expect(t.binding(.pageDown)?.keys.contains(.char(" ")) == false)
        #expect(t.helpBar.contains { $0.keys == "x" && $0.label == "quit" })
        #expect(throws: KeyTable.ConfigError(file: "k.conf", line: 2, message: "unknown key 'Hyper-x'")) {
            try KeyTable.defaults.overridden(by: "quit = q\nhelp = Hyper-x\n", file: "k.conf")
        }
        #expect(throws: KeyTable.ConfigError.self) { try KeyTable.defaults.overridden(by: "fly = q", file: "k") }
        #expect(throws: KeyTable.ConfigError.self) { try KeyTable.defaults.overridden(by: "just words", file: "k") }
    }

    @Test func keyNamesRoundTrip() {
        for k: Key in [.up, .down, .pageUp, .pageDown, .enter, .escape, .tab, .backTab, .char("j"), .char(" "), .ctrl("c"), .function(5), .home, .end] {
            #expect(Key(name: k.name) == k, "\(k.name)")
        }
    }
}

@Suite struct GridTests {
    @Test func wideCharactersTakeTwoCellsAndClip() {
        var g = Grid(width: 6, height: 1)
        let end = g.put("a你好b", x: 0, y: 0, role: .normal)
        #expect(end == 6)
        #expect(g.line(0) == "a你好b")
        var h = Grid(width: 4, height: 1)
        h.put("a你好", x: 0, y: 0, role: .normal)  // 好 would need columns 3-4
        #expect(h.line(0) == "a你 ")
        // Overwriting half of a wide character blanks the other half.
        h.put("x", x: 2, y: 0, role: .normal)
        #expect(h.line(0) == "a x ")
    }

    @Test func combiningMarksJoinTheirBase() {
        var g = Grid(width: 5, height: 1)
        g.put("e\u{301}x\u{200B}y", x: 0, y: 0, role: .normal)
        #expect(g.line(0) == "e\u{301}x\u{200B}y  ")
        #expect(g[0, 0].text == "e\u{301}")
        #expect(displayWidth(g.line(0)) == 5)
    }
}

@Suite struct MonitorFixes {
    @Test func searchFindsTheNewestEvent() {
        let store = ConversationStore(capacity: 100)
        let m = Monitor(store: store, sources: ["f"], filter: EventFilter(), now: { t0 })
        m.ingest(.messages(batch([user("a", t0, "one"), user("a", t0 + 1, "two"), user("a", t0 + 2, "zebra")])), source: 0)
        m.handle(.key(.char("/")))
        for c in "zebra" { m.handle(.key(.char(c))) }
        m.handle(.key(.enter))
        #expect(m.message == nil)
        #expect(m.selectedEvent?.seq == 2)
    }

    @Test func narrowStatusBarKeepsTheSourceState() {
        var f = EventFilter()
        f.excludeTypes = ["action"]
        f.search = "weather"
        let m = demoMonitor(filter: f)
        let g = m.render(width: 60, height: 20)
        #expect(g.lines[18].hasPrefix("● sqlite:///"))
        #expect(g.lines[18].contains(" live "))
        #expect(g.lines[18].contains("type≠"))
        #expect(g.lines[18].hasSuffix(" 8 ev ✗1"))
    }

    @Test func failedSearchKeepsTheStatusBar() {
        let m = demoMonitor()
        m.handle(.key(.char("/")))
        for c in "nothing-like-this" { m.handle(.key(.char(c))) }
        m.handle(.key(.enter))
        let g = m.render(width: 80, height: 24)
        #expect(g.lines[22].hasPrefix("● sqlite:///"))
        #expect(g.lines[22].contains(" live "))
        #expect(g.lines[22].contains("search=nothin"))
        #expect(g.lines[23].hasPrefix("no earlier match for \"nothing-like-this\""))
    }

    @Test func allConversationsCountFollowsTheSenderFilter() {
        let m = demoMonitor(filter: EventFilter(senderGlob: "a*"))
        let g = m.render(width: 80, height: 24)
        #expect(g.lines[1].hasPrefix("┃All conversations      4┃"))
    }
}

/// The conversation list is kept in order incrementally between frames; after any mix of
/// events (out of order, untimed, new senders, eviction, a sender filter) it must be what
/// a full sort gives.
@Test func conversationOrderIsKeptIncrementallyLikeAFullSort() {
    var rng = SimRandom(seed: 9)
    for (capacity, glob) in [(100_000, nil), (300, nil), (100_000, "s1*")] as [(Int, String?)] {
        let store = ConversationStore(capacity: capacity)
        let m = Monitor(store: store, sources: ["x"], filter: EventFilter(), now: { t0 })
        m.filter.senderGlob = glob
        var incremental = 0
        for round in 0 ..< 300 {
            let n = round % 50 == 0 ? 400 : 1 + Int(rng.next() % 12)
            var lines: [String] = []
            for _ in 0 ..< n {
                let s = "s\(rng.next() % 60)"
                // Mostly moving forward, sometimes late or tied, sometimes without a time.
                let t = t0 + Double(round) + Double(rng.next() % 3) - (rng.next() % 7 == 0 ? 50 : 0)
                lines.append(rng.next() % 11 == 0 ? #"{"sender_id": "\#(s)", "event": "action", "name": "x"}"# : action(s, t, "a"))
            }
            let before = m.visibleOrder()
            m.ingest(.messages(batch(lines)), source: 0)
            let got = m.visibleOrder()
            if !before.isEmpty && n <= 12 { incremental += 1 }
            let full = store.byRecentActivity().filter { c in glob.map { globMatch($0, c.senderID) } ?? true }.map(\.index)
            #expect(got == full, "round \(round), capacity \(capacity), glob \(glob ?? "-")")
        }
        #expect(incremental > 200)
    }
}
