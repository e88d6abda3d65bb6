// The monitor's state and behaviour: one owner of all state, fed by one loop with input
// events and source events, and rendered into a Grid on demand. No terminal here.

import EarshotCore

/// The events of one view (a conversation, or all of them) that pass the type filter, kept
/// in step with the store incrementally so a frame never rescans the whole backlog.
struct ViewIndex {
    /// nil: all conversations.
    var conversation: Int?
    var filter: EventFilter
    private(set) var seqs: [Int] = []
    private var head = 0
    private var lastSeq = -1

    init(conversation: Int?, filter: EventFilter) {
        self.conversation = conversation
        self.filter = filter
    }

    var all: ArraySlice<Int> { seqs[head...] }
    var count: Int { seqs.count - head }

    /// Type and time filters; in the all-conversations view also the sender glob.
    func passes(_ e: StoredEvent, _ store: ConversationStore) -> Bool {
        guard filter.matchesType(e.typeName) else { return false }
        if let since = filter.since, let ts = e.timestamp, ts < since { return false }
        if conversation == nil, let glob = filter.senderGlob, !glob.isEmpty,
           !globMatch(glob, store.conversations[e.conversation].senderID) { return false }
        return true
    }

    mutating func sync(_ store: ConversationStore) {
        // Drop what the store evicted.
        while head < seqs.count && seqs[head] < store.oldestSeq { head += 1 }
        if head > 4096 && head * 2 > seqs.count { seqs.removeFirst(head); head = 0 }
        if let c = conversation {
            let held = store.conversations[c].held
            var i = held.endIndex
            while i > held.startIndex && held[i - 1] > lastSeq { i -= 1 }
            for s in held[i...] { if let e = store.event(s), passes(e, store) { seqs.append(s) } }
            if let l = held.last { lastSeq = max(lastSeq, l) }
        } else {
            var s = max(lastSeq + 1, store.oldestSeq)
            while s < store.nextSeq {
                if let e = store.event(s), passes(e, store) { seqs.append(s) }
                s += 1
            }
            lastSeq = store.nextSeq - 1
        }
    }

    /// Position of `seq` in `all` (or of the first event after it).
    func position(of seq: Int) -> Int {
        var lo = head, hi = seqs.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if seqs[mid] < seq { lo = mid + 1 } else { hi = mid }
        }
        return lo - head
    }

    subscript(i: Int) -> Int { seqs[head + i] }
}

public enum Pane: Sendable { case conversations, transcript }

public enum Overlay: Sendable, Equatable {
    case none
    case detail(seq: Int, scroll: Int)
    case help(scroll: Int)
    case typeMenu(cursor: Int)
    case prompt(PromptKind, text: String)
}

public enum PromptKind: Sendable, Equatable { case search, sender }

public struct SourceStatus: Sendable, Equatable {
    public var label: String
    public var state: SourceState
}

public final class Monitor {
    public let store: ConversationStore
    public var keys: KeyTable
    public private(set) var sources: [SourceStatus]
    public var filter: EventFilter
    public private(set) var focus: Pane = .conversations
    public private(set) var overlay: Overlay = .none
    /// Selected row of the conversation list: 0 is "all conversations".
    public private(set) var listRow = 0
    private var listTop = 0
    /// The selected conversation's sender, so the selection survives re-sorting.
    private var selectedSender: String?
    public private(set) var follow = true
    private var selectedSeq: Int?
    private var transcriptTop = 0
    /// The newest event shown when the screen was frozen: nothing after it is drawn.
    private var frozenLastSeq: Int?
    private var view: ViewIndex
    public private(set) var quitRequested = false
    public private(set) var message: String?
    private var rate = RateMeter()
    public var lowConfidenceThreshold: Double { store.lowConfidenceThreshold }
    /// Frames need a clock; tests pass their own.
    public var now: () -> Double

    public init(store: ConversationStore, sources: [String], filter: EventFilter, keys: KeyTable = .defaults, now: @escaping () -> Double = TimeParsing.now) {
        self.store = store
        self.sources = sources.map { SourceStatus(label: $0, state: .connecting) }
        self.filter = filter
        self.keys = keys
        self.now = now
        view = ViewIndex(conversation: nil, filter: filter)
    }

    // MARK: feeding

    public func ingest(_ event: SourceEvent, source: Int) {
        switch event {
        case let .messages(batch):
            store.ingest(batch, source: source, arrival: now())
            rate.add(batch.count, at: now())
            view.sync(store)
        case let .state(s):
            if source < sources.count { sources[source].state = s }
        case .backlogDone:
            break
        case let .notice(n):
            message = "\(sources[safe: source]?.label ?? "source"): \(n)"
        }
    }

    public var eventsPerSecond: Double { rate.perSecond(at: now()) }

