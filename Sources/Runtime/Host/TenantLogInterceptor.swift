import RPCCore
import RuntimeObservability
import RuntimeSecurity

/// Adds the caller's tenant and user to every log line written while serving a call; runs
/// inside the auth interceptor, which established them.
struct TenantLogInterceptor: ServerInterceptor {
    func intercept(context: ServerContext, next: @Sendable (ServerContext) async throws -> Void) async throws {
        guard let auth = AuthContext.current else { return try await next(context) }
        try await LogContext.with(["tenant": .string(auth.tenantID), "user": .string(auth.effectiveUserID)]) {
            try await next(context)
        }
    }
}
