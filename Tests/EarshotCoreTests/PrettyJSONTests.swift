import Testing
@testable import EarshotCore

private func pretty(_ json: String, indent: Int = 2) -> String? {
    Array(json.utf8).withUnsafeBytes { PrettyJSON.string($0, indent: indent) }
}

private func prettyBytes(_ bytes: [UInt8]) -> String? {
    bytes.withUnsafeBytes { PrettyJSON.string($0) }
}

private func tokenLines(_ json: String) -> [[JSONToken]]? {
    Array(json.utf8).withUnsafeBytes { PrettyJSON.lines($0) }
}

private func tok(_ kind: JSONTokenKind, _ text: String) -> JSONToken { JSONToken(kind: kind, text: text) }

@Suite struct PrettyJSONTests {
    @Test func nestedSampleExactOutput() {
        let json = #"{"event":"user","n":-1.5e3,"ok":true,"none":null,"parse_data":{"intent":{"name":"greet","confidence":0.99},"entities":[],"meta":{}},"list":[1,[2,3],{"k":false}],"s":"x"}"#
        let expected = """
        {
          "event": "user",
          "n": -1.5e3,
          "ok": true,
          "none": null,
          "parse_data": {
            "intent": {
              "name": "greet",
              "confidence": 0.99
            },
            "entities": [],
            "meta": {}
          },
          "list": [
            1,
            [
              2,
              3
            ],
            {
              "k": false
            }
          ],
          "s": "x"
        }
        """
        #expect(pretty(json) == expected)
    }

    @Test func inputWhitespaceDoesNotMatter() {
        let spaced = "  {\n\t\"a\" :  [ ] ,\r\n \"b\": { } , \"c\" : [ 1 , 2 ]  }  \n"
        #expect(pretty(spaced) == "{\n  \"a\": [],\n  \"b\": {},\n  \"c\": [\n    1,\n    2\n  ]\n}")
    }

    @Test func emptyContainersAndScalarsAtTheTop() {
        #expect(pretty("{}") == "{}")
        #expect(pretty("[]") == "[]")
        #expect(pretty("42") == "42")
        #expect(pretty("\"x\"") == "\"x\"")
        #expect(pretty("null") == "null")
        #expect(pretty("[[],{}]") == "[\n  [],\n  {}\n]")
    }

    @Test func otherIndent() {
        #expect(pretty(#"{"a":{"b":1}}"#, indent: 4) == "{\n    \"a\": {\n        \"b\": 1\n    }\n}")
        #expect(pretty(#"{"a":[1]}"#, indent: 0) == "{\n\"a\": [\n1\n]\n}")
    }

