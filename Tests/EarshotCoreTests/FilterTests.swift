import Testing
@testable import EarshotCore

/// Whether `filter` lets the (decodable) event `json` through.
private func passes(_ filter: EventFilter, _ json: String) -> Bool {
    view(json) { filter.matches($0) } ?? false
}

private let userHello = #"{"sender_id": "user-1", "event": "user", "timestamp": 100, "text": "Say Hello to Berlin", "parse_data": {"intent": {"name": "greet_friend", "confidence": 0.9}, "entities": [{"entity": "city", "value": "Hamburg"}]}}"#
private let botReply = #"{"sender_id": "user-2", "event": "bot", "timestamp": 101, "text": "Hi there"}"#
private let actionEv = #"{"sender_id": "user-1", "event": "action", "timestamp": 102, "name": "utter_Greet", "policy": "RulePolicy"}"#
private let slotEv = #"{"sender_id": "user-1", "event": "slot", "timestamp": 103, "name": "Destination_City", "value": "Zanzibar"}"#
private let loopEv = #"{"sender_id": "user-1", "event": "active_loop", "timestamp": 104, "name": "booking_form"}"#
private let legacyLoopEv = #"{"sender_id": "user-1", "event": "form", "timestamp": 105, "name": "old_form"}"#
private let customEv = #"{"sender_id": "user-1", "event": "my_event", "timestamp": 106}"#
private let otherCustomEv = #"{"sender_id": "user-1", "event": "other_event", "timestamp": 107}"#
private let noTimestamp = #"{"sender_id": "user-1", "event": "user", "text": "timeless"}"#
private let noSender = #"{"event": "user", "timestamp": 100, "text": "anonymous"}"#

private func withSender(_ sender: String) -> String {
    #"{"sender_id": "\#(sender)", "event": "user", "text": "x"}"#
}

@Suite struct FilterTests {
    @Test func emptyFilterPassesEverything() {
        let f = EventFilter()
        #expect(f.isEmpty)
        for j in [userHello, botReply, actionEv, slotEv, loopEv, legacyLoopEv, customEv, noTimestamp, noSender] {
            #expect(passes(f, j), "\(j)")
        }
    }

    // MARK: types

    @Test func includeTypes() {
        let f = EventFilter(includeTypes: ["user", "slot"])
        #expect(!f.isEmpty)
        #expect(passes(f, userHello))
        #expect(passes(f, slotEv))
        #expect(!passes(f, botReply))
        #expect(!passes(f, actionEv))
        #expect(!passes(f, customEv))
        #expect(!passes(f, loopEv))
    }

    @Test func excludeTypes() {
        let f = EventFilter(excludeTypes: ["action", "slot"])
        #expect(passes(f, userHello))
        #expect(passes(f, botReply))
        #expect(!passes(f, actionEv))
        #expect(!passes(f, slotEv))
        #expect(passes(f, customEv))
    }

    @Test func legacyNamesAreCanonical() {
        #expect(EventFilter.canonical("form") == "active_loop")
        #expect(EventFilter.canonical("form_validation") == "loop_interrupted")
        #expect(EventFilter.canonical("user") == "user")
        #expect(EventFilter.canonical("my_event") == "my_event")

        let inc = EventFilter(includeTypes: ["form"])
        #expect(inc.includeTypes == ["active_loop"])
        #expect(passes(inc, loopEv))
        #expect(passes(inc, legacyLoopEv))
        #expect(!passes(inc, userHello))

        let exc = EventFilter(excludeTypes: ["form"])
        #expect(exc.excludeTypes == ["active_loop"])
        #expect(!passes(exc, loopEv))
        #expect(!passes(exc, legacyLoopEv))
        #expect(passes(exc, userHello))

        // The current name also catches events written with the legacy one.
        #expect(passes(EventFilter(includeTypes: ["active_loop"]), legacyLoopEv))
    }

    @Test func unknownCustomTypeNames() {
        let inc = EventFilter(includeTypes: ["my_event"])
        #expect(passes(inc, customEv))
        #expect(!passes(inc, otherCustomEv))
        #expect(!passes(inc, userHello))
        #expect(!passes(inc, botReply))

        let exc = EventFilter(excludeTypes: ["my_event"])
        #expect(!passes(exc, customEv))
        #expect(passes(exc, otherCustomEv))
        #expect(passes(exc, userHello))

        let mixed = EventFilter(includeTypes: ["my_event", "bot"])
        #expect(passes(mixed, customEv))
        #expect(passes(mixed, botReply))
        #expect(!passes(mixed, userHello))
        #expect(!passes(mixed, otherCustomEv))
    }

    @Test func includeAndExcludeAtOnce() {
        let f = EventFilter(includeTypes: ["user", "bot", "my_event"], excludeTypes: ["bot", "my_event"])
        #expect(passes(f, userHello))
        #expect(!passes(f, botReply))
        #expect(!passes(f, customEv))
        #expect(!passes(f, actionEv))
        #expect(f.matchesType("user"))
        #expect(!f.matchesType("bot"))
        #expect(!f.matchesType("action"))
    }

