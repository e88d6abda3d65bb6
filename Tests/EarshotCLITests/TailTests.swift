import Foundation
import Synchronization
import Testing

/// The `earshot` binary built alongside the tests.
let earshotBinary: String = {
    if let env = ProcessInfo.processInfo.environment["EARSHOT_BIN"] { return env }
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    for _ in 0 ..< 4 {
        let candidate = dir.appendingPathComponent("earshot").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        dir = dir.deletingLastPathComponent()
    }
    // `swift test` puts products in .build/debug next to Package.swift.
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    return root.appendingPathComponent(".build/debug/earshot").path
}()

struct Run {
    var status: Int32
    var stdout: String
    var stderr: String
    var stdoutBytes: Data
}

/// Runs earshot with TZ=UTC, draining both pipes before waiting for it.
func earshot(_ args: [String], stdin: Data? = nil, env: [String: String] = [:]) throws -> Run {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: earshotBinary)
    p.arguments = args
    var environment = ProcessInfo.processInfo.environment
    environment["TZ"] = "UTC"
    for (k, v) in env { environment[k] = v }
    p.environment = environment
    let out = Pipe(), err = Pipe(), inp = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = inp
    try p.run()
    let errData = Mutex(Data())
    let done = DispatchSemaphore(value: 0)
    Thread {
        let d = err.fileHandleForReading.readDataToEndOfFile()
        errData.withLock { $0 = d }
        done.signal()
    }.start()
    if let stdin { inp.fileHandleForWriting.write(stdin) }
    try inp.fileHandleForWriting.close()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    done.wait()
    p.waitUntilExit()
    return Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self),
               stderr: errData.withLock { String(decoding: $0, as: UTF8.self) }, stdoutBytes: o)
}

