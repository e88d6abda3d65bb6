import Foundation
import Testing

@testable import EarshotCore

/// Runs `python3 -c script [args...]` and returns its stdout (read before waiting, so a
/// large output cannot deadlock the pipe).
enum SimPython {
    static func run(_ script: String, args: [String] = []) throws -> (status: Int32, stdout: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", "-c", script] + args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = FileHandle.standardError
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// A temporary file holding `bytes`; removed by the caller.
    static func tempFile(_ bytes: [UInt8], name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("earshot-\(name)-\(ProcessInfo.processInfo.processIdentifier)-\(UInt64.random(in: 0...UInt64.max))")
        try Data(bytes).write(to: url)
        return url
    }

    /// A Python expression for `v` that does not rely on the encoder under test: strings as
    /// `\U` escapes of every scalar, floats from their bit patterns.
    static func literal(_ v: PyValue) -> String {
        switch v {
        case .null: return "None"
        case let .bool(b): return b ? "True" : "False"
        case let .int(i): return String(i)
        case let .double(d): return "f(0x\(String(d.bitPattern, radix: 16)))"
        case let .string(s):
            var r = "\""
            for u in s.unicodeScalars {
                let h = String(u.value, radix: 16)
                r += "\\U" + String(repeating: "0", count: 8 - h.count) + h
            }
            return r + "\""
        case let .array(a): return "[" + a.map(literal).joined(separator: ", ") + "]"
        case let .object(o): return "{" + o.map { literal(.string($0.0)) + ": " + literal($0.1) }.joined(separator: ", ") + "}"
        }
    }

    static let prelude = """
        import json, struct, sys
        def f(n): return struct.unpack('<d', struct.pack('<Q', n))[0]

        """
}

private func dumped(_ v: PyValue) -> String { String(decoding: PythonJSON.dumps(v), as: UTF8.self) }

@Suite struct PythonJSONTests {
    static let cases: [PyValue] = [
        .null, .bool(true), .bool(false),
        .int(0), .int(7), .int(-1), .int(42), .int(1_745_044_394), .int(Int.max), .int(Int.min),
        .string(""), .string("hi"), .string("Grüße aus München"), .string("👋"), .string("你好，世界！明天北京的天气怎么样？"),
        .string("say \"hi\" \\ back"), .string("tab\tnew\nline\rcr\u{08}bs\u{0C}ff"), .string("\u{00}\u{01}\u{1F}\u{7F}\u{80}\u{9F}"),
        .string("😀🇩🇪👩‍👩‍👧 e\u{301} \u{FEFF}\u{FFFF}\u{10FFFF}"), .string("/inform{\"city\":\"Zürich\"}"), .string("a/b</script>"),
        .double(0.1), .double(1.0), .double(1e-05), .double(1e16), .double(123456789012345678.0),
        .double(1745044394.1430557), .double(0.9954788088798523), .double(-0.0), .double(0.0),
        .double(.leastNonzeroMagnitude) /* 5e-324 */, .double(1.7976931348623157e308), .double(2.2250738585072014e-308),
        .double(0.0001), .double(0.00012345), .double(1e15), .double(999999999999999.9), .double(9999999999999998.0),
        .double(1e22), .double(1e23), .double(-2.5e-7), .double(100.0), .double(-123.456), .double(3.0e-5),
        .double(.infinity), .double(-.infinity), .double(.nan), .double(Double(Float(0.3))), .double(4.35),
        .double(9007199254740993.0), .double(0.30000000000000004), .double(1e100), .double(12345678.9),
        .array([]), .object([]), .array([.int(1), .double(2.5), .string("x"), .null, .bool(true)]),
        .object([("z", .int(1)), ("a", .int(2)), ("m", .object([("nested", .array([.array([]), .object([])]))]))]),
        .object([("sender_id", "5f1c"), ("event", "user"), ("timestamp", 1745044394.1430557),
                 ("metadata", ["model_id": "b0a564ff3f0d4c509a716399d8a608fe"]), ("text", "Grüße 👋"),
                 ("parse_data", ["intent": ["name": "greet", "confidence": 0.9954788088798523], "entities": []]),
                 ("input_channel", .null)]),
        .object([("ключ ü", .string("значение")), ("\"quoted\"", .int(1))]),
    ]

