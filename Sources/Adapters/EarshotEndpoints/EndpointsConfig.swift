// The `event_broker` section of a Rasa endpoints.yml, read the way Rasa reads it, as a SourceSpec.
//
// Rasa's path: `read_endpoint_config(file, "event_broker")` loads the whole file (ruamel.yaml,
// YAML 1.2, `${VAR}` expanded, duplicate keys refused), returns nothing when the section is
// missing or empty, and builds an `EndpointConfig` whose `url` is the `url` key and whose
// `type` is `store_type` or `type`. `EventBroker.create` then picks the broker class:
// no type or `pika` → PikaEventBroker, `sql`, `file`, `kafka` (all case-insensitive), and
// anything else is taken as the module path of a custom class. Each class receives the
// remaining keys as keyword arguments; where Rasa would reject or ignore something, the code
// below says so in a warning rather than guessing silently.

import EarshotCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What Earshot learnt from an endpoints.yml.
public struct EndpointsConfig: Sendable, Equatable {
    /// Where to watch.
    public var spec: SourceSpec
    /// Things worth telling the user (unknown keys, values Rasa reads differently than they
    /// look, settings Earshot cannot honour), each prefixed with `FILE line N:`.
    public var warnings: [String]
    /// `pika`, `kafka`, `sql` or `file`: the broker class Rasa instantiates.
    public var brokerType: String
    /// Pika settings that AMQPSpec has no room for.
    public var rabbitMQ: RabbitMQOptions?
    /// Kafka settings that KafkaSpec has no room for.
    public var kafka: KafkaOptions?

    public init(spec: SourceSpec, warnings: [String] = [], brokerType: String,
                rabbitMQ: RabbitMQOptions? = nil, kafka: KafkaOptions? = nil) {
        self.spec = spec
        self.warnings = warnings
        self.brokerType = brokerType
        self.rabbitMQ = rabbitMQ
        self.kafka = kafka
    }
}

/// Pika broker settings beyond AMQPSpec, with Rasa's defaults.
public struct RabbitMQOptions: Sendable, Equatable {
    /// `connection_attempts` (Rasa: 20).
    public var connectionAttempts: Int = 20
    /// `retry_delay_in_seconds` (Rasa: 5).
    public var retryDelayInSeconds: Double = 5
    /// `raise_on_failure` (Rasa: false).
    public var raiseOnFailure: Bool = false
    /// `RABBITMQ_SSL_CLIENT_CERTIFICATE` and `RABBITMQ_SSL_CLIENT_KEY` from the environment. Rasa
    /// only reads TLS settings from there; with both set it connects with TLS and this client
    /// certificate.
    public var clientCertificate: String?
    public var clientKey: String?

    public init() {}
}

/// Kafka broker settings beyond KafkaSpec.
public struct KafkaOptions: Sendable, Equatable {
    /// `sasl_kerberos_service_name`, for SASL mechanism GSSAPI.
    public var saslKerberosServiceName: String?
    /// Rasa 1.x's `group_id`. Deliberately not copied to `KafkaSpec.groupID`: joining that group
    /// would take partitions, and so messages, away from its other members.
    public var rasaGroupID: String?

    public init() {}
}

public enum EndpointsError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(file: String, reason: String)
    case syntax(file: String, YAMLError)
    case noEventBroker(file: String)
    /// `${VAR}` with VAR unset. `value` is the scalar as written (password values reduced to
    /// their `${...}` references).
    case unsetVariables(file: String, line: Int, key: String, value: String, names: [String])
    /// A `type` that names a custom broker class (or a broker Earshot cannot read from).
    case customBroker(file: String, line: Int, type: String)
    case unsupportedDialect(file: String, line: Int, dialect: String)
    case invalid(file: String, line: Int, message: String)

    /// The line the error points at, when it points at one.
    public var line: Int? {
        switch self {
        case .unreadable, .noEventBroker: return nil
        case let .syntax(_, e): return e.line
        case let .unsetVariables(_, line, _, _, _), let .customBroker(_, line, _),
             let .unsupportedDialect(_, line, _), let .invalid(_, line, _):
            return line
        }
    }

    public var description: String {
        switch self {
        case let .unreadable(file, reason):
            return "cannot read \(file): \(reason)"
        case let .syntax(file, e):
            return "\(file) line \(e.line): \(e.problem)" + (e.context.map { " (\($0))" } ?? "")
        case let .noEventBroker(file):
            return "no event_broker section in \(file)"
        case let .unsetVariables(file, line, key, value, names):
            // Rasa's own wording, with the key added.
            return "\(file) line \(line): Error when trying to expand the environment variables in '\(value)' (key '\(key)'). "
                + "Please make sure to also set these environment variables: '\(names.joined(separator: "', '"))'."
        case let .customBroker(file, line, type):
            if type.lowercased() == "celery" {
                return "\(file) line \(line): event_broker type 'celery' hands events to Celery tasks; Earshot cannot watch it "
                    + "(it reads the pika, kafka, sql and file brokers)"
            }
            return "\(file) line \(line): event_broker type '\(type)' is a custom broker class; Earshot cannot watch custom brokers "
                + "(it reads the pika, kafka, sql and file brokers)"
        case let .unsupportedDialect(file, line, dialect):
            return "\(file) line \(line): SQL event_broker dialect '\(dialect)' is not supported: Earshot reads sqlite and postgresql"
        case let .invalid(file, line, message):
            return "\(file) line \(line): \(message)"
        }
    }
}

