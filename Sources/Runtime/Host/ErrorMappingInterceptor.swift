import Logging
import RPCCore
import RuntimeHTTP
import RuntimePostgres
import RuntimeRedis

/// Gives errors a handler did not turn into an `RPCError` the status a caller can act on,
/// instead of UNKNOWN: a store that is down is UNAVAILABLE (retry later), a conflict is
/// ABORTED, a statement timeout DEADLINE_EXCEEDED; anything else is INTERNAL, logged here
/// with its details and answered without them.
struct ErrorMappingInterceptor: ServerInterceptor {
    let logger: Logger

    func intercept(context: ServerContext, next: @Sendable (ServerContext) async throws -> Void) async throws {
        do {
            try await next(context)
        } catch let error as RPCError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            let mapped = Self.status(for: error)
            if mapped.code == .internalError {
                logger.error(
                    "call failed",
                    metadata: ["method": "\(context.descriptor)", "error": "\(String(reflecting: error))"])
            } else {
                logger.warning("call failed", metadata: ["method": "\(context.descriptor)", "error": "\(error)"])
            }
            throw mapped
        }
    }

    /// The status for an error from the runtime's stores and clients.
    static func status(for error: any Error) -> RPCError {
        switch error {
        case let error as PostgresError:
            switch error.code {
            case .connection, .poolTimeout:
                return RPCError(code: .unavailable, message: "the database is unavailable; retry later")
            case .serializationFailure:
                return RPCError(code: .aborted, message: "a concurrent change conflicted; retry")
            case .queryCanceled:
                return RPCError(code: .deadlineExceeded, message: "the database statement timed out")
            case .uniqueViolation:
                return RPCError(code: .alreadyExists, message: "it already exists")
            default:
                return RPCError(code: .internalError, message: "internal error")
            }
        case let error as RedisError:
            switch error.code {
            case .connection, .poolTimeout, .timeout:
                return RPCError(code: .unavailable, message: "Redis is unavailable; retry later")
            default:
                return RPCError(code: .internalError, message: "internal error")
            }
        case let error as OutboundHTTPError:
            switch error.code {
            case .timeout: return RPCError(code: .deadlineExceeded, message: "the upstream call timed out")
            case .policy: return RPCError(code: .invalidArgument, message: "\(error)")
            default: return RPCError(code: .unavailable, message: "the upstream service is unavailable")
            }
        default:
            return RPCError(code: .internalError, message: "internal error")
        }
    }
}