    // MARK: derived

    /// Conversations shown in the list (sender filter applied), most recent first.
    public func visibleConversations() -> [Conversation] { visibleOrder().map { store.conversations[$0] } }

    private var orderCache: (seq: Int, glob: String?, order: [Int])?
    private var touchedMark: [Bool] = []

    /// Indices of the listed conversations, most recent first. Activity only moves forward,
    /// so after a few events the conversations they touched are taken out, sorted, and merged
    /// back in: linear in the list, not a full sort on every frame of a flood.
    func visibleOrder() -> [Int] {
        let glob = filter.senderGlob.flatMap { $0.isEmpty ? nil : $0 }
        if let c = orderCache, c.glob == glob {
            if c.seq == store.nextSeq { return c.order }
            if let order = updatedOrder(c.order, since: c.seq, glob: glob) {
                orderCache = (store.nextSeq, glob, order)
                return order
            }
        }
        var keys: [(Double, Int)] = []
        keys.reserveCapacity(store.conversations.count)
        for c in store.conversations where glob.map({ globMatch($0, c.senderID) }) ?? true {
            keys.append((c.lastActivity, c.index))
        }
        keys.sort(by: Self.listedBefore)
        let order = keys.map(\.1)
        orderCache = (store.nextSeq, glob, order)
        return order
    }

    /// Most recent first; ties by index (first seen first).
    static func listedBefore(_ a: (Double, Int), _ b: (Double, Int)) -> Bool {
        a.0 != b.0 ? a.0 > b.0 : a.1 < b.1
    }

    /// The order after the events from `seq` on, or nil when a full sort is as cheap (many
    /// events, or some of them already evicted).
    private func updatedOrder(_ old: [Int], since seq: Int, glob: String?) -> [Int]? {
        let new = store.nextSeq - seq
        guard seq >= store.oldestSeq, new <= max(64, old.count / 2) else { return nil }
        let conversations = store.conversations
        if touchedMark.count < conversations.count { touchedMark += [Bool](repeating: false, count: conversations.count - touchedMark.count) }
        var touched: [(Double, Int)] = []
        var marked: [Int] = []
        defer { for i in marked { touchedMark[i] = false } }
        for s in seq ..< store.nextSeq {
            guard let i = store.conversationIndex(ofSeq: s) else { return nil }
            if !touchedMark[i] {
                touchedMark[i] = true
                marked.append(i)
                touched.append((conversations[i].lastActivity, i))
            }
        }
        if let glob { touched.removeAll { !globMatch(glob, conversations[$0.1].senderID) } }
        touched.sort(by: Self.listedBefore)
        var order: [Int] = []
        order.reserveCapacity(old.count + touched.count)
        var t = 0
        for i in old where !touchedMark[i] {
            let key = (conversations[i].lastActivity, i)
            while t < touched.count, Self.listedBefore(touched[t], key) {
                order.append(touched[t].1)
                t += 1
            }
            order.append(i)
        }
        while t < touched.count {
            order.append(touched[t].1)
            t += 1
        }
        return order
    }

    var selectedConversationIndex: Int? {
        guard let s = selectedSender else { return nil }
        return store.conversation(s)?.index
    }

    private func rebuildView() {
        view = ViewIndex(conversation: selectedConversationIndex, filter: filter)
        view.sync(store)
        if !follow { frozenLastSeq = view.count > 0 ? view[view.count - 1] : nil }
        if follow || selectedSeq == nil { selectedSeq = view.count > 0 ? view[view.count - 1] : nil }
    }

    /// How many events of the view are on screen: all when following, up to the frozen one when not.
    var visibleCount: Int {
        guard !follow, let f = frozenLastSeq else { return follow ? view.count : 0 }
        let p = view.position(of: f)
        return min(view.count, p < view.count && view[p] == f ? p + 1 : p)
    }

    /// Events that arrived in the current view while frozen.
    public var newWhileFrozen: Int { follow ? 0 : view.count - visibleCount }

    /// Stops the screen where it is; ingest goes on.
    private func freeze() {
        guard follow else { return }
        follow = false
        frozenLastSeq = view.count > 0 ? view[view.count - 1] : nil
    }

    /// Index of the selected event in the view.
    var selectedPosition: Int? {
        let n = visibleCount
        guard n > 0 else { return nil }
        if follow { return n - 1 }
        guard let s = selectedSeq else { return n - 1 }
        return min(view.position(of: s), n - 1)
    }

    public var selectedEvent: StoredEvent? {
        guard let p = selectedPosition else { return nil }
        return store.event(view[p])
    }

    // MARK: input

