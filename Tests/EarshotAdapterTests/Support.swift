import EarshotCore
import Foundation
import Synchronization
import Testing

/// Runs a source on its own thread and records what it reports.
final class SourceRun: @unchecked Sendable {
    struct Seen {
        var messages: [(String, SourcePosition)] = []
        var states: [SourceState] = []
        var notices: [String] = []
        var backlogDone = false
        var error: String?
        var finished = false
    }

    let seen = Mutex(Seen())
    let stop = StopToken()
    private let done = DispatchSemaphore(value: 0)

    init(_ source: MessageSource, _ options: SourceOptions) {
        let t = Thread { [self] in
            do {
                try source.run(options: options, stop: stop) { ev in
                    self.seen.withLock { s in
                        switch ev {
                        case let .messages(b):
                            for i in 0 ..< b.count {
                                s.messages.append((String(decoding: b.message(i), as: UTF8.self), b.positions[i]))
                            }
                        case let .state(st): s.states.append(st)
                        case let .notice(n): s.notices.append(n)
                        case .backlogDone: s.backlogDone = true
                        }
                    }
                }
            } catch {
                self.seen.withLock { $0.error = "\(error)" }
            }
            self.seen.withLock { $0.finished = true }
            self.done.signal()
        }
        t.start()
    }

    var messages: [String] { seen.withLock { $0.messages.map(\.0) } }
    var positions: [SourcePosition] { seen.withLock { $0.messages.map(\.1) } }

    /// Waits until `cond` holds (polling), up to `timeout` seconds. Returns whether it held.
    @discardableResult
    func wait(timeout: Double = 15, _ cond: (Seen) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if seen.withLock({ cond($0) }) { return true }
            usleep(10_000)
        }
        return seen.withLock { cond($0) }
    }

    func waitForCount(_ n: Int, timeout: Double = 15) -> Bool { wait(timeout: timeout) { $0.messages.count >= n } }

    /// Stops the source and waits for its thread to end.
    func finish(timeout: Double = 10) {
        stop.stop()
        _ = done.wait(timeout: .now() + timeout)
    }

    /// Waits for a source that ends by itself (exit at end, end of stdin).
    func join(timeout: Double = 30) -> Bool {
        done.wait(timeout: .now() + timeout) == .success
    }
}

/// A fresh temporary directory for one test.
func temporaryDirectory(_ name: String = #function) -> String {
    let safe = name.filter { $0.isLetter || $0.isNumber }
    let dir = NSTemporaryDirectory() + "earshot-tests-\(safe)-\(getpid())-\(UInt32.random(in: 0 ... .max))"
    try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
}

func appendText(_ path: String, _ text: String) {
    let fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o644)
    precondition(fd >= 0)
    _ = text.withCString { write(fd, $0, strlen($0)) }
    close(fd)
}

/// One Rasa-style event line.
func eventLine(_ sender: String, _ n: Int, type: String = "user") -> String {
    #"{"sender_id": "\#(sender)", "event": "\#(type)", "timestamp": \#(1700000000 + n).5, "text": "message \#(n)"}"#
}

/// Runs a program to completion, returning its exit status and output (pipes drained first).
@discardableResult
func runProcess(_ args: [String], stdin: Data? = nil, environment: [String: String]? = nil) throws -> (status: Int32, stdout: String, stderr: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = args
    if let environment { p.environment = environment }
    let out = Pipe(), err = Pipe(), inp = Pipe()
    p.standardOutput = out
    p.standardError = err
    p.standardInput = inp
    try p.run()
    if let stdin { inp.fileHandleForWriting.write(stdin) }
    try inp.fileHandleForWriting.close()
    let errData = Mutex(Data())
    let t = Thread { errData.withLock { $0 = err.fileHandleForReading.readDataToEndOfFile() } }
    t.start()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    while !errData.withLock({ _ in t.isFinished }) { usleep(1000) }
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), errData.withLock { String(decoding: $0, as: UTF8.self) })
}
