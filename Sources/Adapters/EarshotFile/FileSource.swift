// Rasa's file broker (`type: file`): one JSON object per line, appended. Followed like
// `tail -F`: appends, truncation, rotation by rename, and a file that is not there yet.
// Also standard input (`-`), read to its end.

import EarshotCore
#if canImport(Glibc)
import Glibc
#endif

/// Reads a descriptor in large chunks and cuts them into lines. The buffer of each read
/// becomes that read's batch (no copy); only a partial last line is carried into the next
/// buffer. Blank lines are not messages and are skipped; a `\r` before the newline is kept
/// (raw bytes are never changed; JSON allows it as whitespace).
struct LineReader {
    let fd: Int32
    let chunkSize: Int
    /// The partial line after the last newline seen.
    private(set) var carry: [UInt8] = []
    /// Line number and byte offset of the first byte of `carry`.
    private(set) var lineNumber: UInt64 = 1
    private(set) var offset: UInt64 = 0

    init(fd: Int32, chunkSize: Int = 1 << 20) {
        self.fd = fd
        self.chunkSize = chunkSize
    }

    mutating func reset(lineNumber: UInt64 = 1, offset: UInt64 = 0) {
        carry = []
        self.lineNumber = lineNumber
        self.offset = offset
    }

    /// One read: bytes read (0 at end of file, -1 with errno set) and the complete lines.
    mutating func read() -> (Int, MessageBatch?) {
        let keep = carry.count
        // A line longer than a chunk grows the buffer until its newline arrives.
        let capacity = max(chunkSize, keep * 2)
        var got = 0
        let fd = self.fd
        let buffer = [UInt8](unsafeUninitializedCapacity: capacity) { buf, count in
            if keep > 0 { _ = carry.withUnsafeBufferPointer { memcpy(buf.baseAddress!, $0.baseAddress!, keep) } }
            got = Glibc.read(fd, buf.baseAddress! + keep, capacity - keep)
            count = keep + max(got, 0)
        }
        guard got > 0 else { return (got, nil) }
        return (got, cut(buffer, searchFrom: keep))
    }

    /// Splits `buffer` into complete lines; what follows the last newline is carried over.
    private mutating func cut(_ buffer: [UInt8], searchFrom: Int) -> MessageBatch? {
        var starts: [Int] = [], ends: [Int] = [], positions: [SourcePosition] = []
        var start = 0
        buffer.withUnsafeBufferPointer { b in
            let base = b.baseAddress!
            var from = searchFrom
            while from < b.count, let nl = memchr(base + from, 0x0A, b.count - from) {
                let end = base.distance(to: nl.assumingMemoryBound(to: UInt8.self))
                if !isBlank(base, start, end) {
                    starts.append(start)
                    ends.append(end)
                    positions.append(.line(number: lineNumber, offset: offset))
                }
                offset += UInt64(end - start + 1)
                lineNumber += 1
                start = end + 1
                from = start
            }
        }
        carry = start < buffer.count ? Array(buffer[start...]) : []
        guard !ends.isEmpty else { return nil }
        return MessageBatch(buffer: buffer, starts: starts, ends: ends, positions: positions)
    }

    /// Delivers a last line that has no newline (end of stdin, file rotated away, exit at end).
    mutating func flushPartial() -> MessageBatch? {
        guard !carry.isEmpty else { return nil }
        var batch = MessageBatch()
        let n = carry.count
        if !carry.withUnsafeBufferPointer({ isBlank($0.baseAddress!, 0, n) }) {
            batch.append(carry, at: .line(number: lineNumber, offset: offset))
        }
        offset += UInt64(n)
        carry = []
        return batch.isEmpty ? nil : batch
    }

    private func isBlank(_ p: UnsafePointer<UInt8>, _ start: Int, _ end: Int) -> Bool {
        var i = start
        while i < end {
            let b = p[i]
            if !(b == 0x20 || b == 0x09 || b == 0x0D) { return false }
            i += 1
        }
        return true
    }
}

func errnoText(_ e: Int32 = errno) -> String { String(cString: strerror(e)) }

/// A JSON-lines file, followed like `tail -F`.
public struct FileSource: MessageSource {
    public let path: String
    public var label: String { path }

    public init(path: String) { self.path = path }

    struct Identity: Equatable { var dev: UInt64; var ino: UInt64 }

    static func identity(fd: Int32) -> (Identity, Int64)? {
        var st = stat()
        guard fstat(fd, &st) == 0 else { return nil }
        return (Identity(dev: UInt64(st.st_dev), ino: UInt64(st.st_ino)), Int64(st.st_size))
    }