extension EndpointsConfig {
    /// The environment of this process, the default for `load` and `parse`.
    public static func processEnvironment() -> [String: String] {
        EnvironmentExpansion.processEnvironment()
    }

    /// Reads the `event_broker` section of the endpoints file at `path`. Messages name the
    /// file as `path` is written.
    public static func load(path: String, environment: [String: String] = processEnvironment()) throws(EndpointsError) -> EndpointsConfig {
        try parse(bytes: try readFile(path), file: path, environment: environment)
    }

    /// Reads the `event_broker` section of endpoints.yml text; `file` names it in messages.
    public static func parse(yaml: String, file: String = "endpoints.yml",
                             environment: [String: String] = processEnvironment()) throws(EndpointsError) -> EndpointsConfig {
        try parse(bytes: Array(yaml.utf8), file: file, environment: environment)
    }

    public static func parse(bytes: [UInt8], file: String = "endpoints.yml",
                             environment: [String: String] = processEnvironment()) throws(EndpointsError) -> EndpointsConfig {
        let document: YAMLDocument
        do { document = try YAMLReader.parse(bytes: bytes) } catch { throw .syntax(file: file, error) }

        var warnings: [String] = []
        if document.moreDocumentsFollow {
            warnings.append("\(file): holds more than one YAML document; Earshot reads the first (Rasa refuses such a file)")
        }
        let top: [YAMLEntry]
        switch document.root {
        case .null: top = []                                   // empty file: Rasa reads it as {}
        case let .mapping(entries, _): top = entries
        case let node:
            throw .invalid(file: file, line: node.line, message: "expected a mapping of endpoint sections (Rasa refuses this file)")
        }

        // Rasa expands variables in the whole file and fails on any unset one; Earshot only
        // needs event_broker, so elsewhere it warns.
        for entry in top where entry.key != "event_broker" {
            unsetVariableWarnings(entry.value, key: entry.key, file: file, environment: environment, into: &warnings)
        }

        guard let brokerEntry = top.first(where: { $0.key == "event_broker" }), !brokerEntry.value.isNull else {
            throw .noEventBroker(file: file)
        }
        guard case let .mapping(rawEntries, _) = brokerEntry.value else {
            throw .invalid(file: file, line: brokerEntry.line, message: "event_broker must be a mapping of settings")
        }
        var entries: [YAMLEntry] = []
        for e in rawEntries {
            let value = try expand(e.value, key: "event_broker.\(e.key)", file: file, environment: environment, warnings: &warnings)
            entries.append(YAMLEntry(key: e.key, line: e.line, value: value))
        }

        // `store_type` wins over `type`, as in EndpointConfig.
        let probe = Section(file: file, type: "", line: brokerEntry.line, entries: entries)
        let typeKey = probe.entry("store_type") != nil ? "store_type" : "type"
        let typeName = try probe.string(typeKey)
        let section: Section
        var config: EndpointsConfig
        switch typeName?.lowercased() {
        case nil, "pika":
            section = Section(file: file, type: "pika", line: brokerEntry.line, entries: entries)
            let (spec, options) = try pika(section, environment: environment)
            config = EndpointsConfig(spec: spec, brokerType: "pika", rabbitMQ: options)
        case "kafka":
            section = Section(file: file, type: "kafka", line: brokerEntry.line, entries: entries)
            let (spec, options) = try kafka(section)
            config = EndpointsConfig(spec: spec, brokerType: "kafka", kafka: options)
        case "sql":
            section = Section(file: file, type: "sql", line: brokerEntry.line, entries: entries)
            config = EndpointsConfig(spec: try sql(section), brokerType: "sql")
        case "file":
            section = Section(file: file, type: "file", line: brokerEntry.line, entries: entries)
            config = EndpointsConfig(spec: try fileBroker(section), brokerType: "file")
        case _:
            throw .customBroker(file: file, line: probe.entry(typeKey)?.line ?? brokerEntry.line, type: typeName ?? "")
        }
        section.warnUnknownKeys()
        config.warnings = warnings + section.warnings
        return config
    }
}

