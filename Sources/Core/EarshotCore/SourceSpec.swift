// SOURCE arguments, parsed the same way by every front end.

#if canImport(Glibc)
import Glibc
#endif

/// A source or sink named by the user: a URL, a path, `-`, or a broker section of endpoints.yml.
public enum SourceSpec: Sendable, Equatable {
    /// Rasa's file broker: a JSON-lines file.
    case file(path: String)
    case stdin
    case sqlite(path: String)
    case postgresql(BrokerURL)
    case kafka(KafkaSpec)
    case amqp(AMQPSpec)

    /// A label safe for the screen and logs: never a password.
    public var label: String {
        switch self {
        case let .file(path): return path
        case .stdin: return "stdin"
        case let .sqlite(path): return "sqlite://\(path)"
        case let .postgresql(url): return url.redacted
        case let .kafka(k): return "kafka://\(k.brokers.joined(separator: ","))/\(k.topic)"
        case let .amqp(a):
            var s = a.url.redacted
            if let q = a.queue { s += "?queue=\(q)" } else { s += "?exchange=\(a.exchange)" }
            return s
        }
    }

    /// Whether a source keeps producing after its backlog (everything but stdin).
    public var isLive: Bool { self != .stdin }
}

public struct KafkaSpec: Sendable, Equatable {
    public var brokers: [String]
    public var topic: String
    /// Only when asked: by default no consumer group is joined.
    public var groupID: String?
    public var clientID: String?
    public var securityProtocol: String?
    public var saslMechanism: String?
    public var saslUsername: String?
    public var saslPassword: String?
    public var sslCAFile: String?
    public var sslCertFile: String?
    public var sslKeyFile: String?
    public var sslCheckHostname: Bool?
    public var partitionBySender: Bool

    public init(brokers: [String], topic: String) {
        self.brokers = brokers
        self.topic = topic
        self.partitionBySender = false
    }
}

public struct AMQPSpec: Sendable, Equatable {
    public var url: BrokerURL
    public var exchange: String
    /// A named queue to consume from (takes messages away from other readers); nil means a
    /// private, exclusive, auto-delete queue bound to the exchange.
    public var queue: String?
    /// Queues Rasa itself declares and binds (from endpoints.yml), kept for publishing.
    public var rasaQueues: [String]

    public init(url: BrokerURL, exchange: String = "rasa-exchange", queue: String? = nil, rasaQueues: [String] = []) {
        self.url = url
        self.exchange = exchange
        self.queue = queue
        self.rasaQueues = rasaQueues
    }
}

/// A `scheme://user:pass@host:port/path?query` URL, decoded. Knows how to hide its password.
public struct BrokerURL: Sendable, Equatable {
    public var scheme: String
    public var user: String?
    public var password: String?
    public var host: String
    public var port: Int?
    /// Path without the leading slash, percent-decoded.
    public var path: String
    public var query: [(String, String)]

    public init(scheme: String, user: String? = nil, password: String? = nil, host: String, port: Int? = nil, path: String = "", query: [(String, String)] = []) {
        self.scheme = scheme
        self.user = user
        self.password = password
        self.host = host
        self.port = port
        self.path = path
        self.query = query
    }

    public static func == (a: BrokerURL, b: BrokerURL) -> Bool {
        a.scheme == b.scheme && a.user == b.user && a.password == b.password && a.host == b.host
            && a.port == b.port && a.path == b.path && a.query.elementsEqual(b.query, by: { $0 == $1 })
    }

    public func queryValue(_ key: String) -> String? { query.first(where: { $0.0 == key })?.1 }

    /// The URL with the password replaced by `***`; the query is left out (it may hold secrets).
    public var redacted: String {
        var s = scheme + "://"
        if let user { s += user + (password != nil ? ":***" : "") + "@" }
        s += host.contains(":") ? "[\(host)]" : host
        if let port { s += ":\(port)" }
        if !path.isEmpty { s += "/" + path }
        return s
    }

    /// Parses a URL. Returns nil when it is not of the form `scheme://...`.
    public static func parse(_ text: String) -> BrokerURL? {
        guard let (rawScheme, afterScheme) = splitScheme(text) else { return nil }
        let scheme = rawScheme.lowercased()
        let schemeChars = scheme.unicodeScalars.allSatisfy { ($0 >= "a" && $0 <= "z") || ($0 >= "0" && $0 <= "9") || $0 == "+" || $0 == "-" || $0 == "." }
        guard !scheme.isEmpty, schemeChars else { return nil }
        var rest = Substring(afterScheme)
        var query: [(String, String)] = []
        if let q = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: q)...].split(separator: "&") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                query.append((percentDecode(kv[0]), kv.count > 1 ? percentDecode(kv[1]) : ""))
            }
            rest = rest[..<q]
        }
        // The user info ends at the last '@' (a password may hold an unencoded '/').
        var user: String?
        var password: String?
        var info: Substring?
        if let at = rest.lastIndex(of: "@") {
            info = rest[..<at]
            rest = rest[rest.index(after: at)...]
        }
        var authority = rest
        var path = Substring("")
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = rest[rest.index(after: slash)...]
        }
        if let info {
            if let colon = info.firstIndex(of: ":") {
                user = percentDecode(info[..<colon])
                password = percentDecode(info[info.index(after: colon)...])
            } else {
                user = percentDecode(info)
            }
        }
        var host = authority
        var port: Int?
        if authority.hasPrefix("["), let close = authority.firstIndex(of: "]") {
            host = authority[authority.index(after: authority.startIndex) ..< close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                guard let n = Int(after.dropFirst()), n > 0, n < 65536 else { return nil }
                port = n
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            let p = authority[authority.index(after: colon)...]
            if !p.isEmpty { guard let n = Int(p), n > 0, n < 65536 else { return nil }; port = n }
        }
        return BrokerURL(scheme: scheme, user: user, password: password, host: String(host), port: port,
                         path: percentDecode(path), query: query)
    }
}