    @Test func mutatingTypesAfterInitUpdatesTheMask() {
        var f = EventFilter()
        f.includeTypes = ["bot"]
        #expect(!passes(f, userHello))
        #expect(passes(f, botReply))
        f.includeTypes.insert("user")  // the TUI toggles a type on
        #expect(passes(f, userHello))
        #expect(passes(f, botReply))
        f.includeTypes.remove("bot")  // ... and off
        #expect(passes(f, userHello))
        #expect(!passes(f, botReply))
        f.includeTypes = []
        #expect(passes(f, botReply))
        #expect(passes(f, actionEv))

        f.excludeTypes.insert("action")
        #expect(!passes(f, actionEv))
        #expect(passes(f, userHello))
        f.excludeTypes.remove("action")
        #expect(passes(f, actionEv))
        #expect(f.isEmpty)

        // A filter built by init and then changed behaves like one built with the result.
        var g = EventFilter(includeTypes: ["user"])
        g.includeTypes.insert("slot")
        #expect(g == EventFilter(includeTypes: ["user", "slot"]))
        #expect(passes(g, slotEv))
    }

    @Test func mutatingTypesWithALegacyName() {
        // `includeTypes` documents that legacy names are accepted; setting it after init must
        // not behave differently from passing the same set to init.
        var f = EventFilter()
        f.includeTypes = ["form"]
        #expect(passes(f, loopEv))
        #expect(passes(f, legacyLoopEv))
        var g = EventFilter()
        g.excludeTypes = ["form"]
        #expect(!passes(g, loopEv))
    }

    @Test func matchesTypeByName() {
        let f = EventFilter(includeTypes: ["user", "my_event"], excludeTypes: ["my_event"])
        #expect(f.matchesType("user"))
        #expect(!f.matchesType("my_event"))
        #expect(!f.matchesType("bot"))
        #expect(EventFilter().matchesType("anything"))
    }

    // MARK: sender glob

