// Rasa's SQL broker on SQLite: a table `events (id INTEGER PRIMARY KEY, sender_id, data)`,
// one row per event. Read-only, in short read transactions (one bounded SELECT each), with a
// busy timeout; the journal mode is never touched, so a writer in the default rollback-journal
// mode never sees "database is locked" because of us.

import CSQLite
import EarshotCore
#if canImport(Glibc)
import Glibc
#endif

let SQLITE_TRANSIENT = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// A small owner of one connection.
final class SQLiteConnection {
    let db: OpaquePointer
    let path: String

    init(path: String, readOnly: Bool, busyTimeoutMs: Int32) throws {
        var handle: OpaquePointer?
        let flags = readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        let rc = sqlite3_open_v2(path, &handle, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let handle else {
            let msg = handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(rc))
            if let handle { sqlite3_close_v2(handle) }
            throw SourceError("cannot open SQLite database \(path): \(msg)")
        }
        db = handle
        self.path = path
        sqlite3_busy_timeout(db, busyTimeoutMs)
        sqlite3_extended_result_codes(db, 1)
    }

    deinit { sqlite3_close_v2(db) }

    var errorMessage: String { String(cString: sqlite3_errmsg(db)) }

    func prepare(_ sql: String) throws -> OpaquePointer {
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v2(db, sql, -1, &stmt, nil)
        guard rc == SQLITE_OK, let stmt else { throw SQLiteError(code: rc, message: errorMessage) }
        return stmt
    }

    func exec(_ sql: String) throws {
        let rc = sqlite3_exec(db, sql, nil, nil, nil)
        guard rc == SQLITE_OK else { throw SQLiteError(code: rc, message: errorMessage) }
    }
}

struct SQLiteError: Error, CustomStringConvertible {
    var code: Int32
    var message: String
    var description: String { message }
    var isBusy: Bool { code & 0xFF == SQLITE_BUSY || code & 0xFF == SQLITE_LOCKED }
    var isMissingTable: Bool { message.hasPrefix("no such table") }
}

public struct SQLiteSource: MessageSource {
    public let path: String
    public var label: String { "sqlite://\(path)" }
    public init(path: String) { self.path = path }

    public func run(options: SourceOptions, stop: StopToken, emit: @Sendable (SourceEvent) -> Void) throws {
        emit(.state(.connecting))
        var waitingFor: String?
        func wait(_ why: String) -> Bool {
            if waitingFor != why { emit(.state(.waiting(why))); waitingFor = why }
            return stop.sleep(ms: max(options.pollIntervalMs, 100))
        }

        // The file may not exist yet (Rasa creates it on its first event).
        var conn: SQLiteConnection?
        while conn == nil {
            if access(path, F_OK) != 0 {
                if options.exitAtEnd { throw SourceError("no SQLite database at \(path)") }
                if !wait("database \(path) does not exist yet") { emit(.state(.finished)); return }
                continue
            }
            conn = try SQLiteConnection(path: path, readOnly: true, busyTimeoutMs: 2000)
        }
        let db = conn!

        // Where the backlog ends, and where to start.
        var maxAtStart: Int64 = 0
        var tableAppeared = false
        while true {
            do {
                maxAtStart = try maxID(db)
                break
            } catch let e as SQLiteError where e.isMissingTable {
                if options.exitAtEnd { throw SourceError("\(path) has no table \"events\"") }
                tableAppeared = true
                if !wait("no table \"events\" in \(path) yet") { emit(.state(.finished)); return }
            } catch let e as SQLiteError where e.isBusy {
                if !wait("database busy") { emit(.state(.finished)); return }
            } catch let e as SQLiteError {
                throw SourceError("cannot read \(path): \(e.message)")
            }
        }
        // A table that appears after we started holds only new events.
        var lastID: Int64 = (options.start == .end && !tableAppeared) ? maxAtStart : 0
        if tableAppeared { maxAtStart = 0 }
        emit(.state(.live))
        waitingFor = nil

        let stmt = try db.prepare("SELECT id, data FROM events WHERE id > ?1 ORDER BY id LIMIT ?2")
        defer { sqlite3_finalize(stmt) }
        // Rows per read transaction: small enough that each lasts about a millisecond.
        let rowsPerRead = Int32(max(1, min(options.maxBatch, 100_000)))
        var backlogDone = false
        if lastID >= maxAtStart {
            backlogDone = true
            emit(.backlogDone)
            if options.exitAtEnd { emit(.state(.finished)); return }
        }

        var lastBatchBytes = Int(rowsPerRead) * 512
        while !stop.isStopped {
            var batch = MessageBatch(reservingBytes: lastBatchBytes + lastBatchBytes / 8, messages: Int(rowsPerRead))
            var rows: Int32 = 0
            sqlite3_bind_int64(stmt, 1, lastID)
            sqlite3_bind_int(stmt, 2, rowsPerRead)
            var rc: Int32
            repeat {
                rc = sqlite3_step(stmt)
                if rc == SQLITE_ROW {
                    let id = sqlite3_column_int64(stmt, 0)
                    let n = Int(sqlite3_column_bytes(stmt, 1))
                    if let p = sqlite3_column_blob(stmt, 1), n > 0 {
                        batch.append(UnsafeRawBufferPointer(start: p, count: n), at: .row(id: id))
                    } else {
                        batch.append(EmptyCollection<UInt8>(), at: .row(id: id))
                    }
                    lastID = id
                    rows += 1
                }
            } while rc == SQLITE_ROW
            // Resetting ends the read transaction: the writer is free again.
            sqlite3_reset(stmt)
            if !batch.isEmpty { lastBatchBytes = max(4096, batch.bytes.count) }
            if rc != SQLITE_DONE {
                let e = SQLiteError(code: rc, message: db.errorMessage)
                if e.isBusy {
                    if !batch.isEmpty { emit(.messages(batch)) }
                    if waitingFor == nil { emit(.state(.reconnecting("database busy, retrying"))); waitingFor = "busy" }
                    stop.sleep(ms: options.pollIntervalMs)
                    continue
                }
                throw SourceError("cannot read \(path): \(e.message)")
            }
            if waitingFor != nil { emit(.state(.live)); waitingFor = nil }
            if !batch.isEmpty { emit(.messages(batch)) }
            if !backlogDone && lastID >= maxAtStart {
                backlogDone = true
                emit(.backlogDone)
                if options.exitAtEnd { emit(.state(.finished)); return }
            }
            if rows < rowsPerRead { stop.sleep(ms: options.pollIntervalMs) }
        }
        emit(.state(.finished))
    }

