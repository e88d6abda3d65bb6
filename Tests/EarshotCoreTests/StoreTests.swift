import Testing
@testable import EarshotCore

// MARK: helpers (private: other files of this target must not see them)

@discardableResult
private func put(_ store: ConversationStore, _ json: String, arrival: Double = 1_000, source: Int = 0,
                 position: SourcePosition = .none) -> Int {
    Array(json.utf8).withUnsafeBytes { store.add($0, position: position, source: source, arrival: arrival) }
}

@discardableResult
private func putBytes(_ store: ConversationStore, _ bytes: [UInt8], arrival: Double = 1_000) -> Int {
    bytes.withUnsafeBytes { store.add($0, position: .none, arrival: arrival) }
}

private func tsField(_ ts: Double?) -> String { ts.map { #", "timestamp": \#($0)"# } ?? "" }

private func userMsg(_ sender: String, _ text: String = "hi", ts: Double? = nil, intent: String = "greet", confidence: Double = 0.99) -> String {
    #"{"sender_id": "\#(sender)", "event": "user"\#(tsField(ts)), "text": "\#(text)", "parse_data": {"intent": {"name": "\#(intent)", "confidence": \#(confidence)}, "entities": []}}"#
}

private func botMsg(_ sender: String, _ text: String = "hello", ts: Double? = nil) -> String {
    #"{"sender_id": "\#(sender)", "event": "bot"\#(tsField(ts)), "text": "\#(text)"}"#
}

private func eventMsg(_ sender: String, _ type: String, ts: Double? = nil) -> String {
    #"{"sender_id": "\#(sender)", "event": "\#(type)"\#(tsField(ts))}"#
}

private func rawString(_ ev: StoredEvent?) -> String? { ev.map { String(decoding: $0.raw, as: UTF8.self) } }

@Suite struct StoreTests {
    // MARK: grouping

    @Test func eventsAreGroupedPerSenderInArrivalOrder() {
        let s = ConversationStore()
        let a0 = put(s, userMsg("alice", "one"))
        let b0 = put(s, userMsg("bob", "two"))
        let a1 = put(s, botMsg("alice", "three"))
        let c0 = put(s, eventMsg("carol", "action"))
        let b1 = put(s, botMsg("bob", "four"))
        let a2 = put(s, eventMsg("alice", "slot"))
        #expect([a0, b0, a1, c0, b1, a2] == [0, 1, 2, 3, 4, 5])
        #expect(s.count == 6)
        #expect(s.totalIngested == 6)
        #expect(s.nextSeq == 6)
        #expect(s.oldestSeq == 0)
        #expect(s.evicted == 0)

        #expect(s.conversations.map(\.senderID) == ["alice", "bob", "carol"])
        #expect(s.conversations.map(\.index) == [0, 1, 2])
        let alice = s.conversation("alice")
        #expect(alice?.seqs == [0, 2, 5])
        #expect(alice.map { Array($0.held) } == [0, 2, 5])
        #expect(alice?.count == 3)
        #expect(alice?.total == 3)
        #expect(s.conversation("bob")?.seqs == [1, 4])
        #expect(s.conversation("carol")?.seqs == [3])
        #expect(s.conversation("dave") == nil)

        #expect(s.event(1)?.conversation == 1)
        #expect(s.event(3)?.conversation == 2)
        #expect(s.event(5)?.conversation == 0)
        #expect(s.event(2)?.kind == .bot)
        #expect(s.event(2)?.seq == 2)
        #expect(rawString(s.event(2)) == botMsg("alice", "three"))
    }

    @Test func sourcePositionAndArrivalAreKept() {
        let s = ConversationStore()
        put(s, userMsg("a"), arrival: 5, source: 3, position: .line(number: 7, offset: 120))
        let e = s.event(0)
        #expect(e?.source == 3)
        #expect(e?.position == .line(number: 7, offset: 120))
        #expect(s.conversation("a")?.firstSeen == 5)
    }

    @Test func ingestAddsEveryMessageOfABatch() {
        var batch = MessageBatch()
        batch.append(Array(userMsg("a", "x").utf8), at: .row(id: 10))
        batch.append(Array(botMsg("b", "y").utf8), at: .row(id: 11))
        batch.append(Array(userMsg("a", "z").utf8), at: .row(id: 12))
        let s = ConversationStore()
        s.ingest(batch, source: 2, arrival: 42)
        #expect(s.count == 3)
        #expect(s.conversation("a")?.seqs == [0, 2])
        #expect(s.conversation("b")?.seqs == [1])
        #expect(s.event(1)?.position == .row(id: 11))
        #expect(s.event(2)?.source == 2)
        #expect(rawString(s.event(2)) == userMsg("a", "z"))
        #expect(s.conversation("b")?.lastActivity == 42)
    }

    // MARK: counts

    @Test func countsPerTypePerConversationAndGlobal() {
        let s = ConversationStore()
        put(s, userMsg("a"))
        put(s, eventMsg("a", "action"))
        put(s, botMsg("a"))
        put(s, eventMsg("a", "action"))
        put(s, userMsg("b"))
        put(s, eventMsg("b", "slot"))
        put(s, eventMsg("b", "form"))  // legacy name: counted as active_loop
        #expect(s.conversation("a")?.countsByType == ["user": 1, "action": 2, "bot": 1])
        #expect(s.conversation("b")?.countsByType == ["user": 1, "slot": 1, "active_loop": 1])
        #expect(s.countsByType == ["user": 2, "action": 2, "bot": 1, "slot": 1, "active_loop": 1])
        #expect(s.event(6)?.kind == .activeLoop)
        #expect(s.event(6)?.typeName == "active_loop")
    }

    @Test func unknownTypesAreCountedByTheirOwnName() {
        let s = ConversationStore()
        put(s, eventMsg("a", "my_custom_event"))
        put(s, eventMsg("a", "my_custom_event"))
        put(s, eventMsg("b", "other_thing"))
        put(s, userMsg("b"))
        #expect(s.countsByType == ["my_custom_event": 2, "other_thing": 1, "user": 1])
        #expect(s.countsByType["unknown"] == nil)
        #expect(s.conversation("a")?.countsByType == ["my_custom_event": 2])
        #expect(s.conversation("b")?.countsByType == ["other_thing": 1, "user": 1])
        #expect(s.event(2)?.kind == .unknown)
        #expect(s.event(2)?.unknownName == "other_thing")
        #expect(s.event(2)?.typeName == "other_thing")
        #expect(s.event(3)?.unknownName == nil)
    }

    // MARK: activity

    @Test func lastActivityFollowsEventTimestamps() {
        let s = ConversationStore()
        put(s, userMsg("a", ts: 100), arrival: 9_000)
        #expect(s.conversation("a")?.lastActivity == 100)
        #expect(s.conversation("a")?.firstSeen == 9_000)
        put(s, botMsg("a", ts: 150.5), arrival: 9_001)
        #expect(s.conversation("a")?.lastActivity == 150.5)
        // An older (out-of-order) event does not move it back.
        put(s, eventMsg("a", "action", ts: 120), arrival: 9_002)
        #expect(s.conversation("a")?.lastActivity == 150.5)
    }

    @Test func lastActivityUsesArrivalWhenThereIsNoTimestamp() {
        let s = ConversationStore()
        put(s, userMsg("a"), arrival: 500)
        #expect(s.conversation("a")?.lastActivity == 500)
        put(s, botMsg("a"), arrival: 700.25)
        #expect(s.conversation("a")?.lastActivity == 700.25)
        put(s, eventMsg("a", "action", ts: 800), arrival: 600)
        #expect(s.conversation("a")?.lastActivity == 800)
        put(s, eventMsg("a", "action"), arrival: 650)
        #expect(s.conversation("a")?.lastActivity == 800)
    }

    @Test func isoTimestampCountsAsActivity() {
        let s = ConversationStore()
        put(s, #"{"sender_id": "m", "event": "user", "timestamp": "2025-04-19T06:33:14Z", "text": "x"}"#, arrival: 1)
        #expect(s.conversation("m")?.lastActivity == 1745044394)
        #expect(s.event(0)?.timestamp == 1745044394)
    }

    @Test func byRecentActivityIsMostRecentFirstTiesByIndex() {
        let s = ConversationStore()
        put(s, userMsg("old", ts: 10))
        put(s, userMsg("newest", ts: 30))
        put(s, userMsg("middle", ts: 20))
        put(s, userMsg("tieA", ts: 25))
        put(s, userMsg("tieB", ts: 25))
        #expect(s.byRecentActivity().map(\.senderID) == ["newest", "tieA", "tieB", "middle", "old"])
        // New activity moves a conversation to the front.
        put(s, botMsg("old", ts: 40))
        #expect(s.byRecentActivity().map(\.senderID) == ["old", "newest", "tieA", "tieB", "middle"])
        // Insertion order of `conversations` itself is unchanged.
        #expect(s.conversations.map(\.senderID) == ["old", "newest", "middle", "tieA", "tieB"])
    }

    // MARK: low confidence

    @Test func lowConfidenceUsesTheThreshold() {
        let s = ConversationStore(lowConfidenceThreshold: 0.5)
        put(s, userMsg("a", confidence: 0.3))              // low
        put(s, userMsg("a", confidence: 0.5))              // at the threshold: not below
        put(s, userMsg("a", confidence: 0.49))             // low
        put(s, userMsg("a", confidence: 0.97))             // fine
        put(s, userMsg("a", intent: "nlu_fallback", confidence: 0.99))  // fallback: low whatever the confidence
        put(s, botMsg("a"))                                // bots are never low
        put(s, #"{"sender_id": "a", "event": "action", "name": "x", "confidence": 0.1}"#)  // nor actions
        #expect(s.conversation("a")?.lowConfidence == 3)
        #expect((0 ..< 7).map { s.event($0)?.lowConfidence } == [true, false, true, false, true, false, false])
    }

    @Test func thresholdChangesApplyToLaterEvents() {
        let s = ConversationStore(lowConfidenceThreshold: 0.5)
        put(s, userMsg("a", confidence: 0.7))
        s.lowConfidenceThreshold = 0.8
        put(s, userMsg("a", confidence: 0.7))
        #expect(s.event(0)?.lowConfidence == false)
        #expect(s.event(1)?.lowConfidence == true)
        #expect(s.conversation("a")?.lowConfidence == 1)
    }

    @Test func userWithoutConfidenceIsNotLow() {
        let s = ConversationStore(lowConfidenceThreshold: 0.9)
        put(s, #"{"sender_id": "a", "event": "user", "text": "no parse data"}"#)
        #expect(s.event(0)?.lowConfidence == false)
        #expect(s.conversation("a")?.lowConfidence == 0)
    }

    // MARK: undecodable

    @Test func undecodableMessagesAreKeptAndCounted() {
        let s = ConversationStore()
        put(s, userMsg("a"))
        let bad1: [UInt8] = Array("not json at all".utf8)
        let bad2: [UInt8] = Array(#"{"event": "user", "text": "caf"#.utf8) + [0xE9, 0x22, 0x7D]  // Latin-1
        let bad3: [UInt8] = Array(#"{"sender_id": "a", "text": "no event key"}"#.utf8)
        let q1 = putBytes(s, bad1, arrival: 2_000)
        let q2 = putBytes(s, bad2, arrival: 2_001)
        let q3 = putBytes(s, bad3, arrival: 2_002)
        #expect([q1, q2, q3] == [1, 2, 3])
        #expect(s.undecodable == 3)
        #expect(s.countsByType == ["user": 1, "undecodable": 3])

        let empty = s.conversation("")
        #expect(empty != nil)
        #expect(empty?.seqs == [1, 2, 3])
        #expect(empty?.undecodable == 3)
        #expect(empty?.countsByType == ["undecodable": 3])
        #expect(empty?.lastActivity == 2_002)
        // Even though bad3 names sender "a", it could not be decoded: it is not in a's conversation.
        #expect(s.conversation("a")?.seqs == [0])
        #expect(s.conversation("a")?.undecodable == 0)

        #expect(s.event(1)?.raw == bad1)
        #expect(s.event(2)?.raw == bad2)
        #expect(s.event(3)?.raw == bad3)
        #expect(s.event(2)?.undecodable?.reason.contains("not valid UTF-8") == true)
        #expect(s.event(3)?.undecodable?.reason == "no \"event\" key")
        #expect(s.event(1)?.typeName == "undecodable")
        #expect(s.event(1)?.timestamp == nil)
        #expect(s.event(1)?.lowConfidence == false)
        #expect(s.event(0)?.undecodable == nil)
    }

    @Test func eventsWithoutSenderShareTheEmptyConversation() {
        let s = ConversationStore()
        put(s, #"{"event": "action", "name": "action_listen"}"#)
        putBytes(s, Array("{".utf8))
        #expect(s.conversations.count == 1)
        #expect(s.conversation("")?.seqs == [0, 1])
        #expect(s.conversation("")?.countsByType == ["action": 1, "undecodable": 1])
        #expect(s.conversation("")?.undecodable == 1)
    }

    // MARK: resets

    @Test func restartAndSessionEndedMarkEndedAndAUserMessageClearsIt() {
        let s = ConversationStore()
        put(s, userMsg("a"))
        #expect(s.conversation("a")?.isEnded == false)
        #expect(s.conversation("a")?.lastReset == nil)
        let r = put(s, eventMsg("a", "restart"))
        #expect(s.conversation("a")?.isEnded == true)
        #expect(s.conversation("a")?.lastReset == .restart)
        #expect(s.conversation("a")?.lastResetSeq == r)
        // System events after a restart (action_listen) do not reopen it.
        put(s, #"{"sender_id": "a", "event": "action", "name": "action_listen"}"#)
        #expect(s.conversation("a")?.isEnded == true)
        put(s, userMsg("a", "back again"))
        #expect(s.conversation("a")?.isEnded == false)
        #expect(s.conversation("a")?.lastReset == nil)
        #expect(s.conversation("a")?.lastResetSeq == r)  // the reset is still remembered by seq

        let e = put(s, eventMsg("a", "session_ended"))
        #expect(s.conversation("a")?.isEnded == true)
        #expect(s.conversation("a")?.lastReset == .sessionEnded)
        #expect(s.conversation("a")?.lastResetSeq == e)
        put(s, userMsg("a"))
        #expect(s.conversation("a")?.isEnded == false)

        // Other conversations are untouched.
        put(s, userMsg("b"))
        put(s, eventMsg("a", "restart"))
        #expect(s.conversation("b")?.isEnded == false)
        #expect(s.conversation("a")?.isEnded == true)
    }

    @Test func sessionStartedIsAResetButNotAnEnd() {
        let s = ConversationStore()
        put(s, eventMsg("a", "restart"))
        #expect(s.conversation("a")?.isEnded == true)
        put(s, eventMsg("a", "session_started"))
        #expect(s.conversation("a")?.lastReset == .sessionStarted)
        #expect(s.conversation("a")?.isEnded == false)
    }

    // MARK: capacity

    @Test func capEvictsTheOldestGlobally() {
        let s = ConversationStore(capacity: 5, lowConfidenceThreshold: 0.5)
        // seq: 0 a user(low) 1 b user 2 a bot 3 a action 4 b bot 5 a user 6 b slot 7 a bot
        put(s, userMsg("a", "m0", confidence: 0.1))
        put(s, userMsg("b", "m1"))
        put(s, botMsg("a", "m2"))
        put(s, eventMsg("a", "action"))
        put(s, botMsg("b", "m4"))
        #expect(s.count == 5)
        #expect(s.evicted == 0)
        #expect(s.conversation("a")?.lowConfidence == 1)
        put(s, userMsg("a", "m5"))
        put(s, eventMsg("b", "slot"))
        put(s, botMsg("a", "m7"))

        #expect(s.count == 5)
        #expect(s.evicted == 3)
        #expect(s.totalIngested == 8)
        #expect(s.oldestSeq == 3)
        #expect(s.nextSeq == 8)

        let a = s.conversation("a")
        #expect(a?.evicted == 2)  // seqs 0 and 2
        #expect(a?.total == 5)
        #expect(a?.count == 3)
        #expect(a.map { Array($0.held) } == [3, 5, 7])
        #expect(a?.countsByType == ["action": 1, "user": 1, "bot": 1])
        #expect(a?.lowConfidence == 0)  // the low one was evicted

        let b = s.conversation("b")
        #expect(b?.evicted == 1)  // seq 1
        #expect(b?.total == 3)
        #expect(b.map { Array($0.held) } == [4, 6])
        #expect(b?.countsByType == ["bot": 1, "slot": 1])
        #expect(b?.countsByType["user"] == nil)  // a count that falls to zero goes away

        #expect(s.countsByType == ["action": 1, "bot": 2, "user": 1, "slot": 1])

        for seq in 0 ..< 3 { #expect(s.event(seq) == nil, "seq \(seq) was evicted") }
        #expect(s.event(-1) == nil)
        #expect(s.event(8) == nil)
        #expect(rawString(s.event(3)) == eventMsg("a", "action"))
        #expect(rawString(s.event(4)) == botMsg("b", "m4"))
        #expect(rawString(s.event(5)) == userMsg("a", "m5"))
        #expect(rawString(s.event(6)) == eventMsg("b", "slot"))
        #expect(rawString(s.event(7)) == botMsg("a", "m7"))
        #expect(s.event(7)?.seq == 7)
    }

    @Test func evictingUndecodableMessagesUpdatesTheirCounts() {
        let s = ConversationStore(capacity: 2)
        putBytes(s, Array("garbage".utf8))
        put(s, userMsg("a"))
        #expect(s.conversation("")?.undecodable == 1)
        put(s, userMsg("a"))
        #expect(s.conversation("")?.undecodable == 0)
        #expect(s.conversation("")?.count == 0)
        #expect(s.conversation("")?.evicted == 1)
        #expect(s.conversation("")?.countsByType == [:])
        #expect(s.countsByType == ["user": 2])
        // The global counter counts everything ever seen undecodable.
        #expect(s.undecodable == 1)
    }

    @Test(arguments: [(1, 0), (1, 3), (7, 1), (7, 7), (100, 250)])
    func capWithCapacityNPlusK(_ c: (n: Int, k: Int)) {
        let s = ConversationStore(capacity: c.n)
        for i in 0 ..< c.n + c.k { put(s, userMsg("s\(i % 3)", "m\(i)")) }
        #expect(s.count == c.n)
        #expect(s.evicted == c.k)
        #expect(s.oldestSeq == c.k)
        #expect(s.conversations.map(\.evicted).reduce(0, +) == c.k)
        #expect(s.conversations.map(\.count).reduce(0, +) == c.n)
        #expect(s.countsByType == ["user": c.n])
        for seq in 0 ..< c.k { #expect(s.event(seq) == nil) }
        for seq in c.k ..< c.n + c.k { #expect(rawString(s.event(seq)) == userMsg("s\(seq % 3)", "m\(seq)")) }
    }

    @Test func longRunStaysBoundedAndCompactionKeepsLookupsRight() {
        let capacity = 1_000
        let total = 50_000
        let s = ConversationStore(capacity: capacity)
        // One busy sender (so its own seqs compact) and a few quieter ones.
        func sender(_ i: Int) -> String { i % 5 == 0 ? "quiet\(i % 3)" : "busy" }
        func text(_ i: Int) -> String { "message \(i)" }
        for i in 0 ..< total {
            let seq = put(s, i % 2 == 0 ? userMsg(sender(i), text(i)) : botMsg(sender(i), text(i)))
            #expect(seq == i)
            if i % 4_999 == 0 || i == total - 1 {
                // Spot checks while running, across the compaction points.
                #expect(s.count == min(i + 1, capacity))
                #expect(s.oldestSeq == max(0, i + 1 - capacity))
                let newest = s.event(i)
                #expect(newest?.withView { $0.text } == text(i))
                let oldest = s.event(s.oldestSeq)
                #expect(oldest?.withView { $0.text } == text(s.oldestSeq))
                if s.oldestSeq > 0 { #expect(s.event(s.oldestSeq - 1) == nil) }
            }
        }
        #expect(s.count == capacity)
        #expect(s.evicted == total - capacity)
        #expect(s.totalIngested == total)
        #expect(s.oldestSeq == total - capacity)

        var heldTotal = 0
        for c in s.conversations {
            let held = Array(c.held)
            heldTotal += held.count
            #expect(held.count == c.count)
            #expect(c.evicted + c.count == c.total)
            // Exactly the still-held seqs of this sender, in order.
            let expected = (total - capacity ..< total).filter { sender($0) == c.senderID }
            #expect(held == expected, "\(c.senderID)")
            for seq in held {
                let e = s.event(seq)
                #expect(e?.conversation == c.index)
                #expect(e?.seq == seq)
            }
            let userCount = expected.filter { $0 % 2 == 0 }.count
            #expect(c.countsByType["user", default: 0] == userCount)
            #expect(c.countsByType["bot", default: 0] == expected.count - userCount)
        }
        #expect(heldTotal == capacity)
        #expect(s.countsByType == ["user": capacity / 2, "bot": capacity / 2])
        for seq in stride(from: total - capacity, to: total, by: 37) {
            #expect(rawString(s.event(seq)) == (seq % 2 == 0 ? userMsg(sender(seq), text(seq)) : botMsg(sender(seq), text(seq))))
        }
        #expect(s.event(total - capacity - 1) == nil)
        #expect(s.event(0) == nil)
    }

    /// Adding an event must append to the conversation's `seqs` in place. Copying them on
    /// every add (reading the Conversation out of the array, mutating the copy, writing it
    /// back) makes ingest quadratic for a single busy sender, or for the "" conversation of
    /// sender-less events: measured in release, 80k/160k/320k events to one sender took
    /// 0.7/3.0/11.0 s against 0.1/0.2/0.4 s spread over 1000 senders. An in-place append
    /// moves the storage only when it grows (a few dozen times); a copy moves it every time.
    @Test func addingDoesNotCopyTheConversationsSeqs() {
        let s = ConversationStore()
        func storage() -> UnsafeRawPointer? {
            s.conversation("one")?.seqs.withUnsafeBufferPointer { $0.baseAddress.map(UnsafeRawPointer.init) }
        }
        put(s, botMsg("one", "first"))
        var last = storage()
        var moves = 0
        let adds = 2_000
        for i in 0 ..< adds {
            put(s, botMsg("one", "m\(i)"))
            let now = storage()
            if now != last { moves += 1 }
            last = now
        }
        #expect(s.conversation("one")?.count == adds + 1)
        #expect(moves < 64, "the seqs storage moved on \(moves) of \(adds) adds")
    }

    // MARK: StoredEvent

    @Test func withViewDecodesAgain() {
        let s = ConversationStore()
        put(s, #"{"sender_id": "a", "event": "user", "timestamp": 12.5, "text": "Gr\u00fc\u00dfe", "parse_data": {"intent": {"name": "greet", "confidence": 0.25}, "entities": [{"entity": "city", "value": "Rome"}]}}"#)
        putBytes(s, Array("nope".utf8))
        let e = s.event(0)
        #expect(e?.withView { $0.text } == "Grüße")
        #expect(e?.withView { $0.intentName } == "greet")
        #expect(e?.withView { $0.intentConfidence } == 0.25)
        #expect(e?.withView { $0.entities.map(\.value) } == ["Rome"])
        #expect(e?.withView { $0.senderID } == "a")
        #expect(e?.withView { $0.kind } == .user)
        #expect(e?.timestamp == 12.5)
        #expect(e?.lowConfidence == true)
        // Undecodable: no view at all.
        let bad = s.event(1)
        #expect(bad != nil)
        let called = bad?.withView { _ in true }
        #expect(called == nil)
    }
}
