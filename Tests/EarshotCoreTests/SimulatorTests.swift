import Foundation
import Testing

@testable import EarshotCore

@Suite struct SimulatorTests {
    static let start = 1_745_044_394.1430557

    static func events(seed: UInt64, count: Int, conversations: Int = 4) -> [SimulatedEvent] {
        var sim = RasaSimulator(seed: seed, concurrentConversations: conversations, startTime: start)
        var t = start
        var out: [SimulatedEvent] = []
        out.reserveCapacity(count)
        for _ in 0..<count {
            t += sim.nextDelay()
            out.append(sim.next(at: t))
        }
        return out
    }

    @Test func deterministicForASeed() {
        let a = Self.events(seed: 42, count: 3000)
        let b = Self.events(seed: 42, count: 3000)
        #expect(a.count == b.count)
        #expect(zip(a, b).allSatisfy { $0.json == $1.json && $0.senderID == $1.senderID && $0.timestamp == $1.timestamp })
        let c = Self.events(seed: 43, count: 3000)
        #expect(!zip(a, c).allSatisfy { $0.json == $1.json })

        // Calling nextDelay or not does not change the events.
        var sim = RasaSimulator(seed: 42, concurrentConversations: 4, startTime: Self.start)
        var same = true
        for e in a.prefix(500) {
            same = same && sim.next(at: e.timestamp).json == e.json
        }
        #expect(same)
    }

