public import Logging

/// Metadata that every log line written by the current task carries, such as the tenant, the
/// request id and the trace id of the call being served.
///
/// Interceptors set it around the rest of the call; `JSONLogHandler` reads it for each line,
/// so code deep inside a handler logs with the call's identity without being passed a logger.
public enum LogContext {
    /// The metadata of the current task; empty outside any `with` scope.
    @TaskLocal public static var metadata: Logger.Metadata = [:]

    /// Runs `body` with `extra` added to the current metadata; a key in `extra` replaces the
    /// same key set by an outer scope.
    public static func with<Result>(
        _ extra: Logger.Metadata, isolation: isolated (any Actor)? = #isolation,
        _ body: () async throws -> Result
    ) async rethrows -> Result {
        try await $metadata.withValue(merged(extra), operation: body, isolation: isolation)
    }

    /// Runs synchronous `body` with `extra` added to the current metadata.
    public static func with<Result>(_ extra: Logger.Metadata, _ body: () throws -> Result) rethrows -> Result {
        try $metadata.withValue(merged(extra), operation: body)
    }

    /// A metadata provider with the current task's metadata, for log handlers other than
    /// `JSONLogHandler` (pass it to `LoggingSystem.bootstrap(_:metadataProvider:)`).
    public static let metadataProvider = Logger.MetadataProvider { metadata }

    private static func merged(_ extra: Logger.Metadata) -> Logger.Metadata {
        let current = metadata
        if current.isEmpty { return extra }
        return current.merging(extra) { _, new in new }
    }
}
