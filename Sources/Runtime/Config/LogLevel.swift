/// How much a service logs: the levels of swift-log, by their usual names.
public enum LogLevel: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// Everything, including per-message detail.
    case trace
    /// Detail useful when debugging.
    case debug
    /// Normal operation.
    case info
    /// Normal but significant events.
    case notice
    /// Something unexpected that the service handled.
    case warning
    /// A failed operation.
    case error
    /// The service cannot go on.
    case critical

    /// The level's name.
    public var description: String { rawValue }
}
