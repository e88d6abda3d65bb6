import EarshotCore
import EarshotSQLite
import Foundation
import Testing

/// Writes rows the way Rasa's SQL broker does: Python's sqlite3 (what SQLAlchemy drives),
/// default rollback journal, one INSERT and one commit per event.
func pythonWriter(db: String, count: Int, sender: String = "w", delay: Double = 0, timeout: Double = 1.0) -> String {
    """
    import sqlite3, sys, time, json
    con = sqlite3.connect(\(pyString(db)), timeout=\(timeout))
    con.execute("CREATE TABLE IF NOT EXISTS events (id INTEGER NOT NULL, sender_id VARCHAR(255), data TEXT, PRIMARY KEY (id))")
    con.commit()
    locked = 0
    for i in range(\(count)):
        data = json.dumps({"sender_id": "\(sender)", "event": "user", "timestamp": 1700000000 + i, "text": "message %d" % i})
        try:
            con.execute("INSERT INTO events (sender_id, data) VALUES (?, ?)", ("\(sender)", data))
            con.commit()
        except sqlite3.OperationalError as e:
            locked += 1
            print("writer error:", e, file=sys.stderr)
        if \(delay) > 0:
            time.sleep(\(delay))
    print(json.dumps({"locked": locked, "mode": con.execute("PRAGMA journal_mode").fetchone()[0]}))
    """
}

func pyString(_ s: String) -> String { "'" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'" }

@Suite struct SQLiteSourceTests {
    @Test func backfillInOrderWithRowIDs() throws {
        let db = temporaryDirectory() + "/events.db"
        let w = try runProcess(["python3", "-c", pythonWriter(db: db, count: 500)])
        #expect(w.status == 0, "\(w.stderr)")
        let run = SourceRun(SQLiteSource(path: db), SourceOptions(start: .beginning, exitAtEnd: true, maxBatch: 64))
        #expect(run.join())
        let msgs = run.messages
        #expect(msgs.count == 500)
        #expect(msgs.first?.contains("\"message 0\"") == true)
        #expect(msgs.last?.contains("\"message 499\"") == true)
        #expect(run.positions.first == .row(id: 1))
        #expect(run.positions.last == .row(id: 500))
        #expect(run.seen.withLock { $0.backlogDone && $0.error == nil })
    }

    @Test func fromEndSeesOnlyNewRows() throws {
        let db = temporaryDirectory() + "/events.db"
        #expect(try runProcess(["python3", "-c", pythonWriter(db: db, count: 10, sender: "old")]).status == 0)
        let run = SourceRun(SQLiteSource(path: db), SourceOptions(start: .end, pollIntervalMs: 20))
        defer { run.finish() }
        #expect(run.wait { $0.backlogDone })
        #expect(try runProcess(["python3", "-c", pythonWriter(db: db, count: 5, sender: "new")]).status == 0)
        #expect(run.waitForCount(5))
        usleep(100_000)
        #expect(run.messages.count == 5)
        #expect(run.messages.allSatisfy { $0.contains("\"new\"") })
        #expect(run.positions.first == .row(id: 11))
    }

    @Test func waitsForTheFileAndTheTable() throws {
        let dir = temporaryDirectory()
        let db = dir + "/later.db"
        let run = SourceRun(SQLiteSource(path: db), SourceOptions(start: .end, pollIntervalMs: 20))
        defer { run.finish() }
        #expect(run.wait { $0.states.contains(.waiting("database \(db) does not exist yet")) })
        // The file appears without the table first (as when SQLAlchemy connects).
        #expect(try runProcess(["python3", "-c", "import sqlite3; c = sqlite3.connect(\(pyString(db))); c.execute('create table other (x)'); c.commit()"]).status == 0)
        #expect(run.wait { $0.states.contains(.waiting("no table \"events\" in \(db) yet")) })
        #expect(try runProcess(["python3", "-c", pythonWriter(db: db, count: 3)]).status == 0)
        // A table created after the start holds only new events: all of them are shown.
        #expect(run.waitForCount(3))
        #expect(run.seen.withLock { $0.error == nil })
    }

    @Test func missingDatabaseWithExitAtEndIsAnError() {
        let run = SourceRun(SQLiteSource(path: "/nonexistent/x.db"), SourceOptions(start: .beginning, exitAtEnd: true))
        #expect(run.join())
        #expect(run.seen.withLock { $0.error?.contains("no SQLite database") == true })
    }

    /// The promise to the assistant: while Earshot reads, a Rasa-like writer in the default
    /// rollback-journal mode never gets "database is locked", and Earshot sees every row in
    /// order. The writer waits at most 1 s for a lock (Rasa's stack waits 5 s).
    @Test func concurrentRasaLikeWriterIsNeverLocked() throws {
        let db = temporaryDirectory() + "/events.db"
        // Some backlog so that reading starts with real work to do.
        #expect(try runProcess(["python3", "-c", pythonWriter(db: db, count: 20000, sender: "backlog", timeout: 5)]).status == 0)
        let run = SourceRun(SQLiteSource(path: db), SourceOptions(start: .beginning, pollIntervalMs: 1))
        defer { run.finish() }
        let w = try runProcess(["python3", "-c", pythonWriter(db: db, count: 3000, sender: "live", timeout: 1.0)])
        #expect(w.status == 0)
        #expect(!w.stderr.contains("locked"), "\(w.stderr)")
        #expect(w.stdout.contains(#""locked": 0"#), "\(w.stdout)")
        #expect(w.stdout.contains(#""mode": "delete""#), "journal mode changed: \(w.stdout)")
        #expect(run.waitForCount(23000, timeout: 60))
        let ids = run.positions.map { if case let .row(id) = $0 { return id }; return -1 }
        #expect(ids == Array(1 ... 23000))
    }

    @Test func sinkWritesRasasSchema() throws {
        let db = temporaryDirectory() + "/out.db"
        let sink = try SQLiteSink(path: db)
        for i in 0 ..< 20 { try sink.publish(Array(eventLine("s\(i % 3)", i).utf8), senderID: "s\(i % 3)") }
        sink.close()
        let r = try runProcess(["python3", "-c", """
        import sqlite3
        c = sqlite3.connect(\(pyString(db)))
        print(c.execute("select sql from sqlite_master where name='events'").fetchone()[0])
        print(c.execute("select count(*), min(id), max(id) from events").fetchone())
        print(c.execute("select sender_id from events where id = 2").fetchone()[0])
        print(c.execute("PRAGMA journal_mode").fetchone()[0])
        """])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == """
        CREATE TABLE events (id INTEGER NOT NULL, sender_id VARCHAR(255), data TEXT, PRIMARY KEY (id))
        (20, 1, 20)
        s1
        delete

        """)
    }
}
