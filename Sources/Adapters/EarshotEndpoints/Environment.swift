// `${VAR}` in endpoints.yml, replaced the way Rasa does it.
//
// Rasa registers an implicit YAML resolver `!env_var` for the pattern `^(.*)\$\{(.*)\}(.*)$`
// and expands matching values with Python's `os.path.expandvars`. Consequences kept here:
//   - only *plain* (unquoted) scalars are expanded: implicit resolvers never see quoted ones;
//   - once a value qualifies, `$NAME` (without braces) in it is expanded too;
//   - unset variables are left in place by expandvars, and Rasa then refuses the value if
//     any `$` remains;
//   - the result is always a string (`port: ${PORT}` gives "5672", not 5672).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

enum EnvironmentExpansion {
    /// The variables of this process.
    static func processEnvironment() -> [String: String] {
        var out: [String: String] = [:]
        let base: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = environ
        guard var p = base else { return out }
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") { out[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
            p += 1
        }
        return out
    }

    /// Whether Rasa's `!env_var` resolver claims this text: a `${` followed later by `}`, on one
    /// line (the pattern's `.` does not cross a newline; a single trailing newline is allowed).
    static func isCandidate(_ text: String) -> Bool {
        var body = Substring(text)
        if body.hasSuffix("\n") { body = body.dropLast() }
        guard !body.contains("\n"), let open = body.firstRange(of: "${") else { return false }
        return body[open.upperBound...].contains("}")
    }

    /// Python's `os.path.expandvars` (posix): `$name` and `${name}` are replaced when set, where
    /// `name` is `[A-Za-z0-9_]+` or, in braces, anything up to the first `}`. Unset ones stay as
    /// written and are returned in `unset`. Replacements are not expanded again.
    static func expand(_ text: String, environment: [String: String]) -> (text: String, unset: [String]) {
        guard text.contains("$") else { return (text, []) }
        let chars = Array(text.unicodeScalars)
        var out = String.UnicodeScalarView()
        var unset: [String] = []
        var i = 0
        func isWord(_ c: Unicode.Scalar) -> Bool {
            c.isASCII && (("a"..."z").contains(c) || ("A"..."Z").contains(c) || ("0"..."9").contains(c) || c == "_")
        }
        while i < chars.count {
            guard chars[i] == "$", i + 1 < chars.count else { out.append(chars[i]); i += 1; continue }
            var name = ""
            var end = i + 1                    // one past the reference
            if chars[i + 1] == "{" {
                guard let close = chars[(i + 2)...].firstIndex(of: "}") else { out.append(chars[i]); i += 1; continue }
                name = String(String.UnicodeScalarView(chars[(i + 2)..<close]))
                end = close + 1
            } else {
                while end < chars.count, isWord(chars[end]) { end += 1 }
                if end == i + 1 { out.append(chars[i]); i += 1; continue }
                name = String(String.UnicodeScalarView(chars[(i + 1)..<end]))
            }
            if let value = environment[name] {
                out.append(contentsOf: value.unicodeScalars)
            } else {
                if !unset.contains(name) { unset.append(name) }
                out.append(contentsOf: chars[i..<end])
            }
            i = end
        }
        return (String(out), unset)
    }
}
