// Tests for EarshotEndpoints: the YAML reader, `${VAR}` expansion, and the event_broker
// section of endpoints.yml turned into a SourceSpec. Fixtures under Fixtures/endpoints/ have the
// keys and layout of the samples in Rasa's data/test_endpoints/event_brokers/ (same file names)
// and of the examples in Rasa's event-brokers documentation (docs_*.yml).

import Testing
import EarshotCore
import EarshotEndpoints

/// Fixtures/endpoints/ next to this file.
private let fixtureDirectory: String = {
    let path = "\(#filePath)"
    return String(path[..<path.lastIndex(of: "/")!]) + "/Fixtures/endpoints/"
}()

/// Loads a fixture with a controlled (empty unless given) environment.
private func fixture(_ name: String, environment: [String: String] = [:]) throws -> EndpointsConfig {
    try EndpointsConfig.load(path: fixtureDirectory + name, environment: environment)
}

private func parse(_ yaml: String, environment: [String: String] = [:]) throws -> EndpointsConfig {
    try EndpointsConfig.parse(yaml: yaml, environment: environment)
}

/// The error thrown by `body`, or nil.
private func thrown(_ body: () throws -> EndpointsConfig) -> EndpointsError? {
    do {
        _ = try body()
        return nil
    } catch let e as EndpointsError {
        return e
    } catch {
        return nil
    }
}

private func kafka(_ config: EndpointsConfig) -> KafkaSpec? {
    if case let .kafka(k) = config.spec { return k }
    return nil
}

private func amqp(_ config: EndpointsConfig) -> AMQPSpec? {
    if case let .amqp(a) = config.spec { return a }
    return nil
}

private func localRabbit(exchange: String, queues: [String]) -> SourceSpec {
    .amqp(AMQPSpec(url: BrokerURL(scheme: "amqp", user: "username", password: "password", host: "localhost", port: 5672),
                   exchange: exchange, queue: nil, rasaQueues: queues))
}

/// Every suite below is nested here, so `swift test --filter EndpointsTests` runs them all.
@Suite struct EndpointsTests {}

// MARK: - Rasa's sample files

extension EndpointsTests {
    @Suite struct FixtureFiles {
        @Test func pikaEndpoint() throws {
            let c = try fixture("pika_endpoint.yml")
            #expect(c.brokerType == "pika")
            #expect(c.spec == localRabbit(exchange: "exchange", queues: ["queue-1"]))
            #expect(c.warnings == [])
            #expect(c.rabbitMQ == RabbitMQOptions())
        }

        @Test func pikaConnectionSettings() throws {
            let c = try fixture("connexion_error_pika_endpoint.yml")
            #expect(c.spec == localRabbit(exchange: "rasa-exchange", queues: ["queue-1"]))
            #expect(c.rabbitMQ?.connectionAttempts == 1)
            #expect(c.rabbitMQ?.retryDelayInSeconds == 0)
            #expect(c.warnings == [])
        }

        @Test func pikaWithPII() throws {
            // Rasa Pro's stream_pii / anonymization_queues are known keys: no warning.
            let c = try fixture("pika_with_pii_endpoint.yml")
            #expect(c.spec == localRabbit(exchange: "exchange", queues: ["queue-1"]))
            #expect(c.warnings == [])
        }

        @Test func missingTypeIsPikaAndLegacyQueue() throws {
            let c = try fixture("event_broker_endpoint.yml")
            #expect(c.brokerType == "pika")
            #expect(c.spec == localRabbit(exchange: "rasa-exchange", queues: ["queue"]))
            #expect(c.warnings.count == 1)
            #expect(c.warnings.first?.hasSuffix("event_broker_endpoint.yml line 5: 'queue' is the Rasa 1.x key: Rasa 2.0 and later ignore it and publish through 'rasa_core_events' unless 'queues' is set") == true)
        }

