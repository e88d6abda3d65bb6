// Timestamps: Rasa writes Unix seconds as floats; Mantle and users write ISO 8601.

#if canImport(Glibc)
import Glibc
#endif

public enum TimeParsing {
    /// `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS[.fff]]` with `T` or a space, then `Z`, `±HH:MM`,
    /// `±HHMM` or nothing (nothing means local time). Returns Unix seconds.
    public static func parseISO8601(_ text: String) -> Double? {
        let b = Array(text.utf8)
        var i = 0
        func num(_ n: Int) -> Int? {
            guard i + n <= b.count else { return nil }
            var v = 0
            for k in 0 ..< n {
                let d = b[i + k] &- 0x30
                guard d < 10 else { return nil }
                v = v * 10 + Int(d)
            }
            i += n
            return v
        }
        func take(_ c: UInt8) -> Bool {
            if i < b.count && b[i] == c { i += 1; return true }
            return false
        }
        guard let year = num(4), take(0x2D), let month = num(2), take(0x2D), let day = num(2),
              (1 ... 12).contains(month), day >= 1, day <= daysIn(month, year) else { return nil }
        var hour = 0, minute = 0, second = 0
        var frac = 0.0
        var offset: Int? = nil  // seconds east of UTC; nil = local time
        if i < b.count && (b[i] == 0x54 || b[i] == 0x20 || b[i] == 0x74) {
            i += 1
            guard let h = num(2), take(0x3A), let m = num(2), h < 24, m < 60 else { return nil }
            hour = h
            minute = m
            if take(0x3A) {
                guard let s = num(2), s <= 60 else { return nil }
                second = s
                if take(0x2E) || take(0x2C) {
                    var digits = 0.0
                    var scale = 1.0
                    let start = i
                    while i < b.count, b[i] &- 0x30 < 10 {
                        if i - start < 9 { digits = digits * 10 + Double(b[i] - 0x30); scale *= 10 }
                        i += 1
                    }
                    if i == start { return nil }
                    frac = digits / scale
                }
            }
        }
        if i < b.count {
            if b[i] == 0x5A || b[i] == 0x7A {
                i += 1
                offset = 0
            } else if b[i] == 0x2B || b[i] == 0x2D {
                let sign = b[i] == 0x2D ? -1 : 1
                i += 1
                guard let oh = num(2) else { return nil }
                _ = take(0x3A)
                let om = num(2) ?? 0
                offset = sign * (oh * 3600 + om * 60)
            }
        }
        guard i == b.count else { return nil }
        var t = tm()
        t.tm_year = Int32(year - 1900)
        t.tm_mon = Int32(month - 1)
        t.tm_mday = Int32(day)
        t.tm_hour = Int32(hour)
        t.tm_min = Int32(minute)
        t.tm_sec = Int32(second)
        t.tm_isdst = -1
        let secs: Int
        if let offset {
            secs = Int(timegm(&t)) - offset
        } else {
            secs = Int(mktime(&t))
        }
        return Double(secs) + frac
    }

    static func daysIn(_ month: Int, _ year: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// `--since`: an ISO 8601 time, Unix seconds, or a duration back from `now` such as
    /// `90s`, `15m`, `2h`, `1d`, `1h30m`.
    public static func parseSince(_ text: String, now: Double) -> Double? {
        if let d = Double(text), !text.isEmpty, text.allSatisfy({ $0.isNumber || $0 == "." }) { return d }
        if let d = parseDuration(text) { return now - d }
        return parseISO8601(text)
    }

    /// `90s`, `15m`, `2h`, `1d`, `1h30m`, `500ms` → seconds.
    public static func parseDuration(_ text: String) -> Double? {
        var total = 0.0
        var number = ""
        var sawUnit = false
        var chars = Array(text)[...]
        while let c = chars.first {
            chars = chars.dropFirst()
            if c.isNumber || c == "." {
                number.append(c)
                continue
            }
            guard let n = Double(number) else { return nil }
            number = ""
            switch c {
            case "s": total += n
            case "m":
                if chars.first == "s" { chars = chars.dropFirst(); total += n / 1000 } else { total += n * 60 }
            case "h": total += n * 3600
            case "d": total += n * 86400
            case "w": total += n * 7 * 86400
            default: return nil
            }
            sawUnit = true
        }
        return sawUnit && number.isEmpty ? total : nil
    }

    /// `2025-04-19 06:33:14.143` in local time (honours TZ).
    public static func format(_ ts: Double) -> String {
        guard ts.isFinite, abs(ts) < 1e11 else { return "????-??-?? ??:??:??.???" }
        // Milliseconds, cut (not rounded) like every log formatter; the microsecond of slack
        // keeps 1745044400.6 (1745044400.5999999 in binary) at .600.
        let total = Int64((ts * 1000 + 0.001).rounded(.down))
        var secs = time_t(total >= 0 ? total / 1000 : (total - 999) / 1000)
        let ms = Int(total - Int64(secs) * 1000)
        var t = tm()
        localtime_r(&secs, &t)
        let year = Int(t.tm_year) + 1900
        guard year >= 0 && year <= 9999 else {
            return "\(d4(year))-\(d2(t.tm_mon + 1))-\(d2(t.tm_mday)) \(d2(t.tm_hour)):\(d2(t.tm_min)):\(d2(t.tm_sec)).\(d3(ms))"
        }
        // Written digit by digit into one small string: this runs for every line of `tail`.
        return String(unsafeUninitializedCapacity: 23) { b in
            @inline(__always) func put(_ v: Int, _ at: Int, _ digits: Int) {
                var v = v
                for k in stride(from: at + digits - 1, through: at, by: -1) {
                    b[k] = UInt8(0x30 + v % 10)
                    v /= 10
                }
            }
            put(year, 0, 4); b[4] = 0x2D
            put(Int(t.tm_mon) + 1, 5, 2); b[7] = 0x2D
            put(Int(t.tm_mday), 8, 2); b[10] = 0x20
            put(Int(t.tm_hour), 11, 2); b[13] = 0x3A
            put(Int(t.tm_min), 14, 2); b[16] = 0x3A
            put(Int(t.tm_sec), 17, 2); b[19] = 0x2E
            put(ms, 20, 3)
            return 23
        }
    }

    /// Current time in Unix seconds.
    public static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    @inline(__always) static func d2<T: BinaryInteger>(_ v: T) -> String { v < 10 ? "0\(v)" : "\(v)" }
    @inline(__always) static func d3(_ v: Int) -> String { v < 10 ? "00\(v)" : v < 100 ? "0\(v)" : "\(v)" }
    @inline(__always) static func d4(_ v: Int) -> String { v < 1000 ? String(repeating: "0", count: 4 - String(v).count) + "\(v)" : "\(v)" }
}
