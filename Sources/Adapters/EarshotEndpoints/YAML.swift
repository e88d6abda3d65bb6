// A small YAML reader on libyaml's event API, enough for Rasa's endpoints.yml.
//
// It builds a plain tree (scalars keep their text, typing happens on request), with the
// line of every node so that callers can point at the offending line. Anchors and aliases
// are expanded (with a size limit against "billion laughs" files), `<<` merge keys are
// applied, duplicate keys are refused (Rasa's ruamel.yaml refuses them too), and only the
// first document of a stream is read.

import CYAML

/// One node of a YAML document. `line` is 1-based.
public enum YAMLNode: Sendable, Equatable {
    /// A scalar's text. `plain` is true for an unquoted scalar (which YAML types by its text);
    /// quoted and block scalars are always strings.
    case scalar(String, plain: Bool, line: Int)
    case sequence([YAMLNode], line: Int)
    case mapping([YAMLEntry], line: Int)
    /// An empty value, `~`, `null`, `Null` or `NULL` (unquoted), or an empty document.
    case null(line: Int)

    public var line: Int {
        switch self {
        case let .scalar(_, _, line), let .sequence(_, line), let .mapping(_, line), let .null(line): return line
        }
    }

    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The entry for `key` when this is a mapping.
    public func entry(_ key: String) -> YAMLEntry? {
        guard case let .mapping(entries, _) = self else { return nil }
        return entries.first(where: { $0.key == key })
    }

    public subscript(key: String) -> YAMLNode? { entry(key)?.value }

    /// The typed value of a scalar (nil for a sequence or mapping). Quoted scalars are strings.
    public func value(_ schema: YAMLSchema) -> YAMLValue? {
        switch self {
        case .null: return .null
        case let .scalar(text, plain, _): return plain ? YAMLScalars.resolve(text, schema: schema) : .string(text)
        case .sequence, .mapping: return nil
        }
    }
}

/// A mapping entry; `line` is the line of the key.
public struct YAMLEntry: Sendable, Equatable {
    public var key: String
    public var line: Int
    public var value: YAMLNode

    public init(key: String, line: Int, value: YAMLNode) {
        self.key = key
        self.line = line
        self.value = value
    }
}

public struct YAMLDocument: Sendable, Equatable {
    /// The first document's root; `.null` for an empty file.
    public var root: YAMLNode
    /// True when the stream holds a second document (which is not read).
    public var moreDocumentsFollow: Bool
}

/// A YAML syntax or structure error: libyaml's problem text, or the reader's own.
public struct YAMLError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based line of the problem.
    public var line: Int
    public var column: Int
    public var problem: String
    /// libyaml's context, e.g. "while parsing a block mapping at line 1".
    public var context: String?

    public init(line: Int, column: Int = 0, problem: String, context: String? = nil) {
        self.line = line
        self.column = column
        self.problem = problem
        self.context = context
    }

    public var description: String {
        "line \(line): \(problem)" + (context.map { " (\($0))" } ?? "")
    }
}

public enum YAMLReader {
    /// Most nodes a document may expand to (aliases count with their full size).
    public static let nodeLimit = 100_000
    /// Deepest nesting accepted.
    public static let depthLimit = 200

    public static func parse(_ text: String) throws(YAMLError) -> YAMLDocument {
        try parse(bytes: Array(text.utf8))
    }

    /// Parses raw bytes, so that libyaml itself reports invalid UTF-8.
    public static func parse(bytes: [UInt8]) throws(YAMLError) -> YAMLDocument {
        let events = EventStream(bytes)
        var composer = Composer(events: events)
        return try composer.document()
    }
}

// MARK: - libyaml events

/// One libyaml event, copied out of libyaml's memory.
private struct Event {
    enum Kind { case streamStart, streamEnd, documentStart, documentEnd, alias, scalar, sequenceStart, sequenceEnd, mappingStart, mappingEnd }
    var kind: Kind
    var line: Int
    var column: Int
    var anchor: String?
    var tag: String?
    /// Scalar text, or the anchor an alias refers to.
    var value = ""
    /// Scalar written without quotes.
    var plain = false
}