// MARK: - The brokers

extension EndpointsConfig {
    /// Keys EndpointConfig itself consumes (for HTTP endpoints); brokers never see them.
    fileprivate static let endpointConfigKeys: Set<String> = ["params", "headers", "basic_auth", "token", "token_name", "cafile"]

    /// PikaEventBroker(host=url, username, password, port=5672, queues, ..., exchange_name).
    private static func pika(_ s: Section, environment: [String: String]) throws(EndpointsError) -> (SourceSpec, RabbitMQOptions) {
        s.known = ["type", "store_type", "url", "port", "username", "password", "queues", "queue", "exchange_name",
                   "connection_attempts", "retry_delay_in_seconds", "raise_on_failure", "should_keep_unpublished_messages",
                   "log_level", "stream_pii", "anonymization_queues"]
        guard let url = try s.string("url"), !url.isEmpty else {
            throw s.fail(s.entry("url"), "a pika event_broker needs 'url' (the RabbitMQ host, or an amqp:// or amqps:// URL); Rasa cannot start without it")
        }
        var scheme = "amqp"
        var host = url
        var user = try s.string("username")
        var password = try s.string("password")
        var port = try s.port("port")
        var vhost = ""
        var query: [(String, String)] = []
        let isURL = url.contains("://")
        if isURL {
            guard let parsed = BrokerURL.parse(url), parsed.scheme == "amqp" || parsed.scheme == "amqps", !parsed.host.isEmpty else {
                throw s.fail(s.entry("url"), "'url' is neither a host name nor a valid amqp:// or amqps:// URL")
            }
            scheme = parsed.scheme
            host = parsed.host
            vhost = parsed.path
            query = parsed.query
            // Rasa writes `username:password@` into the URL from those keys; credentials already
            // in the URL serve when the keys are missing.
            if user == nil { user = parsed.user }
            if password == nil { password = parsed.password }
            if let urlPort = parsed.port {
                if let port, port != urlPort {
                    s.warn(s.entry("port"), "'port' \(port) differs from the port in 'url' (\(urlPort)); Earshot uses \(port)")
                } else {
                    port = urlPort
                }
            }
        }
        if s.entry("username") == nil || s.entry("password") == nil {
            s.warn(nil, "a pika event_broker without 'username' and 'password' does not start in Rasa (both are required)")
        }

        // Queues Rasa declares and binds: `queues` (a list, or one string), else Rasa's default.
        var queues = ["rasa_core_events"]
        if let list = try s.stringList("queues"), !list.isEmpty {
            queues = list
            if s.entry("queue") != nil { s.warn(s.entry("queue"), "'queue' is ignored because 'queues' is set") }
        } else if let legacy = try s.string("queue"), !legacy.isEmpty {
            queues = [legacy]
            s.warn(s.entry("queue"), "'queue' is the Rasa 1.x key: Rasa 2.0 and later ignore it and publish through 'rasa_core_events' unless 'queues' is set")
        }
        let exchange = try s.string("exchange_name") ?? "rasa-exchange"

        var options = RabbitMQOptions()
        options.connectionAttempts = try s.int("connection_attempts") ?? options.connectionAttempts
        options.retryDelayInSeconds = try s.double("retry_delay_in_seconds") ?? options.retryDelayInSeconds
        options.raiseOnFailure = try s.bool("raise_on_failure") ?? options.raiseOnFailure
        _ = try s.bool("should_keep_unpublished_messages")      // checked for the warnings only

        // TLS comes from the environment only (rasa/core/brokers/pika.py, _create_rabbitmq_ssl_options).
        let certificate = environment["RABBITMQ_SSL_CLIENT_CERTIFICATE"].flatMap { $0.isEmpty ? nil : $0 }
        let key = environment["RABBITMQ_SSL_CLIENT_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        if let certificate, let key {
            options.clientCertificate = certificate
            options.clientKey = key
            // With a plain host Rasa's client then builds an amqps connection; a URL keeps its scheme.
            if !isURL { scheme = "amqps" }
        } else if certificate != nil || key != nil {
            s.warn(nil, "only one of RABBITMQ_SSL_CLIENT_CERTIFICATE and RABBITMQ_SSL_CLIENT_KEY is set; Rasa needs both to use TLS")
        }
        if let ca = environment["RABBITMQ_SSL_CA_FILE"], !ca.isEmpty {
            s.warn(nil, "RABBITMQ_SSL_CA_FILE is set, but Rasa no longer reads it; give the CA file as the URL parameter 'cacertfile'")
        }

        let brokerURL = BrokerURL(scheme: scheme, user: user, password: password, host: host, port: port ?? 5672,
                                  path: vhost, query: query)
        return (.amqp(AMQPSpec(url: brokerURL, exchange: exchange, queue: nil, rasaQueues: queues)), options)
    }