    public func handle(_ input: InputEvent) {
        message = nil
        switch input {
        case .resize: return
        case let .mouse(m): handleMouse(m); return
        case let .key(k):
            switch overlay {
            case .none: break
            case .detail: return handleDetail(k)
            case .help: return handleHelp(k)
            case .typeMenu: return handleTypeMenu(k)
            case .prompt: return handlePrompt(k)
            }
            guard let action = keys.action(for: k) else { return }
            perform(action)
        }
    }

    public func perform(_ action: Action) {
        switch action {
        case .quit: quitRequested = true
        case .help: overlay = .help(scroll: 0)
        case .nextPane, .previousPane: focus = focus == .conversations ? .transcript : .conversations
        case .left: focus = .conversations
        case .right: focus = .transcript
        case .up: move(-1)
        case .down: move(1)
        case .pageUp: move(-max(1, lastPageSize - 1))
        case .pageDown: move(max(1, lastPageSize - 1))
        case .top: move(Int.min / 2)
        case .bottom: move(Int.max / 2)
        case .detail:
            if focus == .conversations { focus = .transcript } else if let e = selectedEvent { overlay = .detail(seq: e.seq, scroll: 0) }
        case .back:
            if filter.search != nil { filter.search = nil } else if focus == .transcript { focus = .conversations }
        case .search: overlay = .prompt(.search, text: filter.search ?? "")
        case .senderFilter: overlay = .prompt(.sender, text: filter.senderGlob ?? "")
        case .typeFilter: overlay = .typeMenu(cursor: 0)
        case .nextMatch: jumpToMatch(forward: true)
        case .previousMatch: jumpToMatch(forward: false)
        case .follow: setFollow(!follow)
        }
    }

    private var lastPageSize = 10

    private func setFollow(_ on: Bool) {
        if on {
            follow = true
            frozenLastSeq = nil
            selectedSeq = view.count > 0 ? view[view.count - 1] : nil
        } else {
            selectedSeq = selectedEvent?.seq
            freeze()
        }
    }

    private func move(_ delta: Int) {
        if focus == .conversations {
            let rows = visibleOrder().count + 1
            let old = listRow
            listRow = max(0, min(rows - 1, listRow &+ delta))
            if listRow != old || selectedSender == nil && listRow != 0 { selectRow(listRow) }
        } else {
            let n = visibleCount
            guard n > 0 else { return }
            let cur = selectedPosition ?? (n - 1)
            let target = max(0, min(n - 1, cur &+ delta))
            if target == n - 1 && delta > 0 {
                setFollow(true)
            } else {
                freeze()
                selectedSeq = view[target]
            }
        }
    }

    private func selectRow(_ row: Int) {
        listRow = row
        let order = visibleOrder()
        selectedSender = row == 0 ? nil : order[safe: row - 1].map { store.conversations[$0].senderID }
        follow = true
        selectedSeq = nil
        transcriptTop = 0
        rebuildView()
    }

    private func jumpToMatch(forward: Bool, includingSelected: Bool = false) {
        guard let needle = filter.search, !needle.isEmpty, view.count > 0 else { return }
        var start = selectedPosition ?? (forward ? -1 : view.count)
        if includingSelected { start += forward ? -1 : 1 }
        var i = start
        for _ in 0 ..< view.count {
            i += forward ? 1 : -1
            if i < 0 || i >= view.count { break }
            if let e = store.event(view[i]), matchesSearch(e) {
                freeze()
                if i >= visibleCount { frozenLastSeq = e.seq }
                selectedSeq = e.seq
                focus = .transcript
                return
            }
        }
        message = "no \(forward ? "later" : "earlier") match for \"\(needle)\""
    }

    func matchesSearch(_ e: StoredEvent) -> Bool {
        guard let needle = filter.search, !needle.isEmpty else { return false }
        return e.withView { filter.searchMatches($0) } ?? false
    }

    private func handleDetail(_ k: Key) {
        guard case let .detail(seq, scroll) = overlay else { return }
        switch keys.action(for: k) {
        case .up?: overlay = .detail(seq: seq, scroll: max(0, scroll - 1))
        case .down?: overlay = .detail(seq: seq, scroll: scroll + 1)
        case .pageUp?: overlay = .detail(seq: seq, scroll: max(0, scroll - lastPageSize))
        case .pageDown?: overlay = .detail(seq: seq, scroll: scroll + lastPageSize)
        case .top?: overlay = .detail(seq: seq, scroll: 0)
        case .bottom?: overlay = .detail(seq: seq, scroll: Int.max / 2)
        case .back?, .detail?, .quit?: overlay = .none
        default: break
        }
    }

    private func handleHelp(_ k: Key) {
        guard case let .help(scroll) = overlay else { return }
        switch keys.action(for: k) {
        case .up?: overlay = .help(scroll: max(0, scroll - 1))
        case .down?: overlay = .help(scroll: scroll + 1)
        default: overlay = .none
        }
    }