/// Owns a libyaml parser. The parser keeps a pointer to itself (its read handler's data), so it
/// lives on the heap, as does the copy of the input it reads from.
private final class EventStream {
    private let parser: UnsafeMutablePointer<yaml_parser_t>
    private let input: UnsafeMutableBufferPointer<UInt8>

    init(_ bytes: [UInt8]) {
        parser = .allocate(capacity: 1)
        parser.initialize(to: yaml_parser_t())
        // Never zero-sized, so that baseAddress is not nil.
        input = .allocate(capacity: max(bytes.count, 1))
        _ = input.initialize(from: bytes)
        // yaml_parser_initialize only fails when out of memory; next() then reports it.
        if yaml_parser_initialize(parser) == 1 {
            yaml_parser_set_input_string(parser, input.baseAddress, bytes.count)
        }
    }

    deinit {
        yaml_parser_delete(parser)
        parser.deallocate()
        input.deallocate()
    }

    func next() throws(YAMLError) -> Event {
        var event = yaml_event_t()
        guard yaml_parser_parse(parser, &event) == 1 else { throw currentError() }
        defer { yaml_event_delete(&event) }
        var e = Event(kind: .streamEnd, line: Int(event.start_mark.line) + 1, column: Int(event.start_mark.column) + 1)
        switch event.type {
        case YAML_STREAM_START_EVENT: e.kind = .streamStart
        case YAML_STREAM_END_EVENT: e.kind = .streamEnd
        case YAML_DOCUMENT_START_EVENT: e.kind = .documentStart
        case YAML_DOCUMENT_END_EVENT: e.kind = .documentEnd
        case YAML_ALIAS_EVENT:
            e.kind = .alias
            e.value = Self.string(event.data.alias.anchor) ?? ""
        case YAML_SCALAR_EVENT:
            let s = event.data.scalar
            e.kind = .scalar
            e.anchor = Self.string(s.anchor)
            e.tag = Self.string(s.tag)
            e.value = s.value.map { String(decoding: UnsafeBufferPointer(start: $0, count: s.length), as: UTF8.self) } ?? ""
            e.plain = s.style == YAML_PLAIN_SCALAR_STYLE
        case YAML_SEQUENCE_START_EVENT:
            e.kind = .sequenceStart
            e.anchor = Self.string(event.data.sequence_start.anchor)
            e.tag = Self.string(event.data.sequence_start.tag)
        case YAML_SEQUENCE_END_EVENT: e.kind = .sequenceEnd
        case YAML_MAPPING_START_EVENT:
            e.kind = .mappingStart
            e.anchor = Self.string(event.data.mapping_start.anchor)
            e.tag = Self.string(event.data.mapping_start.tag)
        case YAML_MAPPING_END_EVENT: e.kind = .mappingEnd
        default:
            throw YAMLError(line: e.line, column: e.column, problem: "unexpected event from libyaml")
        }
        return e
    }

    private static func string(_ p: UnsafeMutablePointer<yaml_char_t>?) -> String? {
        p.map { String(cString: UnsafePointer($0)) }
    }

    /// libyaml's description of why parsing stopped.
    private func currentError() -> YAMLError {
        let p = parser.pointee
        if p.error == YAML_MEMORY_ERROR {
            return YAMLError(line: 0, problem: "libyaml ran out of memory")
        }
        var problem = p.problem.map { String(cString: $0) } ?? "cannot parse YAML"
        var line = Int(p.problem_mark.line) + 1
        var column = Int(p.problem_mark.column) + 1
        if p.error == YAML_READER_ERROR {
            // Reader errors (bad encoding) carry a byte offset, not a mark.
            let offset = min(Int(p.problem_offset), input.count)
            line = 1 + input[..<offset].lazy.filter { $0 == UInt8(ascii: "\n") }.count
            column = 0
            if p.problem_value != -1 { problem += " (byte 0x\(String(p.problem_value, radix: 16)))" }
        }
        let context = p.context.map { String(cString: $0) + " at line \(p.context_mark.line + 1)" }
        return YAMLError(line: line, column: column, problem: problem, context: context)
    }
}