        @Test func kafkaPlaintext() throws {
            let c = try fixture("kafka_plaintext_endpoint.yml")
            #expect(c.brokerType == "kafka")
            var k = KafkaSpec(brokers: ["localhost"], topic: "topic")
            k.partitionBySender = true
            k.securityProtocol = "SASL_PLAINTEXT"
            k.saslMechanism = "PLAIN"
            k.saslUsername = "username"
            k.saslPassword = "password"
            #expect(c.spec == .kafka(k))
            #expect(c.warnings == [])
        }

        @Test func kafkaSSL() throws {
            let c = try fixture("kafka_ssl_endpoint.yml")
            var k = KafkaSpec(brokers: ["localhost"], topic: "topic")
            k.securityProtocol = "SSL"
            k.sslCheckHostname = false
            #expect(c.spec == .kafka(k))
            #expect(c.warnings == [])
        }

        @Test func kafkaSASLPlaintextWithUnknownKey() throws {
            let c = try fixture("kafka_sasl_plaintext_endpoint.yml")
            var k = KafkaSpec(brokers: ["localhost"], topic: "topic")
            k.securityProtocol = "SASL_PLAINTEXT"
            k.saslMechanism = "PLAIN"
            k.saslUsername = "username"
            k.saslPassword = "password"
            #expect(c.spec == .kafka(k))
            #expect(c.warnings == [fixtureDirectory + "kafka_sasl_plaintext_endpoint.yml line 6: unknown key 'partition_key' for a kafka event_broker (ignored)"])
        }

        @Test func kafkaSASLSSL() throws {
            let k = try #require(kafka(try fixture("kafka_sasl_ssl_endpoint.yml")))
            #expect(k.securityProtocol == "SASL_SSL")
            #expect(k.saslMechanism == "PLAIN")
            #expect(k.saslUsername == "username")
            #expect(k.saslPassword == "password")
            #expect(k.sslCheckHostname == false)
            #expect(k.partitionBySender == false)
        }

        @Test(arguments: ["kafka_sasl_plaintext_gssapi_endpoint.yml", "kafka_sasl_ssl_gssapi_endpoint.yml"])
        func kafkaGSSAPI(name: String) throws {
            let c = try fixture(name)
            let k = try #require(kafka(c))
            #expect(k.saslMechanism == "GSSAPI")
            #expect(k.securityProtocol == "SASL_PLAINTEXT")
            #expect(k.partitionBySender)
            #expect(c.kafka?.saslKerberosServiceName == "kafka")
            #expect(c.warnings == [])
        }

        @Test func kafkaLowerCaseMechanism() throws {
            let k = try #require(kafka(try fixture("kafka_lower_case_sasl_mechanism.yml")))
            #expect(k.saslMechanism == "SCRAM-SHA-512")
        }

        @Test func kafkaPII() throws {
            let c = try fixture("kafka_pii_endpoint.yml")
            let k = try #require(kafka(c))
            #expect(k.partitionBySender)
            #expect(k.saslMechanism == "PLAIN")
            #expect(k.topic == "topic")
            #expect(c.warnings == [])
        }

        @Test func kafkaTopicsKeyIsUnknown() throws {
            let c = try fixture("kafka_topics.yml")
            var k = KafkaSpec(brokers: ["localhost"], topic: "topic")
            k.securityProtocol = "PLAINTEXT"
            k.clientID = "kafka-python-rasa"
            #expect(c.spec == .kafka(k))
            #expect(c.warnings.count == 1)
            #expect(c.warnings.first?.hasSuffix("line 7: unknown key 'topics' for a kafka event_broker (ignored)") == true)
        }

        @Test func kafkaInvalidSecurityProtocol() {
            let e = thrown { try fixture("kafka_invalid_security_protocol.yml") }
            guard case let .invalid(_, line, message)? = e else { Issue.record("expected .invalid, got \(String(describing: e))"); return }
            #expect(line == 2)
            #expect(message.contains("invalid security_protocol 'SOMETHING'"))
        }