    /// Types in the menu: every type seen so far, by name.
    public func menuTypes() -> [(name: String, count: Int, shown: Bool)] {
        store.countsByType.sorted { $0.key < $1.key }.map { ($0.key, $0.value, filter.matchesType($0.key)) }
    }

    private func handleTypeMenu(_ k: Key) {
        guard case let .typeMenu(cursor) = overlay else { return }
        let types = menuTypes()
        switch (k, keys.action(for: k)) {
        case (.char(" "), _), (.enter, _), (.char("x"), _):
            if let t = types[safe: cursor] { toggleType(t.name) }
        case (.char("a"), _):
            filter.includeTypes = []
            filter.excludeTypes = []
            rebuildView()
        case (_, .up?): overlay = .typeMenu(cursor: max(0, cursor - 1))
        case (_, .down?): overlay = .typeMenu(cursor: min(max(0, types.count - 1), cursor + 1))
        case (_, .back?), (_, .quit?), (.char("t"), _): overlay = .none
        default: break
        }
    }

    public func toggleType(_ name: String) {
        if !filter.includeTypes.isEmpty {
            // Switching to exclude mode keeps the current selection but lets the user toggle freely.
            let seen = Set(store.countsByType.keys)
            filter.excludeTypes = seen.subtracting(filter.includeTypes)
            filter.includeTypes = []
        }
        if filter.excludeTypes.contains(name) { filter.excludeTypes.remove(name) } else { filter.excludeTypes.insert(name) }
        rebuildView()
    }

    private func handlePrompt(_ k: Key) {
        guard case .prompt(let kind, var text) = overlay else { return }
        switch k {
        case .escape: overlay = .none; return
        case .enter:
            overlay = .none
            let value = text.isEmpty ? nil : text
            if kind == .search {
                filter.search = value
                if value != nil { jumpToMatch(forward: false, includingSelected: true) }
            } else {
                filter.senderGlob = value
                selectRow(0)
            }
            return
        case .backspace, .delete, .ctrl("h"): if !text.isEmpty { text.removeLast() }
        case .ctrl("u"): text = ""
        case let .char(c): text.append(c)
        default: break
        }
        overlay = .prompt(kind, text: text)
    }

    // MARK: mouse

    private var lastLayout: Layout?

    private func handleMouse(_ m: MouseEvent) {
        guard let l = lastLayout, overlay == .none else {
            if case .detail = overlay, m.action != .press { handleDetail(m.action == .wheelUp ? .up : .down) }
            return
        }
        let delta = m.action == .wheelUp ? -3 : 3
        if l.list.contains(x: m.x, y: m.y) {
            focus = .conversations
            if m.action == .press {
                let row = l.listTop + (m.y - l.list.y - 1)
                if row >= 0 && row <= visibleOrder().count { selectRow(row) }
            } else { move(delta) }
        } else if l.transcript.contains(x: m.x, y: m.y) {
            focus = .transcript
            if m.action == .press {
                let i = l.transcriptTop + (m.y - l.transcript.y - 1)
                if i >= 0 && i < visibleCount {
                    if i == visibleCount - 1 && follow { setFollow(true) } else { freeze(); selectedSeq = view[i] }
                }
            } else { move(delta) }
        }
    }

    // MARK: rendering

    struct Layout {
        var list: Rect
        var transcript: Rect
        var listTop: Int
        var transcriptTop: Int
    }

    public static let minWidth = 30
    public static let minHeight = 8

    public func render(width: Int, height: Int) -> Grid {
        var g = Grid(width: width, height: height)
        guard width >= Monitor.minWidth && height >= Monitor.minHeight else {
            let msg = ["Terminal too small: \(width)x\(height)", "Earshot needs at least \(Monitor.minWidth)x\(Monitor.minHeight).", "Resize, or press q to quit."]
            for (i, m) in msg.enumerated() where i < height { g.put(clipped(m, width), x: 0, y: i, role: i == 0 ? .statusError : .normal) }
            return g
        }
        let body = Rect(x: 0, y: 0, width: width, height: height - 2)
        // Side by side when there is room; else the focused pane takes the screen.
        var list = body, transcript = body
        if width >= 70 {
            let lw = min(44, max(26, width * 3 / 10))
            list = Rect(x: 0, y: 0, width: lw, height: body.height)
            transcript = Rect(x: lw, y: 0, width: width - lw, height: body.height)
        } else if focus == .conversations {
            transcript = Rect(x: width, y: 0, width: 0, height: 0)
        } else {
            list = Rect(x: 0, y: 0, width: 0, height: 0)
        }
        lastPageSize = max(1, (focus == .conversations ? list.height : transcript.height) - 2)
        let lt = drawList(&g, list)
        let tt = drawTranscript(&g, transcript)
        lastLayout = Layout(list: list, transcript: transcript, listTop: lt, transcriptTop: tt)
        drawStatus(&g, y: height - 2)
        drawHelpBar(&g, y: height - 1)
        switch overlay {
        case .none: break
        case let .detail(seq, scroll): drawDetail(&g, seq: seq, scroll: scroll)
        case let .help(scroll): drawHelp(&g, scroll: scroll)
        case let .typeMenu(cursor): drawTypeMenu(&g, cursor: cursor)
        case let .prompt(kind, text): drawPrompt(&g, kind: kind, text: text)
        }
        return g
    }