    @Test func matchesPythonOnFixedCases() throws {
        let script = SimPython.prelude + "vals = [\n" + Self.cases.map { SimPython.literal($0) }.joined(separator: ",\n")
            + "\n]\nfor v in vals: print(json.dumps(v))\n"
        let (status, stdout) = try SimPython.run(script)
        #expect(status == 0)
        let lines = stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
        #expect(lines.count == Self.cases.count)
        for (i, v) in Self.cases.enumerated() where i < lines.count {
            #expect(dumped(v) == lines[i], "case \(i): \(SimPython.literal(v))")
        }
    }

    /// Independent of python: the bytes spelled out.
    @Test func knownBytes() {
        #expect(dumped("ü") == #""\u00fc""#)
        #expect(dumped("👋") == #""\ud83d\udc4b""#)
        #expect(dumped("\u{7F}\u{1}") == #""\u007f\u0001""#)
        #expect(dumped("a\"b\\c\n") == #""a\"b\\c\n""#)
        #expect(dumped(.array([1, 2.5, .null, true])) == "[1, 2.5, null, true]")
        #expect(dumped(["b": 1, "a": ["x": []]]) == #"{"b": 1, "a": {"x": []}}"#)
        #expect(dumped(.double(1e-05)) == "1e-05")
        #expect(dumped(.double(1e16)) == "1e+16")
        #expect(dumped(.double(1e15)) == "1000000000000000.0")
        #expect(dumped(.double(123456789012345678.0)) == "1.2345678901234568e+17")
        #expect(dumped(.double(1745044394.1430557)) == "1745044394.1430557")
        #expect(dumped(.double(0.0001)) == "0.0001")
        #expect(dumped(.double(-0.0)) == "-0.0")
        #expect(dumped(.double(.leastNonzeroMagnitude)) == "5e-324")
        #expect(dumped(.double(1.0)) == "1.0")
        #expect(dumped(.double(.nan)) == "NaN")
        #expect(dumped(.double(-.infinity)) == "-Infinity")
        #expect(dumped(.int(Int.min)) == "-9223372036854775808")
        var buf: [UInt8] = Array("x".utf8)
        PythonJSON.dumps(.int(5), into: &buf)
        #expect(buf == Array("x5".utf8))
    }

    @Test func equality() {
        let a: PyValue = ["a": 1, "b": [1.5, "x"]]
        #expect(a == ["a": 1, "b": [1.5, "x"]])
        #expect(a != ["b": [1.5, "x"], "a": 1])  // order matters, as in the dump
        #expect(PyValue.double(.nan) == .double(.nan))
        #expect(PyValue.double(0.0) != .double(-0.0))
        #expect(PyValue.int(1) != .double(1.0))
    }

    /// Random bit patterns plus values of every magnitude, all in one python call.
    @Test func randomFloatsMatchPython() throws {
        var rng = SimRandom(seed: 0xF10A7)
        var values: [Double] = []
        for _ in 0..<2000 { values.append(Double(bitPattern: rng.next())) }
        for k in -30...30 { values.append(rng.unit() * pow(10.0, Double(k))) }
        for _ in 0..<500 { values.append(1.7e9 + rng.unit() * 1e8) }  // timestamps
        for _ in 0..<300 { values.append(Double(Float(rng.unit()))) }  // confidences
        for e in 12...19 {  // integral values around the fixed/exponent switch
            let p = pow(10.0, Double(e))
            values += [p, p - 1, p + 2, -p, p * 1.5, (p / 7).rounded()]
        }
        values += [Double.leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude, .ulpOfOne]
        let input = values.map { String($0.bitPattern, radix: 16) }.joined(separator: "\n") + "\n"
        let file = try SimPython.tempFile(Array(input.utf8), name: "floats")
        defer { try? FileManager.default.removeItem(at: file) }
        let script = SimPython.prelude + """
            for line in open(sys.argv[1]):
                print(json.dumps(f(int(line, 16))))
            """
        let (status, stdout) = try SimPython.run(script, args: [file.path])
        #expect(status == 0)
        let lines = stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == values.count)
        var mismatches = 0
        for (i, d) in values.enumerated() where i < lines.count {
            let mine = dumped(.double(d))
            if mine != lines[i] {
                mismatches += 1
                if mismatches <= 10 { Issue.record("bits \(String(d.bitPattern, radix: 16)): swift \(mine) python \(lines[i])") }
            }
        }
        #expect(mismatches == 0)
    }
}