    @Test func shapeOfTheStream() {
        let evs = Self.events(seed: 7, count: 20000)
        var bytes = 0
        var nonASCII = 0
        var switches = 0
        var senders = Set<String>()
        var lastTS: [String: Double] = [:]
        var backwards = 0
        for (i, e) in evs.enumerated() {
            bytes += e.json.count
            nonASCII += e.json.filter { $0 >= 0x80 || $0 == 0x0A }.count
            senders.insert(e.senderID)
            if i > 0 && evs[i - 1].senderID != e.senderID { switches += 1 }
            if let l = lastTS[e.senderID], !(e.timestamp > l) { backwards += 1 }
            lastTS[e.senderID] = e.timestamp
            var prefix = Array(#"{"sender_id": "#.utf8)
            PythonJSON.appendString(e.senderID, to: &prefix)
            prefix += Array(#", "event": "#.utf8)
            #expect(e.json.starts(with: prefix))
            var ts = Array(#""timestamp": "#.utf8)
            PythonJSON.appendDouble(e.timestamp, to: &ts)
            #expect(String(decoding: e.json, as: UTF8.self).contains(String(decoding: ts, as: UTF8.self)))
        }
        let average = Double(bytes) / Double(evs.count)
        #expect(average > 200 && average < 450, "average \(average)")
        #expect(nonASCII == 0)
        #expect(backwards == 0)
        #expect(senders.count > 20)  // conversations end and new ones start
        #expect(switches > 500)  // interleaved
        let text = evs.map { String(decoding: $0.json, as: UTF8.self) }
        #expect(text.contains { $0.contains(#"\u00fc"#) })  // ü
        #expect(text.contains { $0.contains(#"\ud83d\udc4b"#) })  // 👋
        #expect(text.contains { $0.contains(#""sender_id": "+"#) })
        #expect(text.contains { $0.contains(#""sender_id": "U0"#) })
        let users = text.filter { $0.contains(#""event": "user", "#) }.count
        let perTurn = Double(evs.count) / Double(users)
        #expect(perTurn > 5 && perTurn < 10, "events per user message \(perTurn)")
    }

    @Test func delaysAreHumanPaced() {
        var sim = RasaSimulator(seed: 1, startTime: Self.start)
        var short = 0, long = 0
        for _ in 0..<2000 {
            let d = sim.nextDelay()
            #expect(d > 0 && d < 10)
            if d < 0.5 { short += 1 } else if d > 1 { long += 1 }
            _ = sim.next(at: Self.start)
        }
        #expect(short > 500 && long > 100)
    }

    /// Every message through real python: json.loads accepts it, json.dumps gives the same
    /// bytes back, and the fields follow Rasa's as_dict order.
    @Test func pythonAgrees() throws {
        let evs = Self.events(seed: 2024, count: 4000, conversations: 6)
        var input: [UInt8] = []
        for e in evs { input += e.json; input.append(0x0A) }
        let file = try SimPython.tempFile(input, name: "sim")
        defer { try? FileManager.default.removeItem(at: file) }
        let script = #"""
            import json, sys, re
            HEX = re.compile(r'^[0-9a-f]{32}$')
            bad = []
            types = set()
            low = buttons = quick = nonascii = astral = 0
            n = 0
            first = {}
            EXPECT = {
              'user': ['sender_id','event','timestamp','metadata','text','parse_data','input_channel','message_id'],
              'bot': ['sender_id','event','timestamp','metadata','text','data'],
              'action': ['sender_id','event','timestamp','metadata','name','policy','confidence','action_text','hide_rule_turn'],
              'slot': ['sender_id','event','timestamp','metadata','name','value'],
              'active_loop': ['sender_id','event','timestamp','metadata','name'],
              'user_featurization': ['sender_id','event','timestamp','metadata','use_text_for_featurization'],
              'session_started': ['sender_id','event','timestamp','metadata'],
              'restart': ['sender_id','event','timestamp','metadata'],
            }
            for line in open(sys.argv[1], encoding='ascii'):
                line = line.rstrip('\n')
                n += 1
                o = json.loads(line)
                if json.dumps(o) != line: bad.append('roundtrip %d' % n)
                t = o['event']; types.add(t)
                keys = list(o)
                if keys[0] != 'sender_id': bad.append('first key %d' % n)
                if t in EXPECT and keys != EXPECT[t]: bad.append('keys %s %r' % (t, keys))
                md = o.get('metadata', {})
                if md.get('model_id') != 'b0a564ff3f0d4c509a716399d8a608fe' or 'assistant_id' not in md: bad.append('metadata %d' % n)
                if not isinstance(o['timestamp'], float): bad.append('timestamp %d' % n)
                s = o['sender_id']
                if s not in first:
                    first[s] = (t, o.get('name'))
                if t == 'user':
                    pd = o['parse_data']
                    if list(pd) != ['intent','entities','text','message_id','metadata','intent_ranking']: bad.append('parse_data %r' % list(pd))
                    if not HEX.match(o['message_id']) or pd['message_id'] != o['message_id']: bad.append('message_id %d' % n)
                    if pd['text'] != o['text'] or list(pd['intent']) != ['name','confidence']: bad.append('intent %d' % n)
                    if pd['intent_ranking'][0] != pd['intent']: bad.append('ranking %d' % n)
                    if pd['intent']['confidence'] < 0.4: low += 1
                    confs = [r['confidence'] for r in pd['intent_ranking']]
                    if confs != sorted(confs, reverse=True) or sum(confs) > 1.3: bad.append('ranking order %d %r' % (n, confs))
                    for e in pd['entities']:
                        if o['text'][e['start']:e['end']] != e.get('text', e['value']) and not o['text'].startswith('/'):
                            bad.append('entity span %d %r' % (n, e))
                    if any(ord(c) > 127 for c in o['text']): nonascii += 1
                    if any(ord(c) > 0xffff for c in o['text']): astral += 1
                if t == 'bot':
                    if list(o['data']) != ['elements','quick_replies','buttons','attachment','image','custom']: bad.append('data %d' % n)
                    b = o['data']['buttons']
                    if b:
                        buttons += 1
                        if not all(list(x) == ['title','payload'] for x in b): bad.append('buttons %d' % n)
                    if o['data']['quick_replies']: quick += 1
            for s, (t, name) in first.items():
                if (t, name) != ('action', 'action_session_start'): bad.append('first event of %s: %s %s' % (s, t, name))
            print('LINES', n)
            print('TYPES', ','.join(sorted(types)))
            print('LOW', low); print('BUTTONS', buttons); print('QUICK', quick)
            print('NONASCII', nonascii); print('ASTRAL', astral); print('SENDERS', len(first))
            for b in bad[:20]: print('BAD', b)
            print('BADCOUNT', len(bad))
            """#
        let (status, stdout) = try SimPython.run(script, args: [file.path])
        #expect(status == 0)
        var report: [String: String] = [:]
        for line in stdout.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
            if parts[0] == "BAD" { Issue.record("python: \(line)") }
            if parts.count == 2 { report[parts[0]] = parts[1] }
        }
        #expect(report["LINES"] == "4000")
        #expect(report["BADCOUNT"] == "0")
        let types = Set((report["TYPES"] ?? "").split(separator: ",").map(String.init))
        for t in ["user", "bot", "action", "slot", "session_started", "active_loop", "restart", "user_featurization"] {
            #expect(types.contains(t), "type \(t) never seen")
        }
        #expect(Int(report["LOW"] ?? "") ?? 0 > 0)
        #expect(Int(report["BUTTONS"] ?? "") ?? 0 > 0)
        #expect(Int(report["QUICK"] ?? "") ?? 0 > 0)
        #expect(Int(report["NONASCII"] ?? "") ?? 0 > 0)
        #expect(Int(report["ASTRAL"] ?? "") ?? 0 > 0)
    }
}