func tempDir(_ name: String = #function) -> String {
    let dir = NSTemporaryDirectory() + "earshot-cli-\(name.filter { $0.isLetter })-\(getpid())-\(UInt32.random(in: 0 ... .max))"
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

/// A small conversation as Rasa writes it (json.dumps defaults, ASCII with \u escapes).
let corpus = [
    #"{"sender_id": "5f1c", "event": "session_started", "timestamp": 1745044390.0}"#,
    #"{"sender_id": "5f1c", "event": "user", "timestamp": 1745044394.1430557, "metadata": {"model_id": "b0a5"}, "text": "Gr\u00fc\u00dfe \ud83d\udc4b", "parse_data": {"intent": {"name": "greet", "confidence": 0.9954788088798523}, "entities": [], "text": "Gr\u00fc\u00dfe \ud83d\udc4b", "message_id": "b2aa", "metadata": {}, "intent_ranking": []}, "input_channel": "rest", "message_id": "b2aa"}"#,
    #"{"sender_id": "5f1c", "event": "action", "timestamp": 1745044394.2, "name": "utter_greet", "policy": "RulePolicy", "confidence": 1.0, "action_text": null, "hide_rule_turn": false}"#,
    #"{"sender_id": "5f1c", "event": "bot", "timestamp": 1745044395.3766496, "metadata": {"utter_action": "utter_greet"}, "text": "Hi! Book a table?", "data": {"elements": null, "quick_replies": null, "buttons": [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}], "attachment": null, "image": null, "custom": null}}"#,
    #"{"sender_id": "user-42", "event": "user", "timestamp": 1745044400.5, "text": "book in Berlin", "parse_data": {"intent": {"name": "book_table", "confidence": 0.31}, "entities": [{"entity": "city", "value": "Berlin"}]}, "input_channel": "rest", "message_id": "c3"}"#,
    #"{"sender_id": "user-42", "event": "slot", "timestamp": 1745044400.6, "name": "city", "value": "Berlin"}"#,
    #"{"sender_id": "user-42", "event": "custom_thing", "timestamp": 1745044401.0, "x": 1}"#,
]

@Suite(.serialized) struct TailTests {
    func writeCorpus(_ extra: [String] = []) -> String {
        let path = tempDir() + "/rasa_event.log"
        try! ((corpus + extra).joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func lineFormat() throws {
        let r = try earshot(["tail", writeCorpus(), "--from-beginning", "--exit-at-end"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == """
        2025-04-19 06:33:10.000  5f1c          session_started
        2025-04-19 06:33:14.143  5f1c          user             "Grüße 👋"  intent=greet(0.99)
        2025-04-19 06:33:14.200  5f1c          action           utter_greet  policy=RulePolicy(1.00)
        2025-04-19 06:33:15.376  5f1c          bot              "Hi! Book a table?"  [Yes | No]
        2025-04-19 06:33:20.500  user-42       user             "book in Berlin"  intent=book_table(0.31)  entities: city=Berlin
        2025-04-19 06:33:20.600  user-42       slot             city = Berlin
        2025-04-19 06:33:21.000  user-42       custom_thing     {"sender_id":"user-42","event":"custom_thing","timestamp":1745044401.0,"x":1}

        """)
        #expect(r.stderr == "earshot: 7 messages read, 7 shown, 0 undecodable\n")
    }

    @Test func jsonlIsByteForByteAndFilters() throws {
        let path = writeCorpus()
        let r = try earshot(["tail", path, "-e", "--type", "bot,user", "--format", "jsonl"])
        #expect(r.status == 0)
        #expect(r.stdout == [corpus[1], corpus[3], corpus[4]].joined(separator: "\n") + "\n")
        let x = try earshot(["tail", path, "-e", "--exclude-type=user,session_started,custom_thing", "-f", "jsonl", "-q"])
        #expect(x.stdout == [corpus[2], corpus[3], corpus[5]].joined(separator: "\n") + "\n")
        #expect(x.stderr.isEmpty)
        let s = try earshot(["tail", path, "-e", "--sender", "user-*", "-f", "jsonl", "-q"])
        #expect(s.stdout.split(separator: "\n").count == 3)
        let g = try earshot(["tail", path, "-e", "--grep", "GRÜSSE", "-f", "jsonl", "-q"])
        #expect(g.stdout.isEmpty)  // ß does not fold to SS; searching is lowercase containment
        let g2 = try earshot(["tail", path, "-e", "--grep", "grüße", "-f", "jsonl", "-q"])
        #expect(g2.stdout == corpus[1] + "\n")
        let g3 = try earshot(["tail", path, "-e", "-g", "UTTER_GREET", "-f", "jsonl", "-q"])
        #expect(g3.stdout == corpus[2] + "\n")  // action names are searched
        let g4 = try earshot(["tail", path, "-e", "-g", "city", "-f", "jsonl", "-q"])
        #expect(g4.stdout == corpus[5] + "\n")  // slot names are searched, entity names not
        let since = try earshot(["tail", path, "-e", "--since", "2025-04-19T06:33:20Z", "-f", "jsonl", "-q"])
        #expect(since.stdout == corpus[4...].joined(separator: "\n") + "\n")
        let sinceUnix = try earshot(["tail", path, "-e", "--since", "1745044395", "-f", "jsonl", "-q"])
        #expect(sinceUnix.stdout.split(separator: "\n").count == 4)
    }

    /// jsonl with no filter writes runs of messages straight from the read buffer: blank
    /// lines, a CRLF line, a bad line and a last line without a newline must all come out right.
    @Test func rawJSONLinesKeepEverySoundMessageInOrder() throws {
        let path = tempDir() + "/raw.log"
        let text = corpus[0] + "\n\n" + corpus[1] + "\r\n" + "{\"event\": oops}\n" + corpus[2] + "\n   \n" + corpus[3]
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let r = try earshot(["tail", path, "-e", "-f", "jsonl"])
        #expect(r.status == 0)
        #expect(r.stdout == corpus[0] + "\n" + corpus[1] + "\r\n" + corpus[2] + "\n" + corpus[3] + "\n")
        #expect(r.stderr.contains("undecodable message at \(path) line 4 "))
        #expect(r.stderr.hasSuffix("earshot: 5 messages read, 4 shown, 1 undecodable\n"))

        // Large enough for batches judged on two cores and runs written without a copy.
        var lines: [String] = []
        for i in 0 ..< 6000 { lines.append(i == 3333 ? "not json" : corpus[i % corpus.count]) }
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        var expected = lines
        expected.remove(at: 3333)
        let big = try earshot(["tail", path, "-e", "-f", "jsonl"])
        #expect(big.stdout == expected.joined(separator: "\n") + "\n")
        #expect(big.stderr.contains("line 3334 "))
        #expect(big.stderr.hasSuffix("earshot: 6000 messages read, 5999 shown, 1 undecodable\n"))
        // The same through SQLite, whose rows are copied into a batch.
        let db = tempDir() + "/raw.db"
        let sql = "BEGIN; CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), data TEXT);\n"
            + lines.map { "INSERT INTO events (data) VALUES ('\($0.replacingOccurrences(of: "'", with: "''"))');\n" }.joined()
            + "COMMIT;\n"
        try sql.write(toFile: db + ".sql", atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["sqlite3", db, ".read \(db).sql"]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        let fromDB = try earshot(["tail", "sqlite://" + db, "-e", "-f", "jsonl"])
        #expect(fromDB.stdout == expected.joined(separator: "\n") + "\n")
        #expect(fromDB.stderr.contains("row id 3334: "))
    }

    @Test func prettyFormat() throws {
        let r = try earshot(["tail", writeCorpus(), "-e", "-t", "slot", "-f", "pretty", "-q"])
        #expect(r.stdout == """
        {
          "sender_id": "user-42",
          "event": "slot",
          "timestamp": 1745044400.6,
          "name": "city",
          "value": "Berlin"
        }

        """)
        let u = try earshot(["tail", writeCorpus(), "-e", "-t", "user", "-s", "5f1c", "-f", "pretty", "-q"])
        #expect(u.stdout.contains(#""text": "Grüße 👋","#))
        #expect(u.stdout.contains(#""entities": [],"#))
    }

    @Test func undecodableIsReportedWithPositionAndCounted() throws {
        let path = writeCorpus([#"{"event": "user", "text": "cut off"#, "not json at all", #"{"sender_id": "x"}"#])
        let r = try earshot(["tail", path, "-e", "-f", "jsonl"])
        #expect(r.status == 0)
        #expect(r.stdout.split(separator: "\n").count == 7)
        #expect(r.stderr.contains("undecodable message at \(path) line 8 (byte"))
        #expect(r.stderr.contains("not valid JSON: unexpected end of input"))
        #expect(r.stderr.contains("line 9 "))
        #expect(r.stderr.contains("line 10 "))
        #expect(r.stderr.contains("no \"event\" key"))
        #expect(r.stderr.hasSuffix("earshot: 10 messages read, 7 shown, 3 undecodable\n"))
    }

    @Test func nonUTF8AndHostileTextNeverReachTheTerminal() throws {
        let dir = tempDir()
        let path = dir + "/bad.log"
        var bytes = Data(#"{"sender_id": "evil\u001b[2J", "event": "bot", "timestamp": 1, "text": "\u001b]0;pwned\u0007 red \u001b[31mX\u009b \u202eabc"}"#.utf8)
        bytes.append(0x0A)
        bytes.append(contentsOf: Array(#"{"event": "user", "text": "caf"#.utf8) + [0xE9, 0x1B, 0x5B, 0x32, 0x4A, 0x22, 0x7D, 0x0A])
        try bytes.write(to: URL(fileURLWithPath: path))
        let r = try earshot(["tail", path, "-e"])
        #expect(r.status == 0)
        let all = Array(r.stdout.utf8) + Array(r.stderr.utf8)
        #expect(!all.contains(0x1B), "escape byte reached the terminal")
        #expect(!all.contains(0x07))
        #expect(!r.stdout.unicodeScalars.contains { $0.value == 0x9B || $0.value == 0x202E })
        #expect(r.stdout.contains("evil␛[2J"))
        #expect(r.stdout.contains("<U+202E>abc"))
        #expect(r.stderr.contains("line 2 (byte"))
        #expect(r.stderr.contains("not valid UTF-8"))
    }

    @Test func stdinAndSQLite() throws {
        let r = try earshot(["tail", "-", "-f", "jsonl", "-q"], stdin: Data((corpus.joined(separator: "\n")).utf8))
        #expect(r.status == 0)
        #expect(r.stdout == corpus.joined(separator: "\n") + "\n")

        let db = tempDir() + "/events.db"
        let w = try earshot(["demo", "--write-only", db, "--count", "300", "--rate", "100000", "--seed", "3"])
        #expect(w.status == 0, "\(w.stderr)")
        let t = try earshot(["tail", "sqlite://" + db, "-e", "-f", "jsonl"])
        #expect(t.status == 0)
        #expect(t.stdout.split(separator: "\n").count == 300)
        #expect(t.stderr == "earshot: 300 messages read, 300 shown, 0 undecodable\n")
        let users = try earshot(["tail", "sqlite://" + db, "-e", "-t", "user", "-q"])
        #expect(!users.stdout.isEmpty)
        #expect(users.stdout.split(separator: "\n").allSatisfy { $0.contains(" user ") && $0.contains("intent=") })
    }

    @Test func severalSourcesAreMergedAndTagged() throws {
        let a = writeCorpus()
        let b = tempDir() + "/other.log"
        try (corpus[5] + "\n").write(toFile: b, atomically: true, encoding: .utf8)
        let r = try earshot(["tail", a, b, "-e", "-t", "slot", "-q"])
        #expect(r.status == 0)
        let lines = r.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.contains { $0.hasPrefix("[\(a)] 2025-04-19 06:33:20.600  user-42") })
        #expect(lines.contains { $0.hasPrefix("[\(b)] 2025-04-19 06:33:20.600  user-42") })
    }

    @Test func endpointsFile() throws {
        let path = writeCorpus()
        let yml = tempDir() + "/endpoints.yml"
        try "event_broker:\n  type: file\n  path: ${EVENTS_PATH}\n  surprise: 1\n".write(toFile: yml, atomically: true, encoding: .utf8)
        let r = try earshot(["tail", "--endpoints", yml, "-e", "-f", "jsonl"], env: ["EVENTS_PATH": path])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == corpus.joined(separator: "\n") + "\n")
        #expect(r.stderr.contains("surprise"))
    }

    @Test func errorsAndExitCodes() throws {
        let missing = try earshot(["tail", "/nonexistent/events.log", "-e"])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("cannot open /nonexistent/events.log: No such file or directory"))
        let usage = try earshot(["tail", "x.log", "--bogus"])
        #expect(usage.status == 2)
        #expect(usage.stderr.contains("unknown option '--bogus'"))
        let format = try earshot(["tail", "x.log", "--format", "xml"])
        #expect(format.status == 2)
        let none = try earshot(["tail"])
        #expect(none.status == 2)
        let since = try earshot(["tail", "x.log", "--since", "yesterday-ish"])
        #expect(since.status == 2)
        #expect(since.stderr.contains("--since"))
        for url in ["kafka://127.0.0.1:9092/rasa", "amqp://guest:s3cret@127.0.0.1:5672/%2f?exchange=rasa-exchange", "postgresql://rasa:s3cret@127.0.0.1:5432/rasa"] {
            let r = try earshot(["tail", url, "-e"])
            #expect(r.status == 1)
            #expect(r.stderr.contains("not built yet"))
            #expect(!r.stderr.contains("s3cret"), "password shown: \(r.stderr)")
        }
        let scheme = try earshot(["tail", "mqtt://x/y"])
        #expect(scheme.status == 2)
        #expect(scheme.stderr.contains("unknown source scheme"))
    }

    @Test func helpExplainsEveryOption() throws {
        let top = try earshot(["--help"])
        #expect(top.status == 0)
        for word in ["tail", "demo", "SOURCE", "--endpoints"] { #expect(top.stdout.contains(word)) }
        let tail = try earshot(["tail", "--help"])
        #expect(tail.status == 0)
        for opt in ["--from-beginning", "--from-end", "--exit-at-end", "--type", "--exclude-type", "--sender", "--grep", "--since", "--format", "line", "jsonl", "pretty", "--endpoints", "--quiet", "Exit status"] {
            #expect(tail.stdout.contains(opt), "tail --help lacks \(opt)")
        }
        let demo = try earshot(["demo", "--help"])
        #expect(demo.stdout.contains("--write-only"))
    }

    @Test func followsALiveFileUntilInterrupted() throws {
        let path = tempDir() + "/live.log"
        try (corpus[0] + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: earshotBinary)
        p.arguments = ["tail", path, "-f", "jsonl"]  // from the end by default
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        usleep(500_000)
        let fh = FileHandle(forWritingAtPath: path)!
        fh.seekToEndOfFile()
        fh.write(Data((corpus[3] + "\n").utf8))
        try fh.close()
        usleep(700_000)
        p.interrupt()  // SIGINT: stop, print the summary, exit 0
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        #expect(String(decoding: o, as: UTF8.self) == corpus[3] + "\n")
        #expect(String(decoding: e, as: UTF8.self).contains("1 message read, 1 shown"))
    }
}