    /// KafkaEventBroker(url, topic="rasa_core_events", client_id, partition_by_sender, sasl_*,
    /// ssl_*, security_protocol="SASL_PLAINTEXT", ...), with sasl_mechanism "PLAIN" by default.
    private static func kafka(_ s: Section) throws(EndpointsError) -> (SourceSpec, KafkaOptions) {
        s.known = ["type", "store_type", "url", "host", "topic", "client_id", "group_id", "partition_by_sender",
                   "security_protocol", "sasl_mechanism", "sasl_username", "sasl_password",
                   "sasl_plain_username", "sasl_plain_password", "ssl_cafile", "ssl_certfile", "ssl_keyfile",
                   "ssl_check_hostname", "sasl_kerberos_service_name", "loglevel", "convert_intent_id_to_string",
                   "stream_pii", "anonymization_topics"]
        var options = KafkaOptions()

        // Rasa checks the protocol (and mechanism) before it ever contacts a broker.
        let writtenProtocol = try s.string("security_protocol")
        let securityProtocol = writtenProtocol?.uppercased() ?? "SASL_PLAINTEXT"
        guard ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"].contains(securityProtocol) else {
            throw s.fail(s.entry("security_protocol"),
                         "invalid security_protocol '\(writtenProtocol ?? "")'; Rasa accepts PLAINTEXT, SSL, SASL_PLAINTEXT and SASL_SSL")
        }
        let usesSASL = securityProtocol.hasPrefix("SASL_")
        let usesSSL = securityProtocol.hasSuffix("SSL")
        var mechanism: String?
        if usesSASL {
            let written = try s.string("sasl_mechanism")
            let m = written?.uppercased() ?? "PLAIN"
            guard ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "GSSAPI", "OAUTHBEARER"].contains(m) else {
                throw s.fail(s.entry("sasl_mechanism"),
                             "invalid sasl_mechanism '\(written ?? "")'; Rasa accepts PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, GSSAPI and OAUTHBEARER")
            }
            mechanism = m
        }

        // Brokers: `url` (one "host:port", a comma-separated string or a list); `host` in Rasa 1.x.
        var brokers = try s.stringList("url") ?? []
        if let legacy = try s.stringList("host") {
            if brokers.isEmpty {
                brokers = legacy
                s.warn(s.entry("host"), "'host' is the Rasa 1.x key; newer Rasa reads the brokers from 'url'")
            } else {
                s.warn(s.entry("host"), "'host' is ignored because 'url' is set")
            }
        }
        brokers = brokers.flatMap { $0.split(separator: ",") }.map { trimmed($0) }.filter { !$0.isEmpty }
        guard !brokers.isEmpty else {
            throw s.fail(s.entry("url"), "a kafka event_broker needs 'url' (one host:port, or a list of them); Rasa cannot start without it")
        }

        var k = KafkaSpec(brokers: brokers, topic: try s.string("topic") ?? "rasa_core_events")
        k.clientID = try s.string("client_id")
        if let group = try s.string("group_id") {
            options.rasaGroupID = group
            s.warn(s.entry("group_id"), "'group_id' is not used: Earshot joins no consumer group unless asked, "
                + "since joining one takes messages away from its other members")
        }
        k.partitionBySender = try s.bool("partition_by_sender") ?? false
        k.securityProtocol = securityProtocol
        if writtenProtocol == nil {
            var user = try s.string("sasl_username")
            if user == nil { user = try s.string("sasl_plain_username") }
            s.warn(nil, "no 'security_protocol': Rasa then uses SASL_PLAINTEXT"
                + (user == nil ? ", which needs 'sasl_username' and 'sasl_password'" : ""))
        }

        // SASL credentials; `sasl_plain_*` are the Rasa 1.x names.
        var user = try s.string("sasl_username")
        var password = try s.string("sasl_password")
        for (old, new) in [("sasl_plain_username", "sasl_username"), ("sasl_plain_password", "sasl_password")] where s.entry(old) != nil {
            if s.entry(new) == nil {
                if new == "sasl_username" { user = try s.string(old) } else { password = try s.string(old) }
                s.warn(s.entry(old), "'\(old)' is the Rasa 1.x name; newer Rasa reads '\(new)'")
            } else {
                s.warn(s.entry(old), "'\(old)' is ignored because '\(new)' is set")
            }
        }
        if usesSASL {
            k.saslMechanism = mechanism
            k.saslUsername = user
            k.saslPassword = password
            options.saslKerberosServiceName = try s.string("sasl_kerberos_service_name")
        } else {
            for key in ["sasl_username", "sasl_password", "sasl_plain_username", "sasl_plain_password", "sasl_mechanism"] where s.entry(key) != nil {
                s.warn(s.entry(key), "'\(key)' is not used with security_protocol \(securityProtocol)")
            }
        }
        if usesSSL {
            k.sslCAFile = try s.string("ssl_cafile")
            k.sslCertFile = try s.string("ssl_certfile")
            k.sslKeyFile = try s.string("ssl_keyfile")
            k.sslCheckHostname = try s.bool("ssl_check_hostname") ?? false     // Rasa's default
        } else {
            for key in ["ssl_cafile", "ssl_certfile", "ssl_keyfile", "ssl_check_hostname"] where s.entry(key) != nil {
                s.warn(s.entry(key), "'\(key)' is not used with security_protocol \(securityProtocol)")
            }
        }
        _ = try s.bool("convert_intent_id_to_string")             // checked for the warnings only
        return (.kafka(k), options)
    }

    /// SQLEventBroker(dialect="sqlite", host=url, port, db="events.db", username, password);
    /// the URL comes from SQLTrackerStore.get_db_url.
    private static func sql(_ s: Section) throws(EndpointsError) -> SourceSpec {
        s.known = ["type", "store_type", "dialect", "url", "host", "port", "db", "username", "password", "query"]
        s.strict = true                                             // SQLEventBroker takes no **kwargs
        let dialectWritten = try s.string("dialect") ?? "sqlite"
        var host = try s.string("url")
        if let h = try s.string("host") {
            s.warn(s.entry("host"), "Rasa gives its SQL broker the host from 'url'; with a 'host' key as well it refuses to start")
            if host == nil { host = h }
        }
        if let host, host.contains("://") { return try sqlURL(host, s) }

        var port = try s.port("port")
        if let h = host, let split = splitHostPort(h) {
            host = split.host                                       // "localhost:5432": the port in the host wins
            port = split.port
        }
        let db = try s.string("db") ?? "events.db"
        let username = try s.string("username")
        let password = try s.string("password")
        let dialect = dialectWritten.lowercased()

        if dialect == "sqlite" || dialect.hasPrefix("sqlite+") {
            for key in ["url", "host", "port", "username", "password", "query"] where s.entry(key) != nil && !(s.entry(key)!.value.isNull) {
                s.warn(s.entry(key), "'\(key)' is not used with an sqlite database")
            }
            // SQLAlchemy's sqlite:///DB: a relative path is relative to the directory Rasa runs in.
            if db.isEmpty || db == ":memory:" {
                s.warn(s.entry("db"), "the sqlite database is in memory: it exists only inside the Rasa process, and Earshot cannot read it")
                return .sqlite(path: ":memory:")
            }
            return .sqlite(path: db)
        }
        if dialect == "postgresql" || dialect == "postgres" || dialect.hasPrefix("postgresql+") {
            var query: [(String, String)] = []
            if let q = s.entry("query") {
                switch q.value {
                case .null: break
                case let .mapping(pairs, _):
                    for pair in pairs {
                        guard case let .scalar(text, _, _) = pair.value else {
                            throw s.fail(q, "'query' values must be single values")
                        }
                        query.append((pair.key, text))
                    }
                default:
                    throw s.fail(q, "'query' must be a mapping of connection options")
                }
                s.warn(q, "Rasa's SQL event broker takes no 'query' (Rasa refuses to start with it); Earshot passes it to PostgreSQL")
            }
            return .postgresql(BrokerURL(scheme: "postgresql", user: username, password: password,
                                         host: host ?? "localhost", port: port ?? 5432, path: db, query: query))
        }
        throw .unsupportedDialect(file: s.file, line: s.entry("dialect")?.line ?? s.line, dialect: dialectWritten)
    }

    /// `url` holding a whole SQLAlchemy URL: Rasa uses it as it is and ignores the other keys.
    private static func sqlURL(_ text: String, _ s: Section) throws(EndpointsError) -> SourceSpec {
        for key in ["dialect", "port", "db", "username", "password", "query"] where s.entry(key) != nil {
            s.warn(s.entry(key), "'\(key)' is ignored because 'url' is a complete database URL")
        }
        let urlLine = s.entry("url")?.line ?? s.line
        let scheme = String(text[..<text.firstRange(of: "://")!.lowerBound]).lowercased()
        if scheme == "sqlite" || scheme.hasPrefix("sqlite+") {
            // sqlite:///relative.db, sqlite:////absolute.db, or sqlite:// (in memory).
            var path = Substring(text[text.firstRange(of: "://")!.upperBound...])
            if let q = path.firstIndex(of: "?") { path = path[..<q] }
            if path.hasPrefix("/") { path = path.dropFirst() }
            if path.isEmpty || path == ":memory:" {
                s.warn(s.entry("url"), "the sqlite database is in memory: it exists only inside the Rasa process, and Earshot cannot read it")
                return .sqlite(path: ":memory:")
            }
            return .sqlite(path: String(path))
        }
        if scheme == "postgresql" || scheme == "postgres" || scheme.hasPrefix("postgresql+") {
            guard var url = BrokerURL.parse(text) else {
                throw .invalid(file: s.file, line: urlLine, message: "'url' is not a valid PostgreSQL URL")
            }
            url.scheme = "postgresql"
            if url.host.isEmpty { url.host = "localhost" }
            if url.port == nil { url.port = 5432 }
            return .postgresql(url)
        }
        throw .unsupportedDialect(file: s.file, line: urlLine, dialect: scheme)
    }

    /// FileEventBroker(path="rasa_event.log").
    private static func fileBroker(_ s: Section) throws(EndpointsError) -> SourceSpec {
        s.known = ["type", "store_type", "path"]
        s.strict = true                                             // FileEventBroker takes no **kwargs
        let path = try s.string("path")
        // Rasa: `path or "rasa_event.log"`; a relative path is relative to where Rasa runs.
        return .file(path: (path?.isEmpty ?? true) ? "rasa_event.log" : path!)
    }
}

