#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import EarshotCore

private func useUTC() {
    setenv("TZ", "UTC", 1)
    tzset()
}

/// 2025-04-19T06:33:14Z, the time of the real 3.x samples.
private let t0: Double = 1745044394

@Suite struct TimeTests {
    // MARK: parseISO8601 (explicit offsets: independent of TZ)

    static let isoCases: [(String, Double)] = [
        ("2025-04-19T06:33:14Z", t0),
        ("2025-04-19T06:33:14z", t0),
        ("2025-04-19t06:33:14Z", t0),
        ("2025-04-19 06:33:14Z", t0),                 // space separator
        ("2025-04-19T08:33:14+02:00", t0),
        ("2025-04-19T08:33:14+0200", t0),
        ("2025-04-19T08:33:14+02", t0),
        ("2025-04-19T01:03:14-0530", t0),
        ("2025-04-19T01:03:14-05:30", t0),
        ("2025-04-18T23:33:14-07:00", t0),             // previous day in the local calendar
        ("2025-04-19T06:33:14.143Z", t0 + 0.143),
        ("2025-04-19T06:33:14,5Z", t0 + 0.5),
        ("2025-04-19T06:33:14.1430557Z", t0 + 0.1430557),
        ("2025-04-19T06:33:14.000000000001Z", t0),     // digits past the ninth are ignored
        ("2025-04-19T08:33:14.25+02:00", t0 + 0.25),
        ("2025-04-19T06:33Z", t0 - 14),                // no seconds
        ("1970-01-01T00:00:00Z", 0),
        ("2024-02-29T12:00:00Z", 1709208000),          // leap day
        ("2000-01-01T00:00:00+00:00", 946684800),
    ]

    @Test(arguments: isoCases)
    func parseISO8601(_ c: (String, Double)) throws {
        let got = try #require(TimeParsing.parseISO8601(c.0), "\(c.0)")
        #expect(abs(got - c.1) < 1e-6, "\(c.0) → \(got), expected \(c.1)")
    }

    @Test(arguments: [
        "", "2025", "2025-04", "2025-4-19", "25-04-19", "2025/04/19", "19.04.2025", "abcd-ef-gh",
        "2025-13-01", "2025-00-10", "2025-04-00", "2025-04-32",
        "2025-04-19T", "2025-04-19T06", "2025-04-19T6:33", "2025-04-19T06:3", "2025-04-19T24:00:00Z",
        "2025-04-19T06:60Z", "2025-04-19T06:33:61Z", "2025-04-19T06:33:1Z", "2025-04-19T06:33:14.Z",
        "2025-04-19T06:33:14+", "2025-04-19T06:33:14+2", "2025-04-19T06:33:14+02:0", "2025-04-19T06:33:14Zjunk",
        "2025-04-19T06:33:14 Z", "2025-04-19X06:33:14", "2025-04-19T06:33:14ZZ", " 2025-04-19", "2025-04-19 ",
        "1745044394", "now",
    ])
    func parseISO8601Invalid(_ text: String) {
        #expect(TimeParsing.parseISO8601(text) == nil, "\(text)")
    }

    // MARK: parseDuration

    static let durations: [(String, Double)] = [
        ("90s", 90), ("15m", 900), ("2h", 7200), ("1d", 86400), ("1w", 604800),
        ("1h30m", 5400), ("1m30s", 90), ("1d2h3m4s", 93784), ("500ms", 0.5), ("1s500ms", 1.5),
        ("1.5h", 5400), ("0s", 0), ("10m5s", 605),
    ]

    @Test(arguments: durations)
    func parseDuration(_ c: (String, Double)) throws {
        let got = try #require(TimeParsing.parseDuration(c.0), "\(c.0)")
        #expect(abs(got - c.1) < 1e-9, "\(c.0) → \(got)")
    }

    @Test(arguments: ["", "90", "s", "ms", "h1", "1x", "1h30", "-5m", "+5m", "5 m", " 5m", "5m ", "1..2s", "1y", "5M", "1.2.3h"])
    func parseDurationInvalid(_ text: String) {
        #expect(TimeParsing.parseDuration(text) == nil, "\(text)")
    }

    // MARK: parseSince

    @Test func parseSinceUnixSeconds() {
        #expect(TimeParsing.parseSince("1745044394", now: 0) == 1745044394)
        #expect(TimeParsing.parseSince("1745044394.5", now: 0) == 1745044394.5)
        #expect(TimeParsing.parseSince("0", now: 99) == 0)
    }