    static func identity(path: String) -> Identity? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Identity(dev: UInt64(st.st_dev), ino: UInt64(st.st_ino))
    }

    public func run(options: SourceOptions, stop: StopToken, emit: @Sendable (SourceEvent) -> Void) throws {
        emit(.state(.connecting))
        var fd: Int32 = -1
        var announcedWait = false
        while true {
            fd = open(path, O_RDONLY | O_CLOEXEC)
            if fd >= 0 { break }
            let e = errno
            if e != ENOENT || options.exitAtEnd {
                throw SourceError("cannot open \(path): \(errnoText(e))")
            }
            if !announcedWait { emit(.state(.waiting("file \(path) does not exist yet"))); announcedWait = true }
            if !stop.sleep(ms: options.pollIntervalMs) { emit(.state(.finished)); return }
        }
        defer { if fd >= 0 { close(fd) } }
        guard var (ident, _) = FileSource.identity(fd: fd) else { throw SourceError("cannot stat \(path): \(errnoText())") }

        var reader = LineReader(fd: fd)
        // A file that existed before we started is backlog; one that appears later is all new.
        if options.start == .end && !announcedWait {
            let (lines, offset) = try FileSource.skipToLastLine(fd: fd, path: path)
            reader.reset(lineNumber: lines + 1, offset: offset)
        }
        var backlogDone = false
        emit(.state(.live))

        func deliver(_ b: MessageBatch?) {
            if let b { emit(.messages(b)) }
        }

        while !stop.isStopped {
            let (got, batch) = reader.read()
            if got < 0 {
                if errno == EINTR { continue }
                throw SourceError("cannot read \(path): \(errnoText())")
            }
            deliver(batch)
            if got > 0 { continue }

            // At the end of what is there now.
            if !backlogDone {
                if options.exitAtEnd { deliver(reader.flushPartial()) }
                backlogDone = true
                emit(.backlogDone)
                if options.exitAtEnd { emit(.state(.finished)); return }
            }

            // Truncated in place (copytruncate, `> file`): start over.
            if let (_, size) = FileSource.identity(fd: fd), UInt64(size) < reader.offset + UInt64(reader.carry.count) {
                emit(.notice("\(path) was truncated; reading it again from the start"))
                lseek(fd, 0, SEEK_SET)
                reader.reset()
                continue
            }
            // Renamed away (logrotate): finish the old file, then follow the new one.
            if let now = FileSource.identity(path: path), now != ident {
                let newFD = open(path, O_RDONLY | O_CLOEXEC)
                if newFD >= 0 {
                    // Drain whatever was appended to the old file before the switch.
                    while true {
                        let (n, b) = reader.read()
                        deliver(b)
                        if n <= 0 { break }
                    }
                    deliver(reader.flushPartial())
                    close(fd)
                    fd = newFD
                    reader = LineReader(fd: fd)
                    ident = FileSource.identity(fd: fd)?.0 ?? now
                    emit(.notice("\(path) was replaced (rotated); following the new file from its start"))
                    continue
                }
            }
            stop.sleep(ms: options.pollIntervalMs)
        }
        emit(.state(.finished))
    }

    /// Positions `fd` after the last complete line; returns how many lines precede it and the offset.
    static func skipToLastLine(fd: Int32, path: String) throws -> (UInt64, UInt64) {
        var buf = [UInt8](repeating: 0, count: 1 << 20)
        var lines: UInt64 = 0
        var offset: UInt64 = 0
        var lastLineEnd: UInt64 = 0
        while true {
            let got = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if got < 0 {
                if errno == EINTR { continue }
                throw SourceError("cannot read \(path): \(errnoText())")
            }
            if got == 0 { break }
            buf.withUnsafeBytes { b in
                let base = b.baseAddress!.assumingMemoryBound(to: UInt8.self)
                var i = 0
                while i < got, let nl = memchr(base + i, 0x0A, got - i) {
                    let at = base.distance(to: nl.assumingMemoryBound(to: UInt8.self))
                    lines += 1
                    lastLineEnd = offset + UInt64(at + 1)
                    i = at + 1
                }
            }
            offset += UInt64(got)
        }
        lseek(fd, off_t(lastLineEnd), SEEK_SET)
        return (lines, lastLineEnd)
    }
}

/// Standard input, read to its end; it has no "end" to start from, so it is read whole.
public struct StdinSource: MessageSource {
    public var label: String { "stdin" }
    let fd: Int32

    public init(fd: Int32 = 0) { self.fd = fd }

    public func run(options: SourceOptions, stop: StopToken, emit: @Sendable (SourceEvent) -> Void) throws {
        emit(.state(.live))
        var reader = LineReader(fd: fd, chunkSize: 1 << 18)
        while !stop.isStopped {
            // Each read is delivered at once: promptly when input trickles, in large batches when it floods.
            let (got, batch) = reader.read()
            if got < 0 {
                if errno == EINTR { continue }
                throw SourceError("cannot read standard input: \(errnoText())")
            }
            if let batch { emit(.messages(batch)) }
            if got == 0 { break }
        }
        if let last = reader.flushPartial() { emit(.messages(last)) }
        emit(.backlogDone)
        emit(.state(.finished))
    }
}

/// Rasa's file broker as a sink: one JSON object per line, appended.
public final class FileSink: MessageSink {
    public let path: String
    public var label: String { path }
    private var fd: Int32

    public init(path: String) throws {
        self.path = path
        fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        if fd < 0 { throw SourceError("cannot open \(path) for writing: \(errnoText())") }
    }

    public func publish(_ message: [UInt8], senderID: String?) throws {
        var line = message
        line.append(0x0A)
        try line.withUnsafeBytes { b in
            var done = 0
            while done < b.count {
                let n = write(fd, b.baseAddress! + done, b.count - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    throw SourceError("cannot write \(path): \(errnoText())")
                }
                done += n
            }
        }
    }

    public func flush() throws {
        if fsync(fd) != 0 && errno != EINVAL { throw SourceError("cannot sync \(path): \(errnoText())") }
    }

    public func close() {
        if fd >= 0 { Glibc.close(fd); fd = -1 }
    }

    deinit { close() }
}