// MARK: - Building the tree

private struct Composer {
    let events: EventStream
    /// Anchored nodes with their size in nodes, for aliases.
    var anchors: [String: (node: YAMLNode, size: Int)] = [:]
    /// Nodes produced so far, aliases counted with their full size.
    var produced = 0
    var depth = 0

    init(events: EventStream) { self.events = events }

    mutating func document() throws(YAMLError) -> YAMLDocument {
        _ = try events.next()                       // stream start
        let start = try events.next()
        guard start.kind == .documentStart else {   // empty stream: no document at all
            return YAMLDocument(root: .null(line: 1), moreDocumentsFollow: false)
        }
        let root = try node(try events.next())
        _ = try events.next()                       // document end
        // Only look at whether another document starts; it is not parsed further.
        let after = try events.next()
        return YAMLDocument(root: root, moreDocumentsFollow: after.kind == .documentStart)
    }

    private mutating func node(_ event: Event) throws(YAMLError) -> YAMLNode {
        let before = produced
        let result: YAMLNode
        switch event.kind {
        case .alias:
            guard let target = anchors[event.value] else {
                throw YAMLError(line: event.line, column: event.column, problem: "found undefined alias '\(event.value)'")
            }
            produced += target.size
            try checkSize(event)
            return target.node                       // an alias is not itself anchored
        case .scalar:
            produced += 1
            result = try scalar(event)
        case .sequenceStart:
            try checkCollectionTag(event)
            try enter(event)
            var items: [YAMLNode] = []
            while true {
                let next = try events.next()
                if next.kind == .sequenceEnd { break }
                items.append(try node(next))
            }
            depth -= 1
            produced += 1
            result = .sequence(items, line: event.line)
        case .mappingStart:
            try checkCollectionTag(event)
            try enter(event)
            result = .mapping(try mappingEntries(), line: event.line)
            depth -= 1
            produced += 1
        default:
            throw YAMLError(line: event.line, column: event.column, problem: "unexpected YAML structure")
        }
        try checkSize(event)
        if let anchor = event.anchor { anchors[anchor] = (result, produced - before) }
        return result
    }

    /// Reads key/value pairs up to the end of the mapping, applying `<<` merge keys.
    private mutating func mappingEntries() throws(YAMLError) -> [YAMLEntry] {
        var entries: [YAMLEntry] = []
        var merged: [YAMLEntry] = []
        while true {
            let keyEvent = try events.next()
            if keyEvent.kind == .mappingEnd { break }
            let keyNode = try node(keyEvent)
            let key: String
            switch keyNode {
            case let .scalar(text, _, _): key = text
            case .null: key = keyEvent.kind == .scalar ? keyEvent.value : ""
            case .sequence, .mapping:
                throw YAMLError(line: keyEvent.line, column: keyEvent.column,
                                problem: "a list or mapping used as a key is not supported")
            }
            let value = try node(try events.next())
            if key == "<<", keyEvent.kind == .scalar, keyEvent.plain {
                // Merge key: earlier merged mappings win over later ones; explicit keys win over all.
                let sources: [YAMLNode]
                if case let .sequence(items, _) = value { sources = items } else { sources = [value] }
                for source in sources {
                    guard case let .mapping(more, _) = source else {
                        throw YAMLError(line: keyEvent.line, column: keyEvent.column,
                                        problem: "'<<' (merge) needs a mapping or a list of mappings")
                    }
                    for e in more where !merged.contains(where: { $0.key == e.key }) { merged.append(e) }
                }
                continue
            }
            if entries.contains(where: { $0.key == key }) {
                throw YAMLError(line: keyEvent.line, column: keyEvent.column, problem: "found duplicate key '\(key)'")
            }
            entries.append(YAMLEntry(key: key, line: keyEvent.line, value: value))
        }
        for e in merged where !entries.contains(where: { $0.key == e.key }) { entries.append(e) }
        return entries
    }

