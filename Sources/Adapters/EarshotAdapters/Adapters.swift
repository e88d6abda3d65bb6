// Opens the source or sink a SourceSpec names. The one place that knows every adapter.

import EarshotCore
import EarshotFile
import EarshotSQLite

public enum Adapters {
    /// The adapter for a spec, or an error saying why it cannot be had (yet).
    public static func source(for spec: SourceSpec) throws -> MessageSource {
        switch spec {
        case let .file(path): return FileSource(path: path)
        case .stdin: return StdinSource()
        case let .sqlite(path): return SQLiteSource(path: path)
        case .postgresql, .kafka, .amqp:
            throw SourceError("\(spec.scheme) sources are not built yet (\(spec.label)); this build reads files, stdin and SQLite")
        }
    }

    public static func sink(for spec: SourceSpec) throws -> MessageSink {
        switch spec {
        case let .file(path): return try FileSink(path: path)
        case let .sqlite(path): return try SQLiteSink(path: path)
        case .stdin: throw SourceError("cannot publish to stdin")
        case .postgresql, .kafka, .amqp:
            throw SourceError("\(spec.scheme) sinks are not built yet (\(spec.label)); this build writes files and SQLite")
        }
    }
}

extension SourceSpec {
    /// The broker family, for messages.
    public var scheme: String {
        switch self {
        case .file: return "file"
        case .stdin: return "stdin"
        case .sqlite: return "SQLite"
        case .postgresql: return "PostgreSQL"
        case .kafka: return "Kafka"
        case .amqp: return "RabbitMQ (AMQP)"
        }
    }
}