// MARK: - Environment variables

extension EndpointsConfig {
    /// Expands `${VAR}` in plain scalars as Rasa does; the result is a string (non-plain) scalar.
    private static func expand(_ node: YAMLNode, key: String, file: String, environment: [String: String],
                               warnings: inout [String]) throws(EndpointsError) -> YAMLNode {
        switch node {
        case let .scalar(text, plain, line):
            guard EnvironmentExpansion.isCandidate(text) else { return node }
            guard plain else {
                warnings.append("\(file) line \(line): '\(key)' is quoted, so Rasa does not replace the ${...} in it; the value is used as written")
                return node
            }
            let (result, unset) = EnvironmentExpansion.expand(text, environment: environment)
            if result.contains("$") {
                // Rasa refuses a value with any `$` left; name the variables, or the words, at fault.
                let names = unset.isEmpty ? result.split(separator: " ").filter { $0.contains("$") }.map(String.init) : unset
                throw .unsetVariables(file: file, line: line, key: key, value: shown(text, key: key), names: names)
            }
            return .scalar(result, plain: false, line: line)
        case let .sequence(items, line):
            var out: [YAMLNode] = []
            for (i, item) in items.enumerated() {
                out.append(try expand(item, key: "\(key)[\(i)]", file: file, environment: environment, warnings: &warnings))
            }
            return .sequence(out, line: line)
        case let .mapping(entries, line):
            var out: [YAMLEntry] = []
            for e in entries {
                let value = try expand(e.value, key: "\(key).\(e.key)", file: file, environment: environment, warnings: &warnings)
                out.append(YAMLEntry(key: e.key, line: e.line, value: value))
            }
            return .mapping(out, line: line)
        case .null:
            return node
        }
    }