    private func scalar(_ event: Event) throws(YAMLError) -> YAMLNode {
        let line = event.line
        switch event.tag {
        case nil:
            if event.plain, YAMLScalars.isNull(event.value) { return .null(line: line) }
            return .scalar(event.value, plain: event.plain, line: line)
        case "tag:yaml.org,2002:str":
            return .scalar(event.value, plain: false, line: line)
        case "tag:yaml.org,2002:null":
            return .null(line: line)
        case "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "!env_var":
            // Typed by its text like a plain scalar (`!env_var` is the tag Rasa gives `${...}` values).
            return .scalar(event.value, plain: true, line: line)
        case let tag?:
            throw YAMLError(line: line, column: event.column, problem: "unsupported tag '\(tag)'")
        }
    }

    private func checkCollectionTag(_ event: Event) throws(YAMLError) {
        guard let tag = event.tag else { return }
        let allowed = ["tag:yaml.org,2002:seq", "tag:yaml.org,2002:map", "tag:yaml.org,2002:omap"]
        if !allowed.contains(tag) {
            throw YAMLError(line: event.line, column: event.column, problem: "unsupported tag '\(tag)'")
        }
    }

    private mutating func enter(_ event: Event) throws(YAMLError) {
        depth += 1
        if depth > YAMLReader.depthLimit {
            throw YAMLError(line: event.line, column: event.column, problem: "nested deeper than \(YAMLReader.depthLimit) levels")
        }
    }

    private func checkSize(_ event: Event) throws(YAMLError) {
        if produced > YAMLReader.nodeLimit {
            throw YAMLError(line: event.line, column: event.column,
                            problem: "document expands to more than \(YAMLReader.nodeLimit) nodes (aliases)")
        }
    }
}

// MARK: - Scalar typing

/// Which rules turn plain scalar text into booleans and numbers.
public enum YAMLSchema: Sendable {
    /// YAML 1.2 as ruamel.yaml reads it, which is what Rasa uses for endpoints.yml
    /// (`YAML_VERSION = (1, 2)`): only `true`/`false` (in three spellings) are booleans.
    case core
    /// YAML 1.1 as PyYAML reads it: `yes`/`no`/`on`/`off` are booleans too, `0755` is octal,
    /// `1:30` is sexagesimal, and `1e5` (no dot) is a string.
    case yaml11
}

public enum YAMLValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case float(Double)
    case string(String)
}

public enum YAMLScalars {
    /// Plain-scalar spellings of null (the same in YAML 1.1 and 1.2).
    public static func isNull(_ text: String) -> Bool {
        ["", "~", "null", "Null", "NULL"].contains(text)
    }

    /// Types the text of a plain scalar.
    public static func resolve(_ text: String, schema: YAMLSchema) -> YAMLValue {
        if isNull(text) { return .null }
        if let b = bool(text, schema: schema) { return .bool(b) }
        if let i = int(text, schema: schema) { return .int(i) }
        if let d = float(text, schema: schema) { return .float(d) }
        return .string(text)
    }

    static func bool(_ text: String, schema: YAMLSchema) -> Bool? {
        switch text {
        case "true", "True", "TRUE": return true
        case "false", "False", "FALSE": return false
        default: break
        }
        guard schema == .yaml11 else { return nil }
        switch text {
        case "yes", "Yes", "YES", "on", "On", "ON": return true
        case "no", "No", "NO", "off", "Off", "OFF": return false
        default: return nil
        }
    }