        @Test func kafkaInvalidMechanism() {
            let e = thrown { try fixture("kafka_invalid_sasl_mechanism.yml") }
            guard case let .invalid(_, line, message)? = e else { Issue.record("expected .invalid, got \(String(describing: e))"); return }
            #expect(line == 8)
            #expect(message.contains("invalid sasl_mechanism 'SOMETHING'"))
        }

        @Test func kafkaWithoutURL() {
            let e = thrown { try fixture("kafka_plaintext_endpoint_no_url.yml") }
            guard case let .invalid(_, line, message)? = e else { Issue.record("expected .invalid, got \(String(describing: e))"); return }
            #expect(line == 1)
            #expect(message.contains("needs 'url'"))
        }

        /// These two samples carry Kafka keys but no `type`, so EventBroker.create makes a Pika broker of them.
        @Test func kafkaKeysWithoutTypeArePika() throws {
            let c = try fixture("kafka_event_broker_plaintext_endpoint.yml")
            #expect(c.brokerType == "pika")
            #expect(c.spec == .amqp(AMQPSpec(url: BrokerURL(scheme: "amqp", host: "localhost", port: 5672),
                                             exchange: "rasa-exchange", queue: nil, rasaQueues: ["rasa_core_events"])))
            let unknown = c.warnings.filter { $0.contains("unknown key") }.map { $0.split(separator: "'")[1] }
            #expect(unknown == ["sasl_plain_username", "sasl_plain_password", "topic", "security_protocol"])
            #expect(c.warnings.contains { $0.contains("without 'username' and 'password'") })

            let ssl = try fixture("kafka_event_broker_ssl_endpoint.yml")
            #expect(ssl.brokerType == "pika")
            #expect(ssl.warnings.filter { $0.contains("unknown key") }.count == 6)
        }

        @Test func sqlInMemory() throws {
            let c = try fixture("sql_endpoint.yml")
            #expect(c.brokerType == "sql")
            #expect(c.spec == .sqlite(path: ":memory:"))
            #expect(c.warnings.count == 1)
            #expect(c.warnings.first?.contains("line 2: the sqlite database is in memory") == true)
        }

        @Test func sqlPostgreSQL() throws {
            let c = try fixture("connexion_error_sql_endpoint.yml")
            #expect(c.spec == .postgresql(BrokerURL(scheme: "postgresql", user: "user", password: "pw", host: "0.0.0.0", port: 42, path: "boom")))
            #expect(c.warnings == [])
        }

        @Test func sqlDocsExamples() throws {
            #expect(try fixture("docs_sql_sqlite_endpoint.yml").spec == .sqlite(path: "events.db"))
            let pg = try fixture("docs_sql_postgresql_endpoint.yml")
            #expect(pg.brokerType == "sql")
            #expect(pg.spec == .postgresql(BrokerURL(scheme: "postgresql", user: "myuser", password: "mypassword",
                                                     host: "127.0.0.1", port: 5432, path: "mydatabase")))
        }

        @Test func fileEndpoint() throws {
            let c = try fixture("file_endpoint.yml")
            #expect(c.brokerType == "file")
            #expect(c.spec == .file(path: "rasa_event.log"))
            #expect(c.warnings == [])
        }

        @Test func celeryIsRefused() {
            let e = thrown { try fixture("celery_endpoint.yml") }
            #expect(e == .customBroker(file: fixtureDirectory + "celery_endpoint.yml", line: 2, type: "celery"))
            #expect(e?.description.contains("Celery") == true)
        }

        @Test func exampleEndpointsHasNoEventBroker() {
            let path = fixtureDirectory + "example_endpoints.yml"
            let e = thrown { try fixture("example_endpoints.yml") }
            #expect(e == .noEventBroker(file: path))
            #expect(e?.description == "no event_broker section in \(path)")
        }

        @Test func missingFile() {
            let e = thrown { try fixture("does_not_exist.yml") }
            guard case let .unreadable(file, reason)? = e else { Issue.record("expected .unreadable, got \(String(describing: e))"); return }
            #expect(file.hasSuffix("does_not_exist.yml"))
            #expect(reason.contains("No such file"))
        }
    }
}

// MARK: - Environment variables