    /// Warns about unset variables outside event_broker (where Rasa would refuse the file).
    private static func unsetVariableWarnings(_ node: YAMLNode, key: String, file: String, environment: [String: String],
                                              into warnings: inout [String]) {
        switch node {
        case let .scalar(text, plain, line):
            guard plain, EnvironmentExpansion.isCandidate(text) else { return }
            let (result, unset) = EnvironmentExpansion.expand(text, environment: environment)
            if result.contains("$") {
                let names = unset.isEmpty ? "" : " '\(unset.joined(separator: "', '"))'"
                warnings.append("\(file) line \(line): environment variable\(names) in '\(key)' is not set; Rasa refuses to read this file until it is")
            }
        case let .sequence(items, _):
            for (i, item) in items.enumerated() {
                unsetVariableWarnings(item, key: "\(key)[\(i)]", file: file, environment: environment, into: &warnings)
            }
        case let .mapping(entries, _):
            for e in entries {
                unsetVariableWarnings(e.value, key: "\(key).\(e.key)", file: file, environment: environment, into: &warnings)
            }
        case .null:
            break
        }
    }

    /// The value as an error message may show it: for password keys only the `${...}` references.
    private static func shown(_ text: String, key: String) -> String {
        guard key.lowercased().contains("password") else { return text }
        var refs: [String] = []
        var rest = Substring(text)
        while let open = rest.firstRange(of: "${"), let close = rest[open.upperBound...].firstIndex(of: "}") {
            refs.append(String(rest[open.lowerBound...close]))
            rest = rest[rest.index(after: close)...]
        }
        return refs.joined(separator: "…")
    }
}