    private func drawList(_ g: inout Grid, _ r: Rect) -> Int {
        guard r.width > 0 else { return 0 }
        let order = visibleOrder()
        // Keep the selected sender's row selected as the list re-sorts.
        if selectedSender != nil {
            if let ci = selectedConversationIndex, let i = order.firstIndex(of: ci) { listRow = i + 1 } else { listRow = 0; selectedSender = nil; rebuildView() }
        }
        var title = "Conversations (\(order.count))"
        if let glob = filter.senderGlob { title += " sender: \(glob)" }
        g.box(r, title: title, focused: focus == .conversations)
        let inner = r.inset(1)
        guard inner.height > 0 else { return 0 }
        if listRow < listTop { listTop = listRow }
        if listRow >= listTop + inner.height { listTop = listRow - inner.height + 1 }
        listTop = max(0, min(listTop, max(0, order.count + 1 - inner.height)))
        let t = now()
        for row in listTop ..< min(order.count + 1, listTop + inner.height) {
            let y = inner.y + row - listTop
            let selected = row == listRow
            if selected { g.fill(Rect(x: inner.x, y: y, width: inner.width, height: 1), role: .selection) }
            let base: Role = selected ? .selection : .normal
            if row == 0 {
                let right = filter.senderGlob == nil ? "\(store.count)" : "\(order.reduce(0) { $0 + store.conversations[$1].count })"
                g.put(clipped("All conversations", inner.width - right.count - 1), x: inner.x, y: y, role: selected ? .senderSelected : .title)
                g.put(right, x: inner.maxX - right.count, y: y, role: selected ? .selection : .count)
                continue
            }
            let c = store.conversations[order[row - 1]]
            var badges: [(String, Role)] = []
            if c.lowConfidence > 0 { badges.append(("?\(c.lowConfidence)", .lowConfidence)) }
            if c.undecodable > 0 { badges.append(("✗\(c.undecodable)", .undecodable)) }
            if c.isEnded { badges.append((c.lastReset == .restart ? "↻" : "■", .badge)) }
            let age = ago(t - c.lastActivity)
            var rightText = "\(age) \(c.total)"
            for (b, _) in badges { rightText += " " + b }
            let rightWidth = displayWidth(rightText)
            let nameWidth = max(1, inner.width - rightWidth - 1)
            let name = c.senderID.isEmpty ? "(undecodable)" : c.senderID
            g.put(clipped(name, nameWidth), x: inner.x, y: y, role: selected ? .senderSelected : .sender)
            var x = inner.maxX - rightWidth
            x = g.put(age, x: x, y: y, role: selected ? base : .time)
            x = g.put(" \(c.total)", x: x, y: y, role: selected ? base : .count)
            for (b, role) in badges { x = g.put(" " + b, x: x, y: y, role: selected ? .selection : role) }
        }
        return listTop
    }

    private func drawTranscript(_ g: inout Grid, _ r: Rect) -> Int {
        guard r.width > 0 else { return 0 }
        let isAll = selectedSender == nil
        var title = isAll ? "All conversations" : (selectedSender ?? "")
        title = sanitize(title)
        if !filter.excludeTypes.isEmpty || !filter.includeTypes.isEmpty { title += " · types filtered" }
        if !follow { title += newWhileFrozen > 0 ? " · frozen, \(newWhileFrozen) new ▼" : " · frozen" }
        g.box(r, title: title, focused: focus == .transcript)
        let inner = r.inset(1)
        guard inner.height > 0, inner.width > 0 else { return 0 }
        let n = visibleCount
        let sel = selectedPosition
        if follow {
            transcriptTop = max(0, n - inner.height)
        } else if let sel {
            if sel < transcriptTop { transcriptTop = sel }
            if sel >= transcriptTop + inner.height { transcriptTop = sel - inner.height + 1 }
            transcriptTop = max(0, min(transcriptTop, max(0, n - inner.height)))
        }
        if n == 0 {
            g.put(clipped(store.count == 0 ? "Waiting for events…" : "No events pass the filters.", inner.width), x: inner.x, y: inner.y, role: .system)
            return 0
        }
        for i in transcriptTop ..< min(n, transcriptTop + inner.height) {
            guard let e = store.event(view[i]) else { continue }
            let y = inner.y + i - transcriptTop
            let selected = focus == .transcript && i == sel
            drawEventLine(&g, e, x: inner.x, y: y, maxX: inner.maxX, showSender: isAll, selected: selected)
        }
        return transcriptTop
    }