extension EndpointsTests {
    @Suite struct EnvironmentVariables {
        @Test func substitutesVariables() throws {
            let c = try parse("""
                event_broker:
                  type: pika
                  url: ${RABBIT_HOST}
                  username: ${RABBIT_USER}
                  password: ${RABBIT_PASSWORD}
                  port: ${RABBIT_PORT}
                  queues:
                    - ${QUEUE}
                """, environment: ["RABBIT_HOST": "rabbit", "RABBIT_USER": "rasa", "RABBIT_PASSWORD": "s3cr=t",
                                   "RABBIT_PORT": "5673", "QUEUE": "events"])
            let a = try #require(amqp(c))
            #expect(a.url == BrokerURL(scheme: "amqp", user: "rasa", password: "s3cr=t", host: "rabbit", port: 5673))
            #expect(a.rasaQueues == ["events"])
            #expect(c.warnings == [])
        }

        @Test func severalVariablesInOneValue() throws {
            let c = try parse("""
                event_broker:
                  type: kafka
                  security_protocol: PLAINTEXT
                  url: ${KAFKA_HOST}:${KAFKA_PORT}
                  topic: ${PREFIX}_$SUFFIX
                """, environment: ["KAFKA_HOST": "broker-1", "KAFKA_PORT": "9093", "PREFIX": "rasa", "SUFFIX": "events"])
            let k = try #require(kafka(c))
            #expect(k.brokers == ["broker-1:9093"])
            // Once a value has a ${...}, Python's expandvars also replaces $NAME in it.
            #expect(k.topic == "rasa_events")
        }

        @Test func unsetVariableIsAnError() {
            let e = thrown {
                try parse("""
                    event_broker:
                      type: pika
                      url: localhost
                      username: ${RABBIT_USER}
                      password: ${RABBIT_PASSWORD}
                    """, environment: ["RABBIT_USER": "rasa"])
            }
            #expect(e == .unsetVariables(file: "endpoints.yml", line: 5, key: "event_broker.password",
                                         value: "${RABBIT_PASSWORD}", names: ["RABBIT_PASSWORD"]))
            let text = e?.description ?? ""
            #expect(text.contains("Error when trying to expand the environment variables in '${RABBIT_PASSWORD}'"))
            #expect(text.contains("Please make sure to also set these environment variables: 'RABBIT_PASSWORD'"))
            #expect(text.contains("event_broker.password"))
        }

        @Test func unsetVariablesNamedTogether() {
            let e = thrown {
                try parse("event_broker:\n  type: kafka\n  url: ${A}:${B}\n", environment: ["B": "9092"])
            }
            guard case let .unsetVariables(_, line, key, _, names)? = e else { Issue.record("got \(String(describing: e))"); return }
            #expect(line == 3)
            #expect(key == "event_broker.url")
            #expect(names == ["A"])
        }

        @Test func passwordValuesAreNotEchoed() {
            let e = thrown { try parse("event_broker:\n  url: h\n  username: u\n  password: hunter2${PEPPER}\n") }
            guard case let .unsetVariables(_, _, _, value, names)? = e else { Issue.record("got \(String(describing: e))"); return }
            #expect(value == "${PEPPER}")
            #expect(names == ["PEPPER"])
        }

        @Test func quotedValuesAreNotExpanded() throws {
            // Rasa's implicit !env_var resolver only sees plain scalars.
            let c = try parse("event_broker:\n  type: file\n  path: \"${LOG_DIR}/events.log\"\n", environment: ["LOG_DIR": "/var/log"])
            #expect(c.spec == .file(path: "${LOG_DIR}/events.log"))
            #expect(c.warnings == ["endpoints.yml line 3: 'event_broker.path' is quoted, so Rasa does not replace the ${...} in it; the value is used as written"])
        }

        @Test func dollarWithoutBracesIsLiteral() throws {
            let c = try parse("event_broker:\n  url: localhost\n  username: u\n  password: pa$$word\n")
            #expect(amqp(c)?.url.password == "pa$$word")
        }

        @Test func unsetVariablesElsewhereOnlyWarn() throws {
            let c = try parse("""
                tracker_store:
                  type: sql
                  password: ${DB_PASSWORD}
                event_broker:
                  type: file
                """)
            #expect(c.spec == .file(path: "rasa_event.log"))
            #expect(c.warnings == ["endpoints.yml line 3: environment variable 'DB_PASSWORD' in 'tracker_store.password' is not set; Rasa refuses to read this file until it is"])
        }
    }
}

