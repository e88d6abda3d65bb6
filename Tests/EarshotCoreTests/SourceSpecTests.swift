import Testing
@testable import EarshotCore

private func parseError(_ text: String) -> String? {
    do {
        let spec = try SourceSpec.parse(text)
        Issue.record("expected an error for \(text), got \(spec)")
        return nil
    } catch let e as SourceSpecError {
        return e.description
    } catch {
        Issue.record("unexpected error type \(error)")
        return nil
    }
}

private func kafka(_ text: String) throws -> KafkaSpec? {
    if case let .kafka(k) = try SourceSpec.parse(text) { return k }
    Issue.record("\(text) is not a kafka spec")
    return nil
}

private func amqp(_ text: String) throws -> AMQPSpec? {
    if case let .amqp(a) = try SourceSpec.parse(text) { return a }
    Issue.record("\(text) is not an amqp spec")
    return nil
}

private func postgres(_ text: String) throws -> BrokerURL? {
    if case let .postgresql(u) = try SourceSpec.parse(text) { return u }
    Issue.record("\(text) is not a postgresql spec")
    return nil
}

@Suite struct SourceSpecTests {
    // MARK: files

    @Test func stdin() throws {
        #expect(try SourceSpec.parse("-") == .stdin)
        #expect(SourceSpec.stdin.label == "stdin")
    }

    @Test(arguments: ["events.log", "./logs/events.log", "../x.jsonl", "/var/log/rasa/events.log", "/tmp/a b.log", "--", "-x"])
    func plainPathsAreFiles(_ path: String) throws {
        #expect(try SourceSpec.parse(path) == .file(path: path))
        #expect(SourceSpec.file(path: path).label == path)
    }

    @Test func fileURL() throws {
        #expect(try SourceSpec.parse("file:///var/log/events.log") == .file(path: "/var/log/events.log"))
        #expect(try SourceSpec.parse("file:///tmp/a%20b.log") == .file(path: "/tmp/a b.log"))
        #expect(try SourceSpec.parse("FILE:///x") == .file(path: "/x"))
    }

    @Test func relativeFileURLIsAnError() {
        #expect(parseError("file://relative.log") == "file URL needs an absolute path: file:///path/to/events.log")
        #expect(parseError("file://") == "file URL needs an absolute path: file:///path/to/events.log")
    }

    @Test func emptyIsAnError() {
        #expect(parseError("") == "empty SOURCE")
    }

    @Test func sqlite() throws {
        #expect(try SourceSpec.parse("sqlite:///tmp/x.db") == .sqlite(path: "/tmp/x.db"))
        #expect(try SourceSpec.parse("sqlite:////tmp/x.db") == .sqlite(path: "/tmp/x.db"))
        #expect(try SourceSpec.parse("sqlite:///tmp/my%20db.sqlite") == .sqlite(path: "/tmp/my db.sqlite"))
        #expect(try SourceSpec.parse("sqlite://rasa.db") == .sqlite(path: "rasa.db"))
        #expect(SourceSpec.sqlite(path: "/tmp/x.db").label == "sqlite:///tmp/x.db")
        #expect(parseError("sqlite://") == "sqlite URL needs a path: sqlite:///path/to/events.db")
        #expect(parseError("sqlite:///") == "sqlite URL needs a path: sqlite:///path/to/events.db")
    }

    // MARK: kafka

    @Test func kafkaOneBroker() throws {
        let k = try kafka("kafka://h:9092/topic")
        #expect(k == KafkaSpec(brokers: ["h:9092"], topic: "topic"))
        #expect(k?.groupID == nil)
        #expect(k?.saslUsername == nil)
        #expect(try SourceSpec.parse("kafka://h:9092/topic").label == "kafka://h:9092/topic")
    }

    @Test func kafkaSeveralBrokers() throws {
        let k = try kafka("kafka://h1:9092,h2:9093/t")
        #expect(k?.brokers == ["h1:9092", "h2:9093"])
        #expect(k?.topic == "t")
        #expect(try SourceSpec.parse("kafka://h1:9092,h2:9093/t").label == "kafka://h1:9092,h2:9093/t")
    }

    @Test(arguments: ["kafka://h:9092", "kafka://h:9092/", "KAFKA://h:9092"])
    func kafkaDefaultTopic(_ url: String) throws {
        let k = try kafka(url)
        #expect(k?.topic == "rasa_core_events")
        #expect(k?.brokers == ["h:9092"])
    }

    @Test func kafkaGroupAndSASL() throws {
        let k = try kafka("kafka://alice:s3cret@h:9092/events?group=earshot")
        #expect(k?.brokers == ["h:9092"])
        #expect(k?.topic == "events")
        #expect(k?.groupID == "earshot")
        #expect(k?.saslUsername == "alice")
        #expect(k?.saslPassword == "s3cret")
    }