    /// One transcript line: time, (sender), marker, and what happened, each in its role.
    func drawEventLine(_ g: inout Grid, _ e: StoredEvent, x: Int, y: Int, maxX: Int, showSender: Bool, selected: Bool) {
        if selected { g.fill(Rect(x: x, y: y, width: maxX - x, height: 1), role: .selection) }
        func role(_ r: Role) -> Role { selected ? .selection : r }
        var col = x
        let time = e.timestamp.map { String(TimeParsing.format($0).dropFirst(11).prefix(8)) } ?? "--:--:--"
        col = g.put(time + " ", x: col, y: y, role: role(.time), maxX: maxX)
        if matchesSearch(e) { col = g.put("»", x: col - 1, y: y, role: .searchMatch, maxX: maxX) + 0 }
        if showSender {
            let conv = store.conversations[e.conversation].senderID
            col = g.put(pad(clipped(conv.isEmpty ? "?" : conv, 12), 12) + " ", x: col, y: y, role: role(.sender), maxX: maxX)
        }
        if let u = e.undecodable {
            g.put("✗ undecodable: \(u.description)", x: col, y: y, role: role(.undecodable), maxX: maxX)
            return
        }
        e.withView { v in
            switch v.kind {
            case .user:
                col = g.put("▶ ", x: col, y: y, role: role(.userText), maxX: maxX)
                col = g.put(v.text ?? "", x: col, y: y, role: role(.userText), maxX: maxX)
                if let intent = v.intentName {
                    let conf = v.intentConfidence.map { " " + Summary.confidence($0) } ?? ""
                    col = g.put("  ", x: col, y: y, role: role(.normal), maxX: maxX)
                    col = g.put("\(intent)\(conf)", x: col, y: y, role: role(e.lowConfidence ? .lowConfidence : .intent), maxX: maxX)
                }
                for ent in v.entities {
                    col = g.put("  ", x: col, y: y, role: role(.normal), maxX: maxX)
                    col = g.put("\(ent.entity)=\(ent.value)", x: col, y: y, role: role(.entity), maxX: maxX)
                }
            case .bot, .agent:
                col = g.put("◀ ", x: col, y: y, role: role(.botText), maxX: maxX)
                col = g.put(v.text ?? (v.utterAction ?? ""), x: col, y: y, role: role(.botText), maxX: maxX)
                for b in v.buttons { col = g.put("  ", x: col, y: y, role: role(.normal), maxX: maxX); col = g.put("[\(b)]", x: col, y: y, role: role(.button), maxX: maxX) }
                for q in v.quickReplies { col = g.put("  ", x: col, y: y, role: role(.normal), maxX: maxX); col = g.put("(\(q))", x: col, y: y, role: role(.button), maxX: maxX) }
                for a in v.attachments { col = g.put("  ", x: col, y: y, role: role(.normal), maxX: maxX); col = g.put("[\(a)]", x: col, y: y, role: role(.button), maxX: maxX) }
            case .slot:
                g.put("· slot \(Summary.of(v))", x: col, y: y, role: role(.slot), maxX: maxX)
            case .action, .actionExecutionRejected:
                let label = v.kind == .action ? "action" : "rejected"
                g.put("· \(label) \(Summary.of(v))", x: col, y: y, role: role(.action), maxX: maxX)
            case .sessionStarted, .restart, .sessionEnded:
                g.put("── \(v.kind.typeName.replacingUnderscores) \(Summary.of(v)) ──", x: col, y: y, role: role(.system), maxX: maxX)
            default:
                let name = v.kind == .unknown ? v.typeName : v.kind.typeName
                g.put("· \(name) \(Summary.of(v))", x: col, y: y, role: role(.system), maxX: maxX)
            }
        }
    }