// MARK: - Broker rules

extension EndpointsTests {
    @Suite struct BrokerRules {
        @Test func amqpsURL() throws {
            let c = try parse("""
                event_broker:
                  type: pika
                  url: amqps://ignored:ignored@rabbit.example.com:5671/%2Fprod?cacertfile=/etc/ca.pem
                  username: rasa
                  password: secret
                  queues: single_queue
                """)
            let a = try #require(amqp(c))
            // username/password keys win (Rasa writes them into the URL); port and vhost from the URL.
            #expect(a.url == BrokerURL(scheme: "amqps", user: "rasa", password: "secret", host: "rabbit.example.com", port: 5671,
                                       path: "/prod", query: [("cacertfile", "/etc/ca.pem")]))
            #expect(a.exchange == "rasa-exchange")
            #expect(a.queue == nil)
            #expect(a.rasaQueues == ["single_queue"])
            #expect(c.warnings == [])
        }

        @Test func amqpURLCredentialsServeWhenKeysMissing() throws {
            let c = try parse("event_broker:\n  url: amqp://guest:guestpw@rabbit/vh\n  port: \"5680\"\n")
            #expect(amqp(c)?.url == BrokerURL(scheme: "amqp", user: "guest", password: "guestpw", host: "rabbit", port: 5680, path: "vh"))
            #expect(c.warnings.count == 1)                          // no username/password keys: Rasa would not start
        }

        @Test func queuesListAndDefault() throws {
            let list = try parse("event_broker:\n  url: h\n  username: u\n  password: p\n  queues:\n    - a\n    - b\n")
            #expect(amqp(list)?.rasaQueues == ["a", "b"])
            let none = try parse("event_broker:\n  url: h\n  username: u\n  password: p\n  queues: []\n")
            #expect(amqp(none)?.rasaQueues == ["rasa_core_events"])
        }

        @Test func pikaClientCertificateFromEnvironment() throws {
            let c = try parse("event_broker:\n  type: PIKA\n  url: rabbit\n  username: u\n  password: p\n",
                              environment: ["RABBITMQ_SSL_CLIENT_CERTIFICATE": "/certs/client.pem", "RABBITMQ_SSL_CLIENT_KEY": "/certs/client.key"])
            #expect(amqp(c)?.url.scheme == "amqps")
            #expect(c.rabbitMQ?.clientCertificate == "/certs/client.pem")
            #expect(c.rabbitMQ?.clientKey == "/certs/client.key")
        }

        @Test func pikaNeedsURL() {
            let e = thrown { try parse("event_broker:\n  type: pika\n  username: u\n") }
            guard case let .invalid(_, line, message)? = e else { Issue.record("got \(String(describing: e))"); return }
            #expect(line == 1)
            #expect(message.contains("needs 'url'"))
        }

        @Test func badPort() {
            let e = thrown { try parse("event_broker:\n  url: h\n  username: u\n  password: p\n  port: fifty\n") }
            #expect(e == .invalid(file: "endpoints.yml", line: 5, message: "'port' must be a whole number, not 'fifty'"))
        }

        @Test func kafkaURLList() throws {
            let c = try parse("""
                event_broker:
                  type: Kafka
                  security_protocol: plaintext
                  url:
                    - kafka_broker_1:9092
                    - kafka_broker_2:2030
                  topic: rasa_events
                """)
            var k = KafkaSpec(brokers: ["kafka_broker_1:9092", "kafka_broker_2:2030"], topic: "rasa_events")
            k.securityProtocol = "PLAINTEXT"
            #expect(c.spec == .kafka(k))
            let commas = try parse("event_broker:\n  type: kafka\n  security_protocol: PLAINTEXT\n  url: a:9092, b:9092\n")
            #expect(kafka(commas)?.brokers == ["a:9092", "b:9092"])
            #expect(kafka(commas)?.topic == "rasa_core_events")
        }

        @Test func kafkaDefaultsAndLegacyKeys() throws {
            let c = try parse("event_broker:\n  type: kafka\n  host: old:9092\n  group_id: rasa-x\n  sasl_plain_username: u\n  sasl_plain_password: p\n")
            let k = try #require(kafka(c))
            #expect(k.brokers == ["old:9092"])
            #expect(k.securityProtocol == "SASL_PLAINTEXT")        // Rasa's default
            #expect(k.saslMechanism == "PLAIN")
            #expect(k.saslUsername == "u")
            #expect(k.saslPassword == "p")
            #expect(k.groupID == nil)                              // never joins Rasa's group by itself
            #expect(c.kafka?.rasaGroupID == "rasa-x")
            #expect(!c.warnings.contains { $0.contains("unknown key") })
        }

        @Test func unknownKeyIsAWarningNotAnError() throws {
            let c = try parse("event_broker:\n  type: kafka\n  security_protocol: PLAINTEXT\n  foo: bar\n  url: localhost:9092\n")
            #expect(kafka(c)?.brokers == ["localhost:9092"])
            #expect(c.warnings == ["endpoints.yml line 4: unknown key 'foo' for a kafka event_broker (ignored)"])
        }

        @Test func flagsAsRasaSeesThem() throws {
            // YAML 1.2: `no` is the text "no", and Python counts non-empty text as true.
            let c = try parse("event_broker:\n  type: kafka\n  security_protocol: SSL\n  url: h\n  ssl_check_hostname: no\n  partition_by_sender: 0\n")
            let k = try #require(kafka(c))
            #expect(k.sslCheckHostname == true)
            #expect(k.partitionBySender == false)
            #expect(c.warnings == ["endpoints.yml line 5: Rasa reads 'ssl_check_hostname: no' as the text 'no', which counts as true; write true or false"])
        }

        @Test func customClassIsRefused() {
            let e = thrown { try parse("event_broker:\n  type: my.module.MyBroker\n  url: localhost\n") }
            #expect(e == .customBroker(file: "endpoints.yml", line: 2, type: "my.module.MyBroker"))
            #expect(e?.description == "endpoints.yml line 2: event_broker type 'my.module.MyBroker' is a custom broker class; Earshot cannot watch custom brokers (it reads the pika, kafka, sql and file brokers)")
        }

        @Test func storeTypeWinsOverType() throws {
            let c = try parse("event_broker:\n  type: kafka\n  store_type: file\n  path: /tmp/e.log\n")
            #expect(c.brokerType == "file")
            #expect(c.spec == .file(path: "/tmp/e.log"))
        }

        @Test func sqlURLForms() throws {
            let full = try parse("event_broker:\n  type: sql\n  url: postgresql+psycopg2://u:p@db.internal:6543/rasa\n  db: ignored\n")
            #expect(full.spec == .postgresql(BrokerURL(scheme: "postgresql", user: "u", password: "p", host: "db.internal", port: 6543, path: "rasa")))
            #expect(full.warnings.count == 1)
            let hostPort = try parse("event_broker:\n  type: sql\n  dialect: postgresql\n  url: localhost:1234\n  db: mydb\n")
            #expect(hostPort.spec == .postgresql(BrokerURL(scheme: "postgresql", host: "localhost", port: 1234, path: "mydb")))
            let defaults = try parse("event_broker:\n  type: sql\n  dialect: postgresql\n")
            #expect(defaults.spec == .postgresql(BrokerURL(scheme: "postgresql", host: "localhost", port: 5432, path: "events.db")))
            // Relative sqlite paths stay relative: Rasa resolves them against its working directory.
            #expect(try parse("event_broker:\n  type: sql\n  db: data/events.db\n").spec == .sqlite(path: "data/events.db"))
            #expect(try parse("event_broker:\n  type: sql\n  url: sqlite:////var/rasa/events.db\n").spec == .sqlite(path: "/var/rasa/events.db"))
        }

        @Test func sqlOtherDialect() {
            let e = thrown { try parse("event_broker:\n  type: sql\n  dialect: mysql\n  db: rasa\n") }
            #expect(e == .unsupportedDialect(file: "endpoints.yml", line: 3, dialect: "mysql"))
            #expect(e?.description.contains("Earshot reads sqlite and postgresql") == true)
        }

        @Test func sqlUnknownKeyNote() throws {
            let c = try parse("event_broker:\n  type: sql\n  db: e.db\n  pool_size: 5\n")
            #expect(c.warnings == ["endpoints.yml line 4: unknown key 'pool_size' for a sql event_broker (ignored; Rasa's sql broker does not accept it and will not start)"])
        }

        @Test func fileDefaultPath() throws {
            #expect(try parse("event_broker:\n  type: FILE\n").spec == .file(path: "rasa_event.log"))
        }

        @Test func noOrEmptyEventBroker() {
            #expect(thrown { try parse("") } == .noEventBroker(file: "endpoints.yml"))
            #expect(thrown { try parse("# only a comment\n") } == .noEventBroker(file: "endpoints.yml"))
            #expect(thrown { try parse("tracker_store:\n  type: sql\nevent_broker:\n") } == .noEventBroker(file: "endpoints.yml"))
            #expect(thrown { try parse("action_endpoint:\n  url: http://localhost:5055/webhook\n") } == .noEventBroker(file: "endpoints.yml"))
        }

        @Test func notAMapping() {
            #expect(thrown { try parse("- event_broker\n") } == .invalid(file: "endpoints.yml", line: 1, message: "expected a mapping of endpoint sections (Rasa refuses this file)"))
            #expect(thrown { try parse("event_broker: kafka\n") } == .invalid(file: "endpoints.yml", line: 1, message: "event_broker must be a mapping of settings"))
        }

        @Test func syntaxErrorHasLineNumber() {
            let e = thrown { try parse("event_broker:\n  type: kafka\n  url: localhost: 9092\n  topic: t\n") }
            guard case let .syntax(file, yaml)? = e else { Issue.record("expected .syntax, got \(String(describing: e))"); return }
            #expect(file == "endpoints.yml")
            #expect(yaml.line == 3)
            #expect(yaml.problem == "mapping values are not allowed in this context")
            #expect(e?.line == 3)
            #expect(e?.description.hasPrefix("endpoints.yml line 3: mapping values are not allowed in this context") == true)
        }

        @Test func duplicateKeyIsAnError() {
            let e = thrown { try parse("event_broker:\n  type: file\n  path: a.log\n  path: b.log\n") }
            guard case let .syntax(_, yaml)? = e else { Issue.record("expected .syntax, got \(String(describing: e))"); return }
            #expect(yaml.line == 4)
            #expect(yaml.problem == "found duplicate key 'path'")
        }

        @Test func anchorsAliasesAndMerge() throws {
            let c = try parse("""
                defaults: &rabbit
                  url: rabbit
                  username: rasa
                  password: &pw secret
                event_broker:
                  <<: *rabbit
                  type: pika
                  url: rabbit-2
                  exchange_name: *pw
                """)
            let a = try #require(amqp(c))
            #expect(a.url == BrokerURL(scheme: "amqp", user: "rasa", password: "secret", host: "rabbit-2", port: 5672))
            #expect(a.exchange == "secret")
            #expect(thrown { try parse("event_broker:\n  type: file\n  path: *nowhere\n") }?.line == 3)
        }

        @Test func firstDocumentOnly() throws {
            let c = try parse("event_broker:\n  type: file\n  path: first.log\n---\nevent_broker:\n  type: file\n  path: second.log\n")
            #expect(c.spec == .file(path: "first.log"))
            #expect(c.warnings == ["endpoints.yml: holds more than one YAML document; Earshot reads the first (Rasa refuses such a file)"])
        }
    }
}

