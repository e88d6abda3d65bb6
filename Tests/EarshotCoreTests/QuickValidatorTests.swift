@testable import EarshotCore
import Testing

/// The one-loop validator behind `validate`: it may only ever say "sound" when the full
/// scanner would, and its word-at-a-time tricks must find exactly the first byte they look for.
@Suite struct QuickValidatorTests {
    func quick(_ s: String) -> Bool { quick(Array(s.utf8)) }
    func quick(_ b: [UInt8]) -> Bool {
        b.withUnsafeBufferPointer { p in p.isEmpty ? false : QuickValidator.isSoundFlatEvent(p.baseAddress!, count: p.count) }
    }

    @Test func acceptsWhatRasaWrites() {
        var sim = RasaSimulator(seed: 3, concurrentConversations: 6, startTime: 1_745_044_394)
        var n = 0, t = 1_745_044_394.0
        for _ in 0 ..< 2000 {
            t += sim.nextDelay()
            let e = sim.next(at: t)
            #expect(quick(e.json), "\(String(decoding: e.json, as: UTF8.self))")
            n += 1
        }
        #expect(n == 2000)
        #expect(quick(realUser))
        #expect(quick(realBot))
        #expect(quick(#"{"event":"bot","text":"caf\u00e9 \ud83d\ude00 \"q\" \\ \/ \b\f\n\r\t","x":[true,false,null,-0,1e5,2.5E-3,[],{}]}"#))
        #expect(quick("{\"event\": \"bot\", \"text\": \"Zürich 東京 😀\"}"))
        #expect(quick(" \t\r\n{ \"event\" : \"x\" } \n"))
    }

    /// Sound or not, these go to the full scanner: it words the reason, or knows the shape.
    @Test func leavesTheUnusualToTheFullScanner() {
        for s in [
            Mantle.user,                                        // no "event": maybe Mantle
            #"{"event": "bot", "text": "\x"}"#,                 // lenient escape, scoped to a field
            #"{"event": 3}"#, #"{"event": null}"#, #"{"event": {"a": 1}}"#,
            #"{"event": "a", "event": 3}"#,                     // the last one counts
            #"{"\u0065vent": "bot"}"#,                          // escaped keys never match
            #"{"x": {"event": "bot"}}"#,                        // only the top level counts
            #"{"event": "bot"} x"#, #"{"event": "bot"}}"#, #"{"event": "bot",}"#,
            #"{"event": "bot", "n": 01}"#, #"{"event": "bot", "n": 1.}"#, #"{"event": "bot", "n": -}"#,
            #"{"event": "bot", "n": 1e}"#, #"{"event": "bot", "n": tru}"#, #"{"event": "bot", "n": nul}"#,
            #"{"event": "bot", "t": "\u12"}"#, #"{"event": "bot", "a": [1, 2}"#, #"{"event": "bot", "a": {1: 2}}"#,
            #"{"event": "bot""#, "{\"event\": \"b\u{01}ot\"}", "[1]", "\"x\"", "",
            #"{"event": "bot", "x": "# + String(repeating: "[", count: 70) + String(repeating: "]", count: 70) + "}",
        ] {
            #expect(!quick(s), "\(s)")
        }
        #expect(!quick(Array(#"{"event": "b"#.utf8) + [0xC3] + Array(#"", "x": 1}"#.utf8)))
        #expect(!quick(Array(#"{"event": "b"#.utf8) + [0xED, 0xA0, 0x80] + Array(#""}"#.utf8)))
        // Nesting up to 64 is still its business.
        #expect(quick(#"{"event": "bot", "x": "# + String(repeating: "[", count: 63) + String(repeating: "]", count: 63) + "}"))
    }

