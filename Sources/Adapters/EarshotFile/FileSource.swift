// Rasa's file broker (`type: file`): one JSON object per line, appended. Followed like
// `tail -F`: appends, truncation, rotation by rename, and a file that is not there yet.
// Also standard input (`-`), read to its end.

import EarshotCore
#if canImport(Glibc)
import Glibc
#endif

/// Splits a byte stream into lines and packs them into batches with their line positions.
/// Blank lines are not messages and are skipped; a `\r` before the newline is kept (raw bytes
/// are never changed; JSON allows it as whitespace).
struct LineSplitter {
    private(set) var pending: [UInt8] = []
    /// Line number and byte offset of the first byte of `pending`.
    private(set) var lineNumber: UInt64
    private(set) var offset: UInt64

    init(lineNumber: UInt64 = 1, offset: UInt64 = 0) {
        self.lineNumber = lineNumber
        self.offset = offset
    }

    mutating func reset(lineNumber: UInt64 = 1, offset: UInt64 = 0) {
        pending.removeAll(keepingCapacity: true)
        self.lineNumber = lineNumber
        self.offset = offset
    }

    /// Feeds bytes; appends every complete line to `batch`.
    mutating func feed(_ chunk: UnsafeRawBufferPointer, into batch: inout MessageBatch) {
        guard let base = chunk.baseAddress?.assumingMemoryBound(to: UInt8.self), chunk.count > 0 else { return }
        var start = 0
        let n = chunk.count
        while start < n {
            guard let nl = memchr(base + start, 0x0A, n - start) else { break }
            let end = base.distance(to: nl.assumingMemoryBound(to: UInt8.self))
            if pending.isEmpty {
                emit(UnsafeRawBufferPointer(start: base + start, count: end - start), into: &batch)
            } else {
                pending.append(contentsOf: UnsafeBufferPointer(start: base + start, count: end - start))
                pending.withUnsafeBytes { emit($0, into: &batch) }
                pending.removeAll(keepingCapacity: true)
            }
            offset += UInt64(end - start + 1)
            lineNumber += 1
            start = end + 1
        }
        if start < n { pending.append(contentsOf: UnsafeBufferPointer(start: base + start, count: n - start)) }
    }

    /// Delivers a last line that has no newline (end of stdin, file rotated away, exit at end).
    mutating func flushPartial(into batch: inout MessageBatch) {
        guard !pending.isEmpty else { return }
        pending.withUnsafeBytes { emit($0, into: &batch) }
        offset += UInt64(pending.count)
        pending.removeAll(keepingCapacity: true)
    }

    private func emit(_ line: UnsafeRawBufferPointer, into batch: inout MessageBatch) {
        if isBlank(line) { return }
        batch.append(line, at: .line(number: lineNumber, offset: offset))
    }

    private func isBlank(_ line: UnsafeRawBufferPointer) -> Bool {
        for b in line where !(b == 0x20 || b == 0x09 || b == 0x0D) { return false }
        return true
    }
}

/// Reads a file descriptor in large chunks, packing lines into batches.
struct ChunkReader {
    let fd: Int32
    var buffer: [UInt8]

    init(fd: Int32, chunkSize: Int = 1 << 20) {
        self.fd = fd
        self.buffer = [UInt8](repeating: 0, count: chunkSize)
    }

    /// Reads once; returns bytes read (0 at end of file), or -1 with errno set.
    mutating func read(into splitter: inout LineSplitter, batch: inout MessageBatch) -> Int {
        let fd = self.fd
        let got = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        if got > 0 {
            buffer.withUnsafeBytes { splitter.feed(UnsafeRawBufferPointer(rebasing: $0[0 ..< got]), into: &batch) }
        }
        return got
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

        var splitter = LineSplitter()
        // A file that existed before we started is backlog; one that appears later is all new.
        if options.start == .end && !announcedWait {
            let (lines, offset) = try FileSource.skipToLastLine(fd: fd, path: path)
            splitter.reset(lineNumber: lines + 1, offset: offset)
        }
        var reader = ChunkReader(fd: fd)
        var batch = MessageBatch()
        var backlogDone = false
        emit(.state(.live))

        func flush() {
            if !batch.isEmpty { emit(.messages(batch)); batch = MessageBatch() }
        }

        while !stop.isStopped {
            let got = reader.read(into: &splitter, batch: &batch)
            if got < 0 {
                if errno == EINTR { continue }
                throw SourceError("cannot read \(path): \(errnoText())")
            }
            if batch.count >= options.maxBatch { flush() }
            if got > 0 { continue }

            // At the end of what is there now.
            if !backlogDone {
                if options.exitAtEnd { splitter.flushPartial(into: &batch) }
                flush()
                backlogDone = true
                emit(.backlogDone)
                if options.exitAtEnd { emit(.state(.finished)); return }
            }
            flush()

            // Truncated in place (copytruncate, `> file`): start over.
            if let (_, size) = FileSource.identity(fd: fd), UInt64(size) < splitter.offset + UInt64(splitter.pending.count) {
                emit(.notice("\(path) was truncated; reading it again from the start"))
                lseek(fd, 0, SEEK_SET)
                splitter.reset()
                continue
            }
            // Renamed away (logrotate): finish the old file, then follow the new one.
            if let now = FileSource.identity(path: path), now != ident {
                let newFD = open(path, O_RDONLY | O_CLOEXEC)
                if newFD >= 0 {
                    // Drain whatever was appended to the old file before the switch.
                    while reader.read(into: &splitter, batch: &batch) > 0 {}
                    splitter.flushPartial(into: &batch)
                    flush()
                    close(fd)
                    fd = newFD
                    reader = ChunkReader(fd: fd)
                    ident = FileSource.identity(fd: fd)?.0 ?? now
                    splitter.reset()
                    emit(.notice("\(path) was replaced (rotated); following the new file from its start"))
                    continue
                }
            }
            stop.sleep(ms: options.pollIntervalMs)
        }
        flush()
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
        var splitter = LineSplitter()
        var reader = ChunkReader(fd: fd, chunkSize: 1 << 18)
        var batch = MessageBatch()
        while !stop.isStopped {
            let got = reader.read(into: &splitter, batch: &batch)
            if got < 0 {
                if errno == EINTR { continue }
                throw SourceError("cannot read standard input: \(errnoText())")
            }
            if got == 0 { break }
            // Deliver promptly when input trickles in; in large chunks when it floods.
            if !batch.isEmpty { emit(.messages(batch)); batch = MessageBatch() }
        }
        splitter.flushPartial(into: &batch)
        if !batch.isEmpty { emit(.messages(batch)) }
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