// MARK: - The YAML reader

extension EndpointsTests {
    @Suite struct YAMLReading {
        @Test func tree() throws {
            let doc = try YAMLReader.parse("a: 1\nb:\n  - x\n  - 'y'\nc: ~\n")
            let expected = YAMLNode.mapping([
                YAMLEntry(key: "a", line: 1, value: .scalar("1", plain: true, line: 1)),
                YAMLEntry(key: "b", line: 2, value: .sequence([.scalar("x", plain: true, line: 3), .scalar("y", plain: false, line: 4)], line: 3)),
                YAMLEntry(key: "c", line: 5, value: .null(line: 5)),
            ], line: 1)
            #expect(doc.root == expected)
            #expect(doc.moreDocumentsFollow == false)
            #expect(doc.root["b"]?.line == 3)
        }

        @Test func emptyInput() throws {
            #expect(try YAMLReader.parse("").root == .null(line: 1))
            #expect(try YAMLReader.parse("---\n").root.isNull)
        }

        @Test func invalidUTF8() {
            #expect(throws: YAMLError.self) { try YAMLReader.parse(bytes: Array("a: b\nc: ".utf8) + [0xff, 0xfe, 0x0a]) }
        }

        @Test func aliasBombIsStopped() {
            var yaml = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            for i in 1...8 { yaml += "l\(i): &l\(i) [" + Array(repeating: "*" + (i == 1 ? "a" : "l\(i - 1)"), count: 10).joined(separator: ", ") + "]\n" }
            #expect(throws: YAMLError.self) { try YAMLReader.parse(yaml) }
        }