    /// Whatever the bytes: "sound" here means decode succeeds.
    @Test func neverAcceptsWhatDecodeRefuses() {
        var rng = SplitMix(seed: 23)
        let alphabet = Array(#"{}[]:,"\ue.-+0123456789 tfnl"#.utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xC3, 0xE2, 0xF0, 0xFF]
        var accepted = 0, refused = 0
        for seed in [realUser, realBot, #"{"event": "slot", "name": "n", "value": [1.5e3, -0.25, true, null, "\u00e9"]}"#] {
            let base = Array(seed.utf8)
            for _ in 0 ..< 3000 {
                var b = base
                for _ in 0 ..< 1 + Int(rng.next() % 3) {
                    let at = Int(rng.next() % UInt64(b.count))
                    let c = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                    switch rng.next() % 3 {
                    case 0: b[at] = c
                    case 1: b.insert(c, at: at)
                    default: b.remove(at: at)
                    }
                }
                if quick(b) {
                    accepted += 1
                    guard case .success = EventDecoder.decode(b) else {
                        Issue.record("accepted but undecodable: \(String(decoding: b, as: UTF8.self))")
                        continue
                    }
                } else if case .failure = EventDecoder.decode(b) {
                    refused += 1
                }
            }
        }
        // Both sides of the line were exercised.
        #expect(accepted > 500)
        #expect(refused > 500)
    }

    /// The type found without decoding is the one decode finds, or it leaves the message to decode.
    @Test func quickTypeAgreesWithDecode() {
        func quickType(_ s: String) -> (EventKind, String)? {
            let b = Array(s.utf8)
            return b.withUnsafeBytes { p in EventDecoder.quickType(p).map { ($0.kind, String(decoding: p[$0.name], as: UTF8.self)) } }
        }
        #expect(quickType(realBot)?.0 == .bot)
        #expect(quickType(#"{"event": "custom_thing", "x": 1}"#)?.1 == "custom_thing")
        #expect(quickType(#"{"event": "custom_thing", "x": 1}"#)?.0 == .unknown)
        #expect(quickType(#"{"event": "form", "name": "f"}"#)?.0 == .activeLoop)  // a legacy name
        #expect(quickType(#"{"event": "a", "x": {"event": "b"}, "event": "bot"}"#)?.0 == .bot)  // the last one
        #expect(quickType(#"{"event": "b\u006ft"}"#) == nil)  // an escaped name is decode's business
        #expect(quickType(Mantle.user) == nil)
        #expect(quickType(#"{"event": "bot""#) == nil)

        var rng = SplitMix(seed: 31)
        let alphabet = Array(#"{}[]:,"\ue.-0123456789 abot"#.utf8)
        var known = 0
        for seed in [realUser, realBot, #"{"sender_id": "s", "event": "custom_thing", "x": [1, {"event": 2}]}"#] {
            let base = Array(seed.utf8)
            for _ in 0 ..< 2000 {
                var b = base
                for _ in 0 ..< 1 + Int(rng.next() % 2) {
                    let at = Int(rng.next() % UInt64(b.count))
                    b[at] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                }
                let q = b.withUnsafeBytes { p in EventDecoder.quickType(p).map { ($0.kind, String(decoding: p[$0.name], as: UTF8.self)) } }
                guard let q else { continue }
                known += 1
                guard case let .success(d) = EventDecoder.decode(b) else {
                    Issue.record("typed but undecodable: \(String(decoding: b, as: UTF8.self))")
                    continue
                }
                let name = b.withUnsafeBytes { p in EventView(bytes: p, decoded: d).typeName }
                #expect(d.kind == q.0 && name == q.1, "\(String(decoding: b, as: UTF8.self))")
            }
        }
        #expect(known > 1000)
    }

    /// Each byte value at each position of a word of plain text: the lowest flag is that byte
    /// exactly when it is '"', '\\', < 0x20 or >= 0x80.
    @Test func stringSpecialsFindsTheFirstSpecialByte() {
        for v in 0 ... 255 {
            let b = UInt8(v)
            let special = b == 0x22 || b == 0x5C || b < 0x20 || b >= 0x80
            for pos in 0 ..< 8 {
                var bytes = Array("abcdefgh".utf8)
                bytes[pos] = b
                // Anything may follow the first special byte.
                for tail in [UInt8(0x61), 0x00, 0x22, 0xFF] where pos < 7 { bytes[pos + 1] = tail
                    let w = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                    let m = stringSpecials(w)
                    if special {
                        #expect(m != 0 && m.trailingZeroBitCount >> 3 == pos, "byte \(v) at \(pos)")
                    } else if tail == 0x61 {
                        #expect(m == 0 || m.trailingZeroBitCount >> 3 > pos, "byte \(v) at \(pos)")
                    }
                }
            }
        }
    }

    @Test func skipDigitsStopsAtTheFirstNonDigit() {
        var rng = SplitMix(seed: 5)
        for _ in 0 ..< 5000 {
            let n = Int(rng.next() % 24)
            var bytes = (0 ..< n).map { _ in UInt8(0x30 + rng.next() % 10) }
            // Neighbours of the digits in ASCII, and anything else.
            let stop: [UInt8] = [0x2F, 0x3A, 0x3F, 0x40, 0x20, 0x2C, 0x7D, 0x2E, 0x65, 0x00, 0xB0, 0xF9, UInt8(truncatingIfNeeded: rng.next())]
            let s = stop[Int(rng.next() % UInt64(stop.count))]
            bytes.append(s)
            bytes += (0 ..< Int(rng.next() % 10)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let expected = bytes.firstIndex { $0 < 0x30 || $0 > 0x39 } ?? bytes.count
            let got = bytes.withUnsafeBufferPointer { QuickValidator.skipDigits($0.baseAddress!, $0.count, 0) }
            #expect(got == expected, "\(bytes)")
        }
    }
}