// MARK: - Reading the section

/// The settings of one event_broker section, with typed access that follows Python's view of
/// the values, and the warnings that access produces.
private final class Section {
    let file: String
    /// `pika`, `kafka`, `sql` or `file`.
    let type: String
    /// Line of `event_broker:`.
    let line: Int
    let entries: [YAMLEntry]
    /// Keys the broker takes; others are reported by `warnUnknownKeys`.
    var known: Set<String> = []
    /// The broker class takes no other keyword arguments (Rasa fails on unknown keys).
    var strict = false
    private(set) var warnings: [String] = []

    init(file: String, type: String, line: Int, entries: [YAMLEntry]) {
        self.file = file
        self.type = type
        self.line = line
        self.entries = entries
    }

    func entry(_ key: String) -> YAMLEntry? { entries.first(where: { $0.key == key }) }

    func warn(_ entry: YAMLEntry?, _ message: String) {
        warnings.append("\(file) line \(entry?.line ?? line): \(message)")
    }

    func fail(_ entry: YAMLEntry?, _ message: String) -> EndpointsError {
        .invalid(file: file, line: entry?.line ?? line, message: message)
    }

    func warnUnknownKeys() {
        for e in entries where !known.contains(e.key) {
            let rasaRefuses = strict && !EndpointsConfig.endpointConfigKeys.contains(e.key)
            warn(e, "unknown key '\(e.key)' for a \(type) event_broker (ignored"
                + (rasaRefuses ? "; Rasa's \(type) broker does not accept it and will not start)" : ")"))
        }
    }

    /// A scalar's text; nil when absent or null.
    func string(_ key: String) throws(EndpointsError) -> String? {
        guard let e = entry(key) else { return nil }
        switch e.value {
        case .null: return nil
        case let .scalar(text, _, _): return text
        case .sequence, .mapping: throw fail(e, "'\(key)' must be a single value, not a list or mapping")
        }
    }

    /// A list of scalars, or one scalar as a list of one; nil when absent or null.
    func stringList(_ key: String) throws(EndpointsError) -> [String]? {
        guard let e = entry(key) else { return nil }
        switch e.value {
        case .null: return nil
        case let .scalar(text, _, _): return [text]
        case let .sequence(items, _):
            var out: [String] = []
            for item in items {
                switch item {
                case let .scalar(text, _, _): out.append(text)
                case .null: continue
                case .sequence, .mapping: throw fail(e, "'\(key)' must be a list of names")
                }
            }
            return out
        case .mapping: throw fail(e, "'\(key)' must be a list, not a mapping")
        }
    }