        @Test func scalarTyping() {
            // PyYAML's YAML 1.1.
            #expect(YAMLScalars.resolve("yes", schema: .yaml11) == .bool(true))
            #expect(YAMLScalars.resolve("Off", schema: .yaml11) == .bool(false))
            #expect(YAMLScalars.resolve("True", schema: .yaml11) == .bool(true))
            #expect(YAMLScalars.resolve("5672", schema: .yaml11) == .int(5672))
            #expect(YAMLScalars.resolve("0x1F", schema: .yaml11) == .int(31))
            #expect(YAMLScalars.resolve("010", schema: .yaml11) == .int(8))
            #expect(YAMLScalars.resolve("1:30", schema: .yaml11) == .int(90))
            #expect(YAMLScalars.resolve("1.5", schema: .yaml11) == .float(1.5))
            #expect(YAMLScalars.resolve("1e5", schema: .yaml11) == .string("1e5"))
            #expect(YAMLScalars.resolve("~", schema: .yaml11) == .null)
            #expect(YAMLScalars.resolve("", schema: .yaml11) == .null)
            #expect(YAMLScalars.resolve("localhost", schema: .yaml11) == .string("localhost"))
            // YAML 1.2, as Rasa reads endpoints.yml.
            #expect(YAMLScalars.resolve("yes", schema: .core) == .string("yes"))
            #expect(YAMLScalars.resolve("FALSE", schema: .core) == .bool(false))
            #expect(YAMLScalars.resolve("-42", schema: .core) == .int(-42))
            #expect(YAMLScalars.resolve("0o17", schema: .core) == .int(15))
            #expect(YAMLScalars.resolve("1e5", schema: .core) == .float(100_000))
            #expect(YAMLScalars.resolve(".inf", schema: .core) == .float(.infinity))
            #expect(YAMLScalars.resolve("1:30", schema: .core) == .string("1:30"))
            #expect(YAMLScalars.resolve("Null", schema: .core) == .null)
            // Quoted scalars are strings under any schema.
            #expect(YAMLNode.scalar("true", plain: false, line: 1).value(.yaml11) == .string("true"))
            #expect(YAMLNode.scalar("true", plain: true, line: 1).value(.yaml11) == .bool(true))
        }
    }
}