    @Test func parseSinceDurationIsRelativeToNow() {
        let now = 1_745_050_000.25
        #expect(TimeParsing.parseSince("90s", now: now) == now - 90)
        #expect(TimeParsing.parseSince("15m", now: now) == now - 900)
        #expect(TimeParsing.parseSince("2h", now: now) == now - 7200)
        #expect(TimeParsing.parseSince("1d", now: now) == now - 86400)
        #expect(TimeParsing.parseSince("1h30m", now: now) == now - 5400)
        #expect(TimeParsing.parseSince("500ms", now: now) == now - 0.5)
    }

    @Test func parseSinceISO() {
        #expect(TimeParsing.parseSince("2025-04-19T06:33:14Z", now: 0) == t0)
        #expect(TimeParsing.parseSince("2025-04-19T08:33:14+02:00", now: 0) == t0)
    }

    @Test(arguments: ["", "yesterday", "-1", "1h30", "2025-13-01", "1e9", "12:00"])
    func parseSinceInvalid(_ text: String) {
        #expect(TimeParsing.parseSince(text, now: 1000) == nil, "\(text)")
    }

    @Test func nowIsPlausible() {
        let n = TimeParsing.now()
        #expect(n > 1_700_000_000)
        #expect(n < 4_000_000_000)
        #expect(n.isFinite)
    }

    // MARK: local time (TZ): all in one serialized suite

    @Suite(.serialized) struct LocalTime {
        @Test func formatUTC() {
            useUTC()
            #expect(TimeParsing.format(t0) == "2025-04-19 06:33:14.000")
            #expect(TimeParsing.format(1745044394.1430557) == "2025-04-19 06:33:14.143")
            #expect(TimeParsing.format(0) == "1970-01-01 00:00:00.000")
            #expect(TimeParsing.format(946684800) == "2000-01-01 00:00:00.000")
            #expect(TimeParsing.format(1709208000.05) == "2024-02-29 12:00:00.050")
            #expect(TimeParsing.format(1709208000.007) == "2024-02-29 12:00:00.007")
        }

        @Test func formatCutsMilliseconds() {
            useUTC()
            // 1745044400.6 is 1745044400.5999999... in binary: still .600.
            #expect(TimeParsing.format(1745044400.6) == "2025-04-19 06:33:20.600")
            // Cut, not rounded: .3766 is .376.
            #expect(TimeParsing.format(1745044395.3766496) == "2025-04-19 06:33:15.376")
            #expect(TimeParsing.format(1745044394.9999) == "2025-04-19 06:33:14.999")
            #expect(TimeParsing.format(1745044394.9996) == "2025-04-19 06:33:14.999")  // never rolls into the next second
            #expect(TimeParsing.format(1745044394.001) == "2025-04-19 06:33:14.001")
            #expect(TimeParsing.format(1745044394.1) == "2025-04-19 06:33:14.100")
            #expect(TimeParsing.format(1745044394.7) == "2025-04-19 06:33:14.700")
        }

        @Test func formatBeforeTheEpoch() {
            useUTC()
            #expect(TimeParsing.format(-0.5) == "1969-12-31 23:59:59.500")
            #expect(TimeParsing.format(-1) == "1969-12-31 23:59:59.000")
            #expect(TimeParsing.format(-86400) == "1969-12-31 00:00:00.000")
        }

        @Test func formatOutOfRange() {
            useUTC()
            let bad = "????-??-?? ??:??:??.???"
            #expect(TimeParsing.format(.nan) == bad)
            #expect(TimeParsing.format(.infinity) == bad)
            #expect(TimeParsing.format(-.infinity) == bad)
            #expect(TimeParsing.format(1e11) == bad)
            #expect(TimeParsing.format(-1e12) == bad)
        }

        @Test func parseWithoutOffsetIsLocalTime() throws {
            useUTC()
            #expect(TimeParsing.parseISO8601("2025-04-19") == 1745020800)        // date only: local midnight
            #expect(TimeParsing.parseISO8601("2025-04-19T06:33:14") == t0)
            #expect(TimeParsing.parseISO8601("2025-04-19 06:33:14.5") == t0 + 0.5)
            #expect(TimeParsing.parseSince("2025-04-19", now: 0) == 1745020800)
        }

        @Test func formatAndParseHonourTZ() {
            // A POSIX TZ string needs no tzdata: UTC+05:30, no DST.
            setenv("TZ", "IST-5:30", 1)
            tzset()
            defer { useUTC() }
            #expect(TimeParsing.format(t0 + 0.143) == "2025-04-19 12:03:14.143")
            #expect(TimeParsing.parseISO8601("2025-04-19T12:03:14") == t0)
            #expect(TimeParsing.parseISO8601("2025-04-19") == 1_745_001_000)  // 1745020800 - 5.5 h
            // An explicit offset does not care about TZ.
            #expect(TimeParsing.parseISO8601("2025-04-19T06:33:14Z") == t0)
        }
    }
}