    static let globCases: [(String, String, Bool)] = [
        ("*", "anyone", true),
        ("user-*", "user-1", true),
        ("user-*", "admin-1", false),
        ("user-?", "user-1", true),
        ("user-?", "user-12", false),
        ("[a-c]*", "bob", true),
        ("[a-c]*", "dave", false),
        ("[!x]*", "abc", true),
        ("[!x]*", "xyz", false),
        ("[^x]*", "xyz", false),
        (#"a\*b"#, "a*b", true),
        (#"a\*b"#, "axb", false),
        (#"a\?"#, "a?", true),
        (#"a\?"#, "ab", false),
        (#"\[x]"#, "[x]", true),
        ("用户*", "用户42", true),
        ("用户*", "用戶42", false),
        ("?好", "你好", true),
        ("*好", "你好", true),
        ("[你我]好", "我好", true),
        ("[你我]好", "他好", false),
        ("5f1c", "5f1c", true),
        ("5f1c", "5f1d", false),
    ]

    @Test(arguments: globCases)
    func senderGlob(_ c: (String, String, Bool)) {
        let f = EventFilter(senderGlob: c.0)
        #expect(passes(f, withSender(c.1)) == c.2, "\(c.0) vs \(c.1)")
    }

    @Test func senderGlobNeedsASender() {
        #expect(!passes(EventFilter(senderGlob: "*"), noSender))
        #expect(passes(EventFilter(), noSender))
    }

    // MARK: search

    @Test func searchIsCaseInsensitiveInText() {
        #expect(passes(EventFilter(search: "hello"), userHello))
        #expect(passes(EventFilter(search: "HELLO"), userHello))
        #expect(passes(EventFilter(search: "say hello to"), userHello))
        #expect(!passes(EventFilter(search: "goodbye"), userHello))
        #expect(passes(EventFilter(search: "THERE"), botReply))
    }

    @Test func searchLooksAtIntentActionAndSlotNames() {
        #expect(passes(EventFilter(search: "GREET_FRIEND"), userHello))
        #expect(passes(EventFilter(search: "friend"), userHello))
        #expect(passes(EventFilter(search: "utter_greet"), actionEv))
        #expect(!passes(EventFilter(search: "RulePolicy"), actionEv))  // policy is not searched
        #expect(passes(EventFilter(search: "destination"), slotEv))
        #expect(passes(EventFilter(search: "CITY"), slotEv))
        #expect(!passes(EventFilter(search: "zanzibar"), slotEv))  // slot values are not searched
        #expect(passes(EventFilter(search: "booking"), loopEv))
        // Reminder intent given as a string.
        #expect(passes(EventFilter(search: "remind_me"), #"{"sender_id": "a", "event": "reminder", "intent": "REMIND_ME", "name": "r1"}"#))
    }

    @Test func searchDoesNotMatchEntityValues() {
        #expect(!passes(EventFilter(search: "hamburg"), userHello))
        #expect(passes(EventFilter(search: "berlin"), userHello))  // it is in the text
    }

    @Test func searchEscapedText() {
        let escaped = #"{"sender_id": "a", "event": "user", "text": "Gr\u00fc\u00dfe aus M\u00fcnchen"}"#
        #expect(passes(EventFilter(search: "ü"), escaped))
        #expect(passes(EventFilter(search: "Ü"), escaped))
        #expect(passes(EventFilter(search: "MÜNCHEN"), escaped))
        #expect(passes(EventFilter(search: "grüße"), escaped))
        #expect(!passes(EventFilter(search: "ö"), escaped))
        // The escape itself is not text.
        #expect(!passes(EventFilter(search: "u00fc"), escaped))
    }

    @Test func searchRawUnicodeText() {
        let raw = #"{"sender_id": "a", "event": "bot", "text": "ÜBER MÜNCHEN 👋"}"#
        #expect(passes(EventFilter(search: "über"), raw))
        #expect(passes(EventFilter(search: "ünch"), raw))
        #expect(passes(EventFilter(search: "👋"), raw))
        #expect(!passes(EventFilter(search: "berlin"), raw))
    }

    @Test func searchSetAfterInit() {
        var f = EventFilter()
        f.search = "THERE"
        #expect(passes(f, botReply))
        #expect(!passes(f, userHello))
        f.search = nil
        #expect(passes(f, userHello))
        f.search = ""
        #expect(passes(f, userHello))
        #expect(f.isEmpty)
    }

    @Test func searchOnEventsWithoutText() {
        #expect(!passes(EventFilter(search: "x"), #"{"sender_id": "a", "event": "restart"}"#))
        #expect(passes(EventFilter(search: ""), #"{"sender_id": "a", "event": "restart"}"#))
    }

    // MARK: since

    @Test func since() {
        let f = EventFilter(since: 101)
        #expect(!passes(f, userHello))  // 100
        #expect(passes(f, botReply))    // 101: at the bound passes
        #expect(passes(f, actionEv))    // 102
        #expect(!passes(f, noTimestamp))
        #expect(passes(EventFilter(since: nil), noTimestamp))
        #expect(passes(EventFilter(since: 99.5), userHello))
        let iso = #"{"sender_id": "m", "event": "user", "timestamp": "2025-04-19T06:33:14Z", "text": "x"}"#
        #expect(passes(EventFilter(since: 1745044394), iso))
        #expect(!passes(EventFilter(since: 1745044394.5), iso))
    }

    @Test func filtersCombine() {
        let f = EventFilter(includeTypes: ["user"], senderGlob: "user-*", search: "berlin", since: 50)
        #expect(passes(f, userHello))
        #expect(!passes(EventFilter(includeTypes: ["user"], senderGlob: "user-2", search: "berlin"), userHello))
        #expect(!passes(EventFilter(includeTypes: ["bot"], search: "berlin"), userHello))
        #expect(!passes(EventFilter(search: "berlin", since: 200), userHello))
    }

    // MARK: undecodable

    @Test func searchMatchesIgnoresTheOtherFilters() {
        let f = EventFilter(includeTypes: ["bot"], search: "hello")
        view(#"{"event": "user", "text": "Hello there"}"#) { v in
            #expect(!f.matches(v))       // a user event: the type filter says no
            #expect(f.searchMatches(v))  // but the text is there
        }
        view(#"{"event": "user", "text": "bye"}"#) { v in #expect(!f.searchMatches(v)) }
        view(#"{"event": "user", "text": "x"}"#) { v in #expect(!EventFilter().searchMatches(v)) }
    }

    // MARK: globMatch

    static let globEdges: [(String, String, Bool)] = [
        ("", "", true),
        ("", "a", false),
        ("a", "", false),
        ("*", "", true),
        ("*", "anything at all", true),
        ("**", "x", true),
        ("abc*", "abc", true),
        ("abc*", "abcdef", true),
        ("abc*", "ab", false),
        ("*abc", "xxabc", true),
        ("*abc", "abcx", false),
        ("a*b*c", "axxbyyc", true),
        ("a*b*c", "axxbyy", false),
        ("a*a*a", "aaa", true),
        ("*ab", "aab", true),
        ("?", "", false),
        ("?", "x", true),
        ("??", "x", false),
        ("[abc", "[abc", true),   // unclosed: literal
        ("[abc", "a", false),
        ("[", "[", true),
        ("a[", "a[", true),
        ("*[", "xx[", true),
        ("[]]", "]", true),       // ']' first in a class is a member
        ("[a-]", "-", true),
        ("[a-c]", "d", false),
        ("[a-c]", "b", true),
        ("[!a-c]", "d", true),
        ("[!a-c]", "b", false),
        (#"\"#, #"\"#, true),     // a trailing backslash is literal
        (#"\\"#, #"\"#, true),
        (#"\*"#, "x", false),
    ]

    @Test(arguments: globEdges)
    func globMatchEdgeCases(_ c: (String, String, Bool)) {
        #expect(globMatch(c.0, c.1) == c.2, "globMatch(\(c.0), \(c.1))")
    }
}