/// Splits `scheme://rest` at the first "://"; nil when there is none.
func splitScheme(_ text: String) -> (String, String)? {
    let u = Array(text.utf8)
    guard u.count >= 3 else { return nil }
    for i in 0 ..< u.count - 2 where u[i] == 0x3A && u[i + 1] == 0x2F && u[i + 2] == 0x2F {
        return (String(decoding: u[..<i], as: UTF8.self), String(decoding: u[(i + 3)...], as: UTF8.self))
    }
    return nil
}

func percentDecode<S: StringProtocol>(_ s: S) -> String {
    guard s.contains("%") else { return String(s) }
    var out: [UInt8] = []
    var it = Array(s.utf8)[...]
    while let b = it.popFirst() {
        if b == UInt8(ascii: "%"), it.count >= 2, let h = hexValue(it[it.startIndex]), let l = hexValue(it[it.startIndex + 1]) {
            out.append(h << 4 | l)
            it = it.dropFirst(2)
        } else {
            out.append(b)
        }
    }
    return String(decoding: out, as: UTF8.self)
}

@inline(__always)
func hexValue(_ b: UInt8) -> UInt8? {
    switch b {
    case UInt8(ascii: "0") ... UInt8(ascii: "9"): return b - UInt8(ascii: "0")
    case UInt8(ascii: "a") ... UInt8(ascii: "f"): return b - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A") ... UInt8(ascii: "F"): return b - UInt8(ascii: "A") + 10
    default: return nil
    }
}

public enum SourceSpecError: Error, Equatable, CustomStringConvertible {
    case invalid(String)
    public var description: String {
        switch self { case let .invalid(m): return m }
    }
}

extension SourceSpec {
    /// Parses one SOURCE argument: `-`, a path, `file:///path`, `sqlite:///path`,
    /// `kafka://host:9092[,host2:9092]/topic`, `amqp[s]://user:pass@host:5672/vhost?exchange=X|queue=Q`,
    /// `postgresql://user:pass@host:5432/db`.
    public static func parse(_ text: String) throws -> SourceSpec {
        if text == "-" { return .stdin }
        if text.isEmpty { throw SourceSpecError.invalid("empty SOURCE") }
        guard let (rawScheme, rest) = splitScheme(text) else { return .file(path: text) }
        let scheme = rawScheme.lowercased()
        switch scheme {
        case "file":
            guard rest.hasPrefix("/") else { throw SourceSpecError.invalid("file URL needs an absolute path: file:///path/to/events.log") }
            return .file(path: percentDecode(rest))
        case "sqlite":
            // sqlite:///relative.db (SQLAlchemy style, three slashes) or sqlite:////abs/path.db;
            // sqlite:///abs/path.db is also taken as absolute when that is what exists... keep it simple:
            // everything after "sqlite://" is the path, so sqlite:///tmp/x.db is /tmp/x.db.
            guard !rest.isEmpty, rest != "/" else { throw SourceSpecError.invalid("sqlite URL needs a path: sqlite:///path/to/events.db") }
            var path = percentDecode(rest)
            if path.hasPrefix("//") { path.removeFirst() }
            return .sqlite(path: path)
        case "postgresql", "postgres":
            guard let url = BrokerURL.parse(text), !url.host.isEmpty else {
                throw SourceSpecError.invalid("cannot read PostgreSQL URL; expected postgresql://user:pass@host:5432/db")
            }
            return .postgresql(url)
        case "kafka":
            guard let url = BrokerURL.parse(text), !url.host.isEmpty else {
                throw SourceSpecError.invalid("cannot read Kafka URL; expected kafka://host:9092/topic")
            }
            // kafka://h1:9092,h2:9092/topic: the authority may list several brokers.
            let beforeQuery = rest.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
            let afterUser = beforeQuery.lastIndex(of: "@").map { beforeQuery[beforeQuery.index(after: $0)...] } ?? beforeQuery
            let hostPart = String(afterUser.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)[0])
            var k = KafkaSpec(brokers: hostPart.split(separator: ",").map(String.init),
                              topic: url.path.isEmpty ? "rasa_core_events" : url.path)
            k.groupID = url.queryValue("group")
            if let u = url.user { k.saslUsername = u; k.saslPassword = url.password }
            return .kafka(k)
        case "amqp", "amqps":
            guard let url = BrokerURL.parse(text), !url.host.isEmpty else {
                throw SourceSpecError.invalid("cannot read AMQP URL; expected amqp://user:pass@host:5672/vhost?exchange=rasa-exchange")
            }
            return .amqp(AMQPSpec(url: url, exchange: url.queryValue("exchange") ?? "rasa-exchange", queue: url.queryValue("queue")))
        default:
            throw SourceSpecError.invalid("unknown source scheme '\(scheme)://'; use a file path, -, sqlite://, postgresql://, kafka://, amqp:// or amqps://")
        }
    }
}

@inline(__always)
func sleepMilliseconds(_ ms: Int) {
    #if canImport(Glibc)
    usleep(useconds_t(ms * 1000))
    #endif
}