    /// An integer: a YAML int, or text Python's int() takes (Rasa does `int(port)`).
    func int(_ key: String) throws(EndpointsError) -> Int? {
        guard let e = entry(key) else { return nil }
        switch e.value {
        case .null: return nil
        case let .scalar(text, plain, _):
            if plain, case let .int(i) = YAMLScalars.resolve(text, schema: .core) { return i }
            if let i = Int(trimmed(text)) { return i }
            throw fail(e, "'\(key)' must be a whole number, not '\(text)'")
        case .sequence, .mapping:
            throw fail(e, "'\(key)' must be a whole number")
        }
    }

    func port(_ key: String) throws(EndpointsError) -> Int? {
        guard let p = try int(key) else { return nil }
        guard (1...65535).contains(p) else { throw fail(entry(key), "'\(key)' \(p) is not a port number (1-65535)") }
        return p
    }

    /// A number: a YAML int or float, or text Python's float() takes.
    func double(_ key: String) throws(EndpointsError) -> Double? {
        guard let e = entry(key) else { return nil }
        switch e.value {
        case .null: return nil
        case let .scalar(text, plain, _):
            if plain {
                switch YAMLScalars.resolve(text, schema: .core) {
                case let .int(i): return Double(i)
                case let .float(d): return d
                default: break
                }
            }
            if let d = Double(trimmed(text)), d.isFinite { return d }
            throw fail(e, "'\(key)' must be a number, not '\(text)'")
        case .sequence, .mapping:
            throw fail(e, "'\(key)' must be a number")
        }
    }

    /// A flag as Rasa ends up seeing it. Rasa reads YAML 1.2, where only true/false are booleans;
    /// anything else reaches Python as text or a number and counts by its truth value, so
    /// `no`, `off` or a quoted "false" mean *true* there. Such values are warned about.
    func bool(_ key: String) throws(EndpointsError) -> Bool? {
        guard let e = entry(key) else { return nil }
        switch e.value {
        case .null: return nil
        case let .scalar(text, plain, _):
            if plain {
                switch YAMLScalars.resolve(text, schema: .core) {
                case let .bool(b): return b
                case let .int(i): return i != 0
                case let .float(d): return d != 0
                case .null: return nil
                case .string: break
                }
            }
            let truth = !text.isEmpty                               // Python's bool(str)
            let looksFalse = ["false", "no", "off", "n", "0"].contains(text.lowercased())
            if looksFalse || YAMLScalars.bool(text, schema: .yaml11) != truth {
                warn(e, "Rasa reads '\(key): \(text)' as the text '\(text)', which counts as \(truth); write true or false")
            }
            return truth
        case .sequence, .mapping:
            throw fail(e, "'\(key)' must be true or false")
        }
    }
}

// MARK: - Helpers

private func trimmed<S: StringProtocol>(_ s: S) -> String {
    String(s.drop(while: { $0 == " " || $0 == "\t" }).reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed())
}

/// "host:5432" or "[::1]:5432" → host and port, as urlsplit("schema://" + host) sees them.
private func splitHostPort(_ text: String) -> (host: String, port: Int)? {
    if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
        let after = text[text.index(after: close)...]
        guard after.hasPrefix(":"), let p = Int(after.dropFirst()), (1...65535).contains(p) else { return nil }
        return (String(text[text.index(after: text.startIndex)..<close]), p)
    }
    let parts = text.split(separator: ":", omittingEmptySubsequences: false)
    guard parts.count == 2, let p = Int(parts[1]), (1...65535).contains(p) else { return nil }
    return (String(parts[0]), p)
}

/// Reads a whole file (endpoints files are small; anything past 16 MiB is refused).
private func readFile(_ path: String) throws(EndpointsError) -> [UInt8] {
    guard let f = fopen(path, "rb") else {
        throw .unreadable(file: path, reason: String(cString: strerror(errno)))
    }
    defer { fclose(f) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 64 * 1024)
    while true {
        let n = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
        bytes.append(contentsOf: buffer[..<n])
        if bytes.count > 16 << 20 { throw .unreadable(file: path, reason: "file too large for an endpoints file") }
        if n < buffer.count {
            if ferror(f) != 0 { throw .unreadable(file: path, reason: String(cString: strerror(errno))) }
            break
        }
    }
    return bytes
}
