// The benchmark harness is not a test (speed is never asserted here), but it must keep
// working: every row runs once on a few thousand events against the debug binary, and the
// harness checks each command's output (a broken command cannot "win") and exits non-zero
// when a check fails.

import Foundation
import Glibc
import Testing

@Suite(.serialized) struct BenchSmokeTests {
    @Test func everyRowRunsAndItsOutputIsChecked() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        guard (try? runTool(["tmux", "-V"]).status) == 0, (try? runTool(["jq", "--version"]).status) == 0 else {
            Issue.record("make test-deps installs tmux and jq, which the bench needs")
            return
        }
        let dir = tempDir()
        let report = dir + "/bench.md"
        let logPath = dir + "/bench.log"
        let log = open(logPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        defer { close(log) }
        let pid = try spawn(["python3", root + "/bench/run.py", "--events", "3000", "--rounds", "1",
                             "--earshot", earshotBinary, "--data-dir", dir + "/data", "--out", report,
                             "--flood-seconds", "5", "--flood-rate", "500", "--memory-rounds", "1",
                             "--startup-runs", "2"], output: log)
        let status = reap(pid, timeout: 600)
        let output = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        #expect(status == 0, "bench exited \(status):\n\(output)")
        let text = (try? String(contentsOfFile: report, encoding: .utf8)) ?? ""
        let rows = try runTool(["python3", root + "/bench/run.py", "--list"]).output
            .split(separator: "\n").compactMap { $0.split(separator: ":").first.map(String.init) }
        #expect(rows.count >= 6, "\(rows)")
        for row in rows {
            #expect(text.contains("<!-- row \(row) begin -->"), "no section for \(row)")
        }
        #expect(!text.contains("CHECK FAILED"), "\(text)")
        #expect(text.contains("Checked first:"))
    }
}