    static func int(_ text: String, schema: YAMLSchema) -> Int? {
        var s = Substring(text)
        var negative = false
        if let sign = s.first, sign == "-" || sign == "+" { negative = sign == "-"; s = s.dropFirst() }
        let digits = { (t: Substring, radix: Int) -> Int? in
            let clean = t.filter { $0 != "_" }
            guard !clean.isEmpty, let v = Int(clean, radix: radix) else { return nil }
            return negative ? -v : v
        }
        guard let first = s.first, first.isASCII, first.isNumber else { return nil }
        if s.hasPrefix("0b") { return digits(s.dropFirst(2), 2) }
        if s.hasPrefix("0x") { return digits(s.dropFirst(2), 16) }
        if s.hasPrefix("0o") { return schema == .core ? digits(s.dropFirst(2), 8) : nil }
        switch schema {
        case .core:
            // ruamel's 1.2 rules also take a leading 0 as octal and allow `_`.
            guard s.allSatisfy({ ($0.isASCII && $0.isNumber) || $0 == "_" }) else { return nil }
            if s.count > 1, s.first == "0", s.allSatisfy({ ("0"..."7").contains($0) || $0 == "_" }) { return digits(s.dropFirst(), 8) }
            return digits(s, 10)
        case .yaml11:
            if s.contains(":") {
                // Sexagesimal: 1:30 is 90.
                let parts = s.split(separator: ":", omittingEmptySubsequences: false)
                guard let head = parts.first, head.first != "0" else { return nil }
                var total = 0
                for (i, part) in parts.enumerated() {
                    let clean = part.filter { $0 != "_" }
                    guard !clean.isEmpty, clean.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int(clean) else { return nil }
                    if i > 0, v > 59 || part.count > 2 { return nil }
                    total = total * 60 + v
                }
                return negative ? -total : total
            }
            guard s.allSatisfy({ ($0.isASCII && $0.isNumber) || $0 == "_" }) else { return nil }
            if s.count > 1, s.first == "0" {
                guard s.allSatisfy({ ("0"..."7").contains($0) || $0 == "_" }) else { return nil }
                return digits(s.dropFirst(), 8)
            }
            return digits(s, 10)
        }
    }

    static func float(_ text: String, schema: YAMLSchema) -> Double? {
        var s = Substring(text)
        var sign = 1.0
        if let c = s.first, c == "-" || c == "+" { sign = c == "-" ? -1 : 1; s = s.dropFirst() }
        if [".inf", ".Inf", ".INF"].contains(s) { return sign * .infinity }
        if [".nan", ".NaN", ".NAN"].contains(s), sign == 1, text.first != "+" { return .nan }
        let body = s.filter { $0 != "_" }
        guard !body.isEmpty, body.allSatisfy({ $0.isASCII && ($0.isNumber || "eE+-.".contains($0)) }) else { return nil }
        // Split mantissa and exponent.
        var mantissa = Substring(body)
        var exponent: Substring?
        if let e = body.firstIndex(where: { $0 == "e" || $0 == "E" }) {
            mantissa = body[..<e]
            exponent = body[body.index(after: e)...]
        }
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count <= 2, !mantissa.isEmpty, mantissa.allSatisfy({ $0.isNumber || $0 == "." }) else { return nil }
        let hasDot = parts.count == 2
        let intPart = parts[0]
        let fracPart = hasDot ? parts[1] : ""
        if intPart.isEmpty && fracPart.isEmpty { return nil }
        if let exp = exponent {
            var digits = exp
            if let c = digits.first, c == "+" || c == "-" { digits = digits.dropFirst() }
            else if schema == .yaml11 { return nil }          // PyYAML needs the exponent's sign
            guard !digits.isEmpty, digits.allSatisfy({ $0.isNumber }) else { return nil }
        }
        switch schema {
        case .core:
            // 1.2: needs a dot or an exponent; ".5" is fine.
            guard hasDot || exponent != nil else { return nil }
            if !hasDot && intPart.isEmpty { return nil }
        case .yaml11:
            guard hasDot else { return nil }
            if intPart.isEmpty && exponent != nil && fracPart.isEmpty { return nil }
        }
        let normal = (intPart.isEmpty ? "0" : String(intPart)) + "." + (fracPart.isEmpty ? "0" : String(fracPart))
            + (exponent.map { "e" + $0 } ?? "")
        return Double(normal).map { sign * $0 }
    }
}