    /// Sources (always), then filters, on the left; counts on the right. When space runs out
    /// the filters are cut first, then the source labels.
    private func drawStatus(_ g: inout Grid, y: Int) {
        g.fill(Rect(x: 0, y: y, width: g.width, height: 1), role: .statusBar)
        var counts = ["\(fixed(eventsPerSecond, 1)) ev/s", "\(store.totalIngested) events"]
        if store.evicted > 0 { counts.append("\(store.evicted) evicted") }
        counts.append("\(store.undecodable) undecodable")
        var right = " " + counts.joined(separator: " · ")
        if displayWidth(right) > g.width - 28 {
            right = " \(store.totalIngested) ev" + (store.evicted > 0 ? " -\(store.evicted)" : "") + (store.undecodable > 0 ? " ✗\(store.undecodable)" : "")
        }
        let rightWidth = displayWidth(right)
        let leftMax = g.width - rightWidth
        var filters: [String] = []
        if !filter.includeTypes.isEmpty { filters.append("type=" + filter.includeTypes.sorted().joined(separator: ",")) }
        if !filter.excludeTypes.isEmpty { filters.append("type≠" + filter.excludeTypes.sorted().joined(separator: ",")) }
        if let s = filter.senderGlob { filters.append("sender=\(s)") }
        if let q = filter.search { filters.append("search=\(q)") }
        if let since = filter.since { filters.append("since " + TimeParsing.format(since)) }
        let filterText = filters.isEmpty ? "" : " " + filters.joined(separator: " ")
        let sourceText = sources.map { "● \($0.label) \($0.state.label)" }.joined(separator: "  ")
        // Sources get what they need, but leave the filters at least a third of the room.
        let sourceRoom = filterText.isEmpty ? leftMax : min(displayWidth(sourceText) + 2, max(leftMax * 2 / 3, leftMax - displayWidth(filterText)))
        var x = 0
        for s in sources where x < sourceRoom - 2 {
            let role: Role
            switch s.state {
            case .live, .finished: role = .statusOK
            case .failed: role = .statusError
            default: role = .statusWarn
            }
            x = g.put("● ", x: x, y: y, role: role, maxX: sourceRoom)
            // The state is what matters: the label is what gets cut.
            let state = " " + s.state.label
            let labelRoom = max(1, sourceRoom - x - displayWidth(state) - 1)
            x = g.put(clipped(s.label, labelRoom) + state + " ", x: x, y: y, role: .statusBar, maxX: sourceRoom)
        }
        if !filterText.isEmpty { g.put(clipped(filterText, max(0, leftMax - x)), x: x, y: y, role: .statusWarn, maxX: leftMax) }
        g.put(right, x: g.width - rightWidth, y: y, role: store.undecodable > 0 ? .statusWarn : .statusBar)
    }

    /// The help bar, generated from the key table; a message (a failed search, a source
    /// notice) takes its place until the next key.
    private func drawHelpBar(_ g: inout Grid, y: Int) {
        if let m = message {
            g.put(clipped(m, g.width), x: 0, y: y, role: .statusWarn)
            return
        }
        var x = 0
        for (k, label) in keys.helpBar {
            if x > 0 { x = g.put("  ", x: x, y: y, role: .helpText) }
            let next = x + displayWidth(k) + 1 + displayWidth(label)
            if next > g.width { break }
            x = g.put(k, x: x, y: y, role: .helpKey)
            x = g.put(" " + label, x: x, y: y, role: .helpText)
        }
    }

    private func centered(_ g: Grid, width: Int, height: Int) -> Rect {
        let w = min(width, g.width - 2), h = min(height, g.height - 2)
        return Rect(x: (g.width - w) / 2, y: (g.height - h) / 2, width: w, height: h)
    }

    private func drawDetail(_ g: inout Grid, seq: Int, scroll: Int) {
        let r = Rect(x: 0, y: 0, width: g.width, height: g.height - 1)
        g.fill(r)
        guard let e = store.event(seq) else {
            g.box(r, title: "event no longer held (evicted)", focused: true)
            return
        }
        let label = sources[safe: e.source]?.label ?? "source"
        g.box(r, title: "\(e.typeName) · \(label) · \(e.position.description)", focused: true)
        let inner = r.inset(1)
        var lines: [[JSONToken]] = []
        if let u = e.undecodable {
            lines.append([JSONToken(kind: .key, text: "undecodable: "), JSONToken(kind: .string, text: u.description)])
            lines.append([JSONToken(kind: .punctuation, text: "raw bytes (\(e.raw.count)):")])
            let raw = String(decoding: e.raw, as: UTF8.self)
            var chunk = ""
            for ch in sanitize(raw) {
                chunk.append(ch)
                if displayWidth(chunk) >= inner.width - 1 { lines.append([JSONToken(kind: .literal, text: chunk)]); chunk = "" }
            }
            if !chunk.isEmpty { lines.append([JSONToken(kind: .literal, text: chunk)]) }
        } else {
            lines = e.withRaw { PrettyJSON.lines($0) } ?? []
            if let errs = e.withView({ $0.fieldErrors }), !errs.isEmpty {
                for (f, err) in errs { lines.append([JSONToken(kind: .key, text: "field error: "), JSONToken(kind: .string, text: "\(f) \(err)")]) }
            }
        }
        let top = max(0, min(scroll, max(0, lines.count - inner.height)))
        if top != scroll { overlay = .detail(seq: seq, scroll: top) }
        for (i, line) in lines.dropFirst(top).prefix(inner.height).enumerated() {
            var x = inner.x
            for t in line {
                let role: Role
                switch t.kind {
                case .key: role = .jsonKey
                case .string: role = .jsonString
                case .number: role = .jsonNumber
                case .literal: role = .jsonLiteral
                case .punctuation, .space: role = .jsonPunctuation
                }
                x = g.put(t.text, x: x, y: inner.y + i, role: role, maxX: inner.maxX)
            }
        }
        if lines.count > inner.height {
            let s = " \(top + 1)-\(min(lines.count, top + inner.height))/\(lines.count) "
            g.put(s, x: r.maxX - displayWidth(s) - 1, y: r.maxY - 1, role: .borderFocused)
        }
    }

