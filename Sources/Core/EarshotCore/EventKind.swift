// Every event type Rasa (open source, Pro/CALM) is known to publish. Anything else is
// `.unknown` and keeps its own `event` name.

public enum EventKind: UInt8, Sendable, CaseIterable, Comparable {
    case user, bot, action, slot, actionExecutionRejected, followup, reminder, cancelReminder
    case activeLoop, loopInterrupted, entities, userFeaturization, agent
    case restart, rewind, undo, resetSlots, pause, resume, sessionStarted, export
    case stack, flowStarted, flowInterrupted, flowResumed, flowCompleted, flowCancelled, sessionEnded
    case unknown

    public static func < (a: EventKind, b: EventKind) -> Bool { a.rawValue < b.rawValue }

    /// The `event` value Rasa writes for this kind (the current name; legacy names also decode).
    public var typeName: String {
        switch self {
        case .user: return "user"
        case .bot: return "bot"
        case .action: return "action"
        case .slot: return "slot"
        case .actionExecutionRejected: return "action_execution_rejected"
        case .followup: return "followup"
        case .reminder: return "reminder"
        case .cancelReminder: return "cancel_reminder"
        case .activeLoop: return "active_loop"
        case .loopInterrupted: return "loop_interrupted"
        case .entities: return "entities"
        case .userFeaturization: return "user_featurization"
        case .agent: return "agent"
        case .restart: return "restart"
        case .rewind: return "rewind"
        case .undo: return "undo"
        case .resetSlots: return "reset_slots"
        case .pause: return "pause"
        case .resume: return "resume"
        case .sessionStarted: return "session_started"
        case .export: return "export"
        case .stack: return "stack"
        case .flowStarted: return "flow_started"
        case .flowInterrupted: return "flow_interrupted"
        case .flowResumed: return "flow_resumed"
        case .flowCompleted: return "flow_completed"
        case .flowCancelled: return "flow_cancelled"
        case .sessionEnded: return "session_ended"
        case .unknown: return "unknown"
        }
    }

    /// System events: shown dim in transcripts (everything that is not said by user or bot).
    public var isSystem: Bool {
        switch self {
        case .user, .bot, .agent: return false
        default: return true
        }
    }

    /// The conversation ended or started over.
    public var isReset: Bool {
        switch self {
        case .restart, .sessionEnded, .sessionStarted: return true
        default: return false
        }
    }

    /// Recognises an `event` value given as raw bytes (unescaped).
    
    static func from(_ p: UnsafePointer<UInt8>, _ n: Int) -> EventKind {
        @inline(__always) func eq(_ s: StaticString) -> Bool {
            guard s.utf8CodeUnitCount == n else { return false }
            let w = s.utf8Start
            for k in 0 ..< n where p[k] != w[k] { return false }
            return true
        }
        switch n {
        case 3: return eq("bot") ? .bot : .unknown
        case 4:
            if eq("user") { return .user }
            if eq("slot") { return .slot }
            if eq("undo") { return .undo }
            if eq("form") { return .activeLoop }  // legacy name
            return .unknown
        case 5:
            if eq("pause") { return .pause }
            if eq("stack") { return .stack }
            if eq("agent") { return .agent }
            return .unknown
        case 6:
            if eq("action") { return .action }
            if eq("rewind") { return .rewind }
            if eq("resume") { return .resume }
            if eq("export") { return .export }
            return .unknown
        case 7:
            if eq("restart") { return .restart }
            return .unknown
        case 8:
            if eq("followup") { return .followup }
            if eq("reminder") { return .reminder }
            if eq("entities") { return .entities }
            return .unknown
        case 11:
            if eq("active_loop") { return .activeLoop }
            if eq("reset_slots") { return .resetSlots }
            return .unknown
        case 12:
            if eq("flow_started") { return .flowStarted }
            if eq("flow_resumed") { return .flowResumed }
            return .unknown
        case 13:
            if eq("session_ended") { return .sessionEnded }
            return .unknown
        case 14:
            if eq("flow_completed") { return .flowCompleted }
            if eq("flow_cancelled") { return .flowCancelled }
            return .unknown
        case 15:
            if eq("session_started") { return .sessionStarted }
            if eq("cancel_reminder") { return .cancelReminder }
            if eq("form_validation") { return .loopInterrupted }  // legacy name
            return .unknown
        case 16:
            if eq("loop_interrupted") { return .loopInterrupted }
            if eq("flow_interrupted") { return .flowInterrupted }
            return .unknown
        case 18:
            if eq("user_featurization") { return .userFeaturization }
            return .unknown
        case 25:
            if eq("action_execution_rejected") { return .actionExecutionRejected }
            return .unknown
        default:
            return .unknown
        }
    }

    public static func from(name: String) -> EventKind {
        var s = name
        return s.withUTF8 { $0.isEmpty ? .unknown : from($0.baseAddress!, $0.count) }
    }
}