    @Test func numbersAreKeptAsWritten() {
        #expect(pretty(#"[0.9954788088798523, 1745044394.1430557, 1E+16, -0, 1e-05]"#)
            == "[\n  0.9954788088798523,\n  1745044394.1430557,\n  1E+16,\n  -0,\n  1e-05\n]")
    }

    // MARK: strings

    @Test func stringsAreShownDecoded() {
        #expect(pretty(#"{"t": "Gr\u00fc\u00dfe"}"#) == "{\n  \"t\": \"Grüße\"\n}")
        #expect(pretty(#"{"t": "\ud83d\udc4b"}"#) == "{\n  \"t\": \"👋\"\n}")
        #expect(pretty(#"{"t": "\u4f60\u597d \/ ok"}"#) == "{\n  \"t\": \"你好 / ok\"\n}")
        #expect(pretty(#"{"t": "raw ü 👋"}"#) == "{\n  \"t\": \"raw ü 👋\"\n}")
        // Keys are decoded too.
        #expect(pretty(#"{"k\u00fc": 1}"#) == "{\n  \"kü\": 1\n}")
    }

    @Test func quotesBackslashesAndWhitespaceStayEscaped() {
        #expect(pretty(#"["a\"b", "c\\d", "line\nnext", "cr\r", "tab\t", "\b\f"]"#)
            == #"[\#n  "a\"b",\#n  "c\\d",\#n  "line\nnext",\#n  "cr\r",\#n  "tab\t",\#n  "\b\f"\#n]"#)
    }

    @Test func hostileStringsAreReEscaped() throws {
        let out = try #require(pretty(#"{"text": "\u001b[31mred\u001b[0m\u0007", "\u001bkey": 1}"#))
        #expect(out == #"{\#n  "text": "\u001b[31mred\u001b[0m\u0007",\#n  "\u001bkey": 1\#n}"#)
        #expect(!out.unicodeScalars.contains("\u{1B}"))
        #expect(!out.unicodeScalars.contains("\u{07}"))

        #expect(pretty(#"["\u202e", "\u2066x", "\u2028", "\u007f", "\u0085", "\u009b", "\ufeff"]"#)
            == #"[\#n  "\u202e",\#n  "\u2066x",\#n  "\u2028",\#n  "\u007f",\#n  "\u0085",\#n  "\u009b",\#n  "\ufeff"\#n]"#)
        // Raw (unescaped) bidi override and C1 bytes in the input: also escaped in the output.
        let raw = "[\"evil\u{202E}txt\", \"c1\u{9B}x\", \"del\u{7F}\"]"
        let rawOut = try #require(pretty(raw))
        #expect(rawOut == #"[\#n  "evil\u202etxt",\#n  "c1\u009bx",\#n  "del\u007f"\#n]"#)
        #expect(!rawOut.unicodeScalars.contains("\u{202E}"))
        #expect(rawOut.unicodeScalars.allSatisfy { !($0.value < 0x20 && $0 != "\n") && !(0x7F ... 0x9F).contains($0.value) })
    }

    @Test func brokenEscapesAreShownAsWritten() {
        #expect(pretty(#"{"t": "bad \ud83d here"}"#) == #"{\#n  "t": "bad \ud83d here"\#n}"#)
        #expect(pretty(#"{"t": "a\qb"}"#) == #"{\#n  "t": "a\qb"\#n}"#)
    }

    // MARK: invalid

    @Test(arguments: [
        "", " ", "{", "}", "{\"a\": }", "{\"a\": 1,}", "{\"a\" 1}", "[1 2]", "[1,]", "{\"a\": 1} x", "nope", "tru",
        "{\"a\": 01}", "{'a': 1}", "\"unterminated", "{\"t\": \"raw\u{01}control\"}", "{\"a\": 1}}", "[1]]",
    ])
    func invalidJSONIsNil(_ json: String) {
        #expect(pretty(json) == nil)
        #expect(tokenLines(json) == nil)
    }

    @Test func invalidUTF8IsNil() {
        #expect(prettyBytes(Array(#"{"t": "caf"#.utf8) + [0xE9, 0x22, 0x7D]) == nil)
        #expect(prettyBytes([]) == nil)
    }

    // MARK: tokens

    @Test func tokenKinds() throws {
        let lines = try #require(tokenLines(#"{"k": "v", "n": 1.5, "t": true, "z": null, "a": [false], "o": {}}"#))
        #expect(lines == [
            [tok(.punctuation, "{")],
            [tok(.space, "  "), tok(.key, "\"k\""), tok(.punctuation, ": "), tok(.string, "\"v\""), tok(.punctuation, ",")],
            [tok(.space, "  "), tok(.key, "\"n\""), tok(.punctuation, ": "), tok(.number, "1.5"), tok(.punctuation, ",")],
            [tok(.space, "  "), tok(.key, "\"t\""), tok(.punctuation, ": "), tok(.literal, "true"), tok(.punctuation, ",")],
            [tok(.space, "  "), tok(.key, "\"z\""), tok(.punctuation, ": "), tok(.literal, "null"), tok(.punctuation, ",")],
            [tok(.space, "  "), tok(.key, "\"a\""), tok(.punctuation, ": "), tok(.punctuation, "[")],
            [tok(.space, "    "), tok(.literal, "false")],
            [tok(.space, "  "), tok(.punctuation, "]"), tok(.punctuation, ",")],
            [tok(.space, "  "), tok(.key, "\"o\""), tok(.punctuation, ": "), tok(.punctuation, "{"), tok(.punctuation, "}")],
            [tok(.punctuation, "}")],
        ])
    }

    @Test func linesJoinToString() throws {
        let json = realUser
        let lines = try #require(tokenLines(json))
        let joined = lines.map { $0.map(\.text).joined() }.joined(separator: "\n")
        #expect(joined == pretty(json))
        #expect(lines.count == joined.split(separator: "\n", omittingEmptySubsequences: false).count)
        // Every key of the sample is a key token, every value string a string token.
        let keys = lines.flatMap { $0.filter { $0.kind == .key }.map(\.text) }
        #expect(keys.contains("\"sender_id\""))
        #expect(keys.contains("\"intent_ranking\""))
        let strings = lines.flatMap { $0.filter { $0.kind == .string }.map(\.text) }
        #expect(strings.contains("\"5f1c\""))
        #expect(!strings.contains("\"sender_id\""))
        let numbers = lines.flatMap { $0.filter { $0.kind == .number }.map(\.text) }
        #expect(numbers == ["1745044394.1430557", "0.9954788088798523", "0.9954788088798523"])
    }
}

/// compact's plain fast path (printable ASCII, no escapes) must give what the tokenizer gives.
@Test func compactFastPathAgreesWithTheTokenizer() {
    var rng = SplitMix(seed: 17)
    let pieces = [#"{"a": 1, "b": [true, false, null], "c": {"d": "e f"}}"#, #"[1.5e3, -0.25, "x y", [], {}]"#,
                  #""plain string""#, "42", #"{"name": "Trattoria", "stars": 4, "tags": ["a", "b"]}"#,
                  #"{"q": "a \"quoted\" word"}"#, #"["caf\u00e9"]"#, "[1,2", #"{"a" 1}"#, "tru", #"["\t"]"#]
    var plain = 0
    for _ in 0 ..< 2000 {
        var s = pieces[Int(rng.next() % UInt64(pieces.count))]
        if rng.next() % 2 == 0 { s = "[" + s + ", " + pieces[Int(rng.next() % UInt64(pieces.count))] + "]" }
        if rng.next() % 5 == 0 { s = "  " + s + " \n" }
        let bytes = Array(s.utf8)
        let fast = bytes.withUnsafeBytes { PrettyJSON.compact($0) }
        let slow = bytes.withUnsafeBytes { PrettyJSON.compactViaTokens($0) }
        #expect(fast == slow, "\(s)")
        if bytes.withUnsafeBytes({ isPrintableASCII($0) && !$0.contains(0x5C) && PrettyJSON.isValid($0) }) { plain += 1 }
    }
    #expect(plain > 300)
}