    private func drawHelp(_ g: inout Grid, scroll: Int) {
        let rows = keys.bindings.map { b in (b.keys.map(\.name).joined(separator: " "), b.description) }
        let keyWidth = min(20, (rows.map { displayWidth($0.0) }.max() ?? 0) + 2)
        let r = centered(g, width: 64, height: rows.count + 4)
        g.fill(r)
        let inner = r.inset(1)
        g.box(r, title: rows.count > inner.height ? "Keys (j/k scroll, any other key closes)" : "Keys (any key closes)", focused: true)
        for (i, row) in rows.dropFirst(scroll).prefix(inner.height).enumerated() {
            g.put(row.0, x: inner.x + 1, y: inner.y + i, role: .helpKey, maxX: inner.x + keyWidth)
            g.put(row.1, x: inner.x + 1 + keyWidth, y: inner.y + i, role: .helpText, maxX: inner.maxX)
        }
    }

    private func drawTypeMenu(_ g: inout Grid, cursor: Int) {
        let types = menuTypes()
        let r = centered(g, width: 40, height: max(3, types.count) + 4)
        g.fill(r)
        g.box(r, title: "Event types (Space toggles, a all)", focused: true)
        let inner = r.inset(1)
        if types.isEmpty { g.put("No events yet.", x: inner.x + 1, y: inner.y, role: .system) }
        let top = max(0, cursor - inner.height + 1)
        for (i, t) in types.enumerated().dropFirst(top).prefix(inner.height) {
            let y = inner.y + i - top
            if i == cursor { g.fill(Rect(x: inner.x, y: y, width: inner.width, height: 1), role: .selection) }
            let box = t.shown ? "[x] " : "[ ] "
            g.put(box, x: inner.x + 1, y: y, role: i == cursor ? .selection : (t.shown ? .menuChecked : .system))
            g.put(t.name, x: inner.x + 5, y: y, role: i == cursor ? .selection : .normal, maxX: inner.maxX - 8)
            let c = "\(t.count)"
            g.put(c, x: inner.maxX - 1 - c.count, y: y, role: i == cursor ? .selection : .count)
        }
    }

    private func drawPrompt(_ g: inout Grid, kind: PromptKind, text: String) {
        let y = g.height - 1
        g.fill(Rect(x: 0, y: y, width: g.width, height: 1), role: .prompt)
        let label = kind == .search ? "search: " : "sender glob: "
        var x = g.put(label, x: 0, y: y, role: .prompt)
        // Show the end of a long input.
        var shown = text
        while displayWidth(shown) > g.width - x - 1 { shown.removeFirst() }
        x = g.put(shown, x: x, y: y, role: .prompt)
        g.cursor = (min(x, g.width - 1), y)
    }
}

/// Events per second over the last few seconds.
struct RateMeter {
    private var buckets: [(second: Int, count: Int)] = []

    mutating func add(_ n: Int, at t: Double) {
        let s = Int(t)
        if let last = buckets.last, last.second == s { buckets[buckets.count - 1].count += n } else { buckets.append((s, n)) }
        buckets.removeAll { $0.second < s - 5 }
    }

    func perSecond(at t: Double) -> Double {
        let s = Int(t)
        // The last three whole seconds (the current one is still filling).
        let window = buckets.filter { $0.second >= s - 3 && $0.second < s }
        return Double(window.reduce(0) { $0 + $1.count }) / 3
    }
}

/// "5s", "3m", "2h", "4d": how long ago.
func ago(_ seconds: Double) -> String {
    let s = max(0, Int(seconds))
    if s < 60 { return "\(s)s" }
    if s < 3600 { return "\(s / 60)m" }
    if s < 86400 { return "\(s / 3600)h" }
    return "\(s / 86400)d"
}

extension Collection {
    subscript(safe i: Index) -> Element? { indices.contains(i) ? self[i] : nil }
}

extension String {
    var replacingUnderscores: String { String(map { $0 == "_" ? " " : $0 }) }
}
