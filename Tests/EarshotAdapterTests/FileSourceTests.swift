import EarshotCore
import EarshotFile
import Foundation
import Testing

@Suite struct FileSourceTests {
    let fast = SourceOptions(start: .beginning, exitAtEnd: false, pollIntervalMs: 20)

    @Test func backlogWithPositionsBlankLinesAndPartialLastLine() throws {
        let dir = temporaryDirectory()
        let path = dir + "/rasa_event.log"
        appendText(path, eventLine("a", 1) + "\n\n" + eventLine("b", 2) + "\r\n" + eventLine("a", 3))
        let run = SourceRun(FileSource(path: path), SourceOptions(start: .beginning, exitAtEnd: true))
        #expect(run.join())
        #expect(run.messages == [eventLine("a", 1), eventLine("b", 2) + "\r", eventLine("a", 3)])
        let l1 = eventLine("a", 1).utf8.count
        #expect(run.positions == [.line(number: 1, offset: 0), .line(number: 3, offset: UInt64(l1 + 2)),
                                  .line(number: 4, offset: UInt64(l1 + 2 + eventLine("b", 2).utf8.count + 2))])
        #expect(run.seen.withLock { $0.backlogDone && $0.error == nil })
    }

    @Test func fromEndFollowsOnlyAppends() throws {
        let dir = temporaryDirectory()
        let path = dir + "/events.log"
        appendText(path, eventLine("old", 1) + "\n" + eventLine("old", 2) + "\n")
        let run = SourceRun(FileSource(path: path), SourceOptions(start: .end, pollIntervalMs: 20))
        defer { run.finish() }
        #expect(run.wait { $0.backlogDone })
        appendText(path, eventLine("new", 3) + "\n")
        // A line written in two pieces arrives once, whole.
        let half = eventLine("new", 4)
        appendText(path, String(half.prefix(20)))
        usleep(100_000)
        appendText(path, String(half.dropFirst(20)) + "\n")
        #expect(run.waitForCount(2))
        usleep(100_000)
        #expect(run.messages == [eventLine("new", 3), eventLine("new", 4)])
        #expect(run.positions.first == .line(number: 3, offset: UInt64(eventLine("old", 1).utf8.count * 2 + 2)))
    }

    @Test func truncationStartsOver() throws {
        let dir = temporaryDirectory()
        let path = dir + "/events.log"
        appendText(path, eventLine("a", 1) + "\n" + eventLine("a", 2) + "\n")
        let run = SourceRun(FileSource(path: path), fast)
        defer { run.finish() }
        #expect(run.waitForCount(2))
        #expect(truncate(path, 0) == 0)
        appendText(path, eventLine("b", 3) + "\n")
        #expect(run.waitForCount(3))
        #expect(run.messages.last == eventLine("b", 3))
        #expect(run.positions.last == .line(number: 1, offset: 0))
        #expect(run.seen.withLock { $0.notices.contains { $0.contains("truncated") } })
    }

    @Test func rotationByRenameFollowsTheNewFile() throws {
        let dir = temporaryDirectory()
        let path = dir + "/events.log"
        appendText(path, eventLine("a", 1) + "\n")
        let run = SourceRun(FileSource(path: path), fast)
        defer { run.finish() }
        #expect(run.waitForCount(1))
        // Last words into the old file, then logrotate-style rename and a new file.
        appendText(path, eventLine("a", 2) + "\n")
        rename(path, path + ".1")
        appendText(path + ".1", eventLine("a", 3) + "\n")
        appendText(path, eventLine("b", 4) + "\n")
        #expect(run.waitForCount(4))
        #expect(run.messages == [eventLine("a", 1), eventLine("a", 2), eventLine("a", 3), eventLine("b", 4)])
        #expect(run.positions.last == .line(number: 1, offset: 0))
        #expect(run.seen.withLock { $0.notices.contains { $0.contains("rotated") } })
    }

    @Test func waitsForAFileThatIsNotThereYet() throws {
        let dir = temporaryDirectory()
        let path = dir + "/later.log"
        let run = SourceRun(FileSource(path: path), SourceOptions(start: .end, pollIntervalMs: 20))
        defer { run.finish() }
        #expect(run.wait { $0.states.contains { if case .waiting = $0 { return true }; return false } })
        appendText(path, eventLine("a", 1) + "\n")
        // A file that appears after the start is all new: read from its beginning.
        #expect(run.waitForCount(1))
        #expect(run.messages == [eventLine("a", 1)])
    }

    @Test func missingFileWithExitAtEndIsAnError() {
        let run = SourceRun(FileSource(path: "/nonexistent/dir/x.log"), SourceOptions(start: .beginning, exitAtEnd: true))
        #expect(run.join())
        #expect(run.seen.withLock { $0.error?.contains("No such file") == true })
    }

    @Test func stdinReadsToTheEnd() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        let run = SourceRun(StdinSource(fd: fds[0]), SourceOptions())
        let text = eventLine("a", 1) + "\n" + eventLine("b", 2)
        _ = text.withCString { write(fds[1], $0, strlen($0)) }
        close(fds[1])
        #expect(run.join())
        close(fds[0])
        #expect(run.messages == [eventLine("a", 1), eventLine("b", 2)])
        #expect(run.seen.withLock { $0.backlogDone })
    }

    @Test func fileSinkWritesWhatFileSourceReads() throws {
        let dir = temporaryDirectory()
        let path = dir + "/out.log"
        let sink = try FileSink(path: path)
        for i in 0 ..< 100 { try sink.publish(Array(eventLine("s", i).utf8), senderID: "s") }
        try sink.flush()
        sink.close()
        let run = SourceRun(FileSource(path: path), SourceOptions(start: .beginning, exitAtEnd: true))
        #expect(run.join())
        #expect(run.messages == (0 ..< 100).map { eventLine("s", $0) })
    }
}