    func maxID(_ db: SQLiteConnection) throws -> Int64 {
        let stmt = try db.prepare("SELECT coalesce(max(id), 0) FROM events")
        defer { sqlite3_finalize(stmt) }
        let rc = sqlite3_step(stmt)
        guard rc == SQLITE_ROW else { throw SQLiteError(code: rc, message: db.errorMessage) }
        return sqlite3_column_int64(stmt, 0)
    }
}

/// Rasa's SQL broker as a sink: creates `events` as SQLAlchemy does for Rasa and inserts one
/// row per event, one commit each, exactly like Rasa's own writer.
public final class SQLiteSink: MessageSink {
    public let path: String
    public var label: String { "sqlite://\(path)" }
    private let db: SQLiteConnection
    private let insert: OpaquePointer

    public init(path: String) throws {
        self.path = path
        // Python's sqlite3 (what Rasa uses through SQLAlchemy) waits 5 s on a lock.
        db = try SQLiteConnection(path: path, readOnly: false, busyTimeoutMs: 5000)
        do {
            try db.exec("CREATE TABLE IF NOT EXISTS events (id INTEGER NOT NULL, sender_id VARCHAR(255), data TEXT, PRIMARY KEY (id))")
            insert = try db.prepare("INSERT INTO events (sender_id, data) VALUES (?1, ?2)")
        } catch {
            throw SourceError("cannot prepare \(path) for writing: \(error)")
        }
    }

    public func publish(_ message: [UInt8], senderID: String?) throws {
        defer { sqlite3_reset(insert) }
        if let senderID {
            sqlite3_bind_text(insert, 1, senderID, -1, SQLITE_TRANSIENT)
        } else {
            sqlite3_bind_null(insert, 1)
        }
        message.withUnsafeBytes { b in
            _ = sqlite3_bind_text(insert, 2, b.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(b.count), SQLITE_TRANSIENT)
        }
        let rc = sqlite3_step(insert)
        guard rc == SQLITE_DONE else { throw SourceError("cannot insert into \(path): \(db.errorMessage)") }
    }

    public func flush() throws {}

    private var closed = false

    public func close() {
        if !closed { sqlite3_finalize(insert); closed = true }
    }

    deinit { close() }
}