    @Test func kafkaQueryWithoutTopic() throws {
        // The query belongs to the URL, not to the last broker.
        let k = try kafka("kafka://h:9092?group=g")
        #expect(k?.brokers == ["h:9092"])
        #expect(k?.topic == "rasa_core_events")
        #expect(k?.groupID == "g")
        #expect(try SourceSpec.parse("kafka://h:9092?group=g").label == "kafka://h:9092/rasa_core_events")
    }

    @Test func kafkaIPv6() throws {
        let k = try kafka("kafka://[::1]:9092/t")
        #expect(k?.brokers == ["[::1]:9092"])
        #expect(k?.topic == "t")
    }

    // MARK: amqp

    @Test func amqpFull() throws {
        let a = try amqp("amqp://user:p%40ss@host:5672/%2F?exchange=ex")
        #expect(a?.url == BrokerURL(scheme: "amqp", user: "user", password: "p@ss", host: "host", port: 5672, path: "/",
                                    query: [("exchange", "ex")]))
        #expect(a?.exchange == "ex")
        #expect(a?.queue == nil)
        #expect(a?.url.queryValue("exchange") == "ex")
        #expect(a?.url.queryValue("queue") == nil)
    }

    @Test func amqpQueueAndDefaults() throws {
        let q = try amqp("amqp://guest:guest@localhost:5672/?queue=q")
        #expect(q?.queue == "q")
        #expect(q?.exchange == "rasa-exchange")
        #expect(q?.url.path == "")
        let d = try amqp("amqp://localhost")
        #expect(d?.url == BrokerURL(scheme: "amqp", host: "localhost"))
        #expect(d?.exchange == "rasa-exchange")
        #expect(d?.queue == nil)
        #expect(d?.rasaQueues == [])
        #expect(try SourceSpec.parse("amqp://localhost").label == "amqp://localhost?exchange=rasa-exchange")
        #expect(try SourceSpec.parse("amqp://guest:guest@localhost:5672/?queue=q").label == "amqp://guest:***@localhost:5672?queue=q")
    }

    @Test func amqps() throws {
        let a = try amqp("amqps://u:pw@rabbit.example.com:5671/prod?exchange=rasa")
        #expect(a?.url.scheme == "amqps")
        #expect(a?.url.host == "rabbit.example.com")
        #expect(a?.url.port == 5671)
        #expect(a?.url.path == "prod")
        #expect(a?.exchange == "rasa")
        #expect(try SourceSpec.parse("amqps://u:pw@rabbit.example.com:5671/prod?exchange=rasa").label
            == "amqps://u:***@rabbit.example.com:5671/prod?exchange=rasa")
    }

    @Test func ipv6Host() throws {
        let a = try amqp("amqp://guest:guest@[::1]:5672/vh")
        #expect(a?.url.host == "::1")
        #expect(a?.url.port == 5672)
        #expect(a?.url.path == "vh")
        #expect(a?.url.redacted == "amqp://guest:***@[::1]:5672/vh")
        let noPort = try amqp("amqp://[fe80::1]/")
        #expect(noPort?.url.host == "fe80::1")
        #expect(noPort?.url.port == nil)
        #expect(noPort?.url.redacted == "amqp://[fe80::1]")
        let pg = try postgres("postgresql://u:p@[2001:db8::5]:5432/db")
        #expect(pg?.host == "2001:db8::5")
        #expect(pg?.port == 5432)
    }

    // MARK: postgresql

    @Test func postgresql() throws {
        let u = try postgres("postgresql://u:p@h:5432/db")
        #expect(u == BrokerURL(scheme: "postgresql", user: "u", password: "p", host: "h", port: 5432, path: "db"))
        #expect(try SourceSpec.parse("postgresql://u:p@h:5432/db").label == "postgresql://u:***@h:5432/db")
        let n = try postgres("postgresql://db.internal/rasa")
        #expect(n == BrokerURL(scheme: "postgresql", host: "db.internal", path: "rasa"))
    }

    @Test func postgresAlias() throws {
        let u = try postgres("postgres://u:p@h:5432/db")
        #expect(u?.scheme == "postgres")
        #expect(u?.user == "u")
        #expect(u?.password == "p")
        #expect(u?.host == "h")
        #expect(u?.port == 5432)
        #expect(u?.path == "db")
        #expect(try SourceSpec.parse("POSTGRES://u:p@h:5432/db").label == "postgres://u:***@h:5432/db")
    }

    // MARK: errors

    @Test(arguments: [
        "amqp://h:99999/", "amqp://h:0/", "amqp://h:abc/", "amqp://h:-1/", "amqp://u:s3cret@h:bad/",
        "kafka://h:x/t", "kafka://h:65536/t", "postgresql://u:p@h:70000/db", "postgresql://u:p@h:54x2/db",
        "amqp://[::1]:abc/", "amqp://[::1]:99999/", "amqp://[::1]:0/",
    ])
    func badPort(_ url: String) {
        let e = parseError(url)
        #expect(e != nil)
        #expect(e?.contains("s3cret") != true)
    }

    @Test func badPortMessages() {
        #expect(parseError("kafka://h:x/t") == "cannot read Kafka URL; expected kafka://host:9092/topic")
        #expect(parseError("amqp://h:99999/") == "cannot read AMQP URL; expected amqp://user:pass@host:5672/vhost?exchange=rasa-exchange")
        #expect(parseError("postgresql://u:p@h:70000/db") == "cannot read PostgreSQL URL; expected postgresql://user:pass@host:5432/db")
        #expect(parseError("kafka:///topic") == "cannot read Kafka URL; expected kafka://host:9092/topic")
        #expect(parseError("amqp://") == "cannot read AMQP URL; expected amqp://user:pass@host:5672/vhost?exchange=rasa-exchange")
    }

    @Test func unknownScheme() {
        let expected = "unknown source scheme 'redis://'; use a file path, -, sqlite://, postgresql://, kafka://, amqp:// or amqps://"
        #expect(parseError("redis://h:6379") == expected)
        #expect(parseError("REDIS://h:6379") == expected)
        #expect(parseError("http://example.com/events")?.hasPrefix("unknown source scheme 'http://'") == true)
    }

    @Test func portBoundaries() throws {
        #expect(try amqp("amqp://h:1/")?.url.port == 1)
        #expect(try amqp("amqp://h:65535/")?.url.port == 65535)
        #expect(try amqp("amqp://h:/")?.url.port == nil)  // empty port: default
    }

    // MARK: secrets

    static let secretURLs: [(String, String)] = [
        ("amqp://user:s3cret@host:5672/vh?exchange=ex", "s3cret"),
        ("amqps://user:s3cret@host/", "s3cret"),
        ("amqp://user:s3cret@host:5672/%2F?queue=q", "s3cret"),
        ("amqp://user:p%40ss%3Aword@host:5672/", "p@ss:word"),
        ("amqp://user:p@ss:word@host:5672/", "p@ss:word"),
        ("amqp://user:p@ss:word@[::1]:5672/", "p@ss:word"),
        ("postgresql://rasa:s3cret@db:5432/rasa", "s3cret"),
        ("postgres://rasa:p@ss:word@db/rasa", "p@ss:word"),
        ("postgresql://rasa:p%40ss%3Aword@db:5432/rasa", "p@ss:word"),
        ("postgresql://rasa@db/rasa?password=s3cret", "s3cret"),
        ("kafka://alice:s3cret@h1:9092,h2:9092/t", "s3cret"),
        ("kafka://alice:p@ss:word@h:9092/t", "p@ss:word"),
        ("kafka://alice:p%40ss%3Aword@h:9092/t", "p@ss:word"),
    ]

    @Test(arguments: secretURLs)
    func labelNeverShowsThePassword(_ c: (String, String)) throws {
        let spec = try SourceSpec.parse(c.0)
        let label = spec.label
        #expect(!label.contains(c.1), "\(label)")
        #expect(!label.contains("s3cret"))
        #expect(!label.contains("p@ss"))
        #expect(!label.contains("p%40ss"))
        #expect(!label.contains("word"))
        switch spec {
        case let .amqp(a):
            #expect(a.url.password == c.1)
            #expect(!a.url.redacted.contains(c.1))
            #expect(a.url.redacted.contains(":***@"))
        case let .postgresql(u):
            #expect(!u.redacted.contains(c.1))
            if u.password != nil { #expect(u.password == c.1); #expect(u.redacted.contains(":***@")) }
        case let .kafka(k):
            #expect(k.saslPassword == c.1)
        default:
            Issue.record("unexpected spec \(spec)")
        }
    }

    @Test func redactedForms() {
        #expect(BrokerURL(scheme: "amqp", user: "u", password: "s3cret", host: "h", port: 5672, path: "v").redacted == "amqp://u:***@h:5672/v")
        #expect(BrokerURL(scheme: "amqp", user: "u", host: "h").redacted == "amqp://u@h")
        #expect(BrokerURL(scheme: "amqp", host: "h", query: [("password", "s3cret")]).redacted == "amqp://h")
        #expect(BrokerURL(scheme: "postgresql", user: "u", password: "", host: "::1", port: 1).redacted == "postgresql://u:***@[::1]:1")
    }

    @Test func brokerURLParse() {
        #expect(BrokerURL.parse("no scheme here") == nil)
        #expect(BrokerURL.parse("://host") == nil)
        #expect(BrokerURL.parse("bad scheme://host") == nil)
        let u = BrokerURL.parse("x+y://h?a=1&b=%20&c")
        #expect(u?.scheme == "x+y")
        #expect(u?.host == "h")
        #expect(u?.queryValue("a") == "1")
        #expect(u?.queryValue("b") == " ")
        #expect(u?.queryValue("c") == "")
        #expect(u?.queryValue("d") == nil)
    }

    // MARK: isLive

    @Test func isLive() throws {
        #expect(!SourceSpec.stdin.isLive)
        #expect(try !SourceSpec.parse("-").isLive)
        for s in ["events.log", "file:///x.log", "sqlite:///x.db", "kafka://h:9092/t", "amqp://h", "postgresql://h/db"] {
            #expect(try SourceSpec.parse(s).isLive, "\(s)")
        }
    }
}
