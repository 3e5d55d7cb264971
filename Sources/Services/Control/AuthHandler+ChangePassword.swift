import Foundation
import RPCCore
import RPCModels
import Runtime
import RuntimeSecurity

extension AuthHandler {
    /// ChangePassword: the caller's current password checked like a sign-in (counted first against
    /// the account's sign-in limit, hashed under the gate, outside any transaction), then the new hash stored and every other
    /// session of the user ended in one transaction; their access tokens are denylisted after it.
    func changePassword(request: Agentplane_V1_ChangePasswordRequest, context server: ServerContext) async throws
        -> Agentplane_V1_ChangePasswordResponse
    {
        guard let caller = AuthContext.current else { throw RPCErrors.unauthenticated }
        guard caller.kind == .user, caller.issuer == TokenIssuer.platformIssuer, let tokenID = caller.tokenID else {
            throw RPCError(
                code: .failedPrecondition,
                message: "only a signed-in user can change their password (not an API key or service token)")
        }
        if request.currentPassword.isEmpty {
            throw RPCErrors.invalid("current_password", "MISSING_FIELD", "current_password must not be empty")
        }
        if request.currentPassword.utf8.count > 1024 {
            throw RPCErrors.invalid("current_password", "TOO_LONG", "current_password must be at most 1024 bytes")
        }
        try RPCErrors.password(request.newPassword, field: "new_password")
        if request.newPassword == request.currentPassword {
            throw RPCErrors.invalid("new_password", "UNCHANGED", "new_password must differ from the current one")
        }
        let tenant = try await context.tenants { try await $0.tenant(id: caller.tenantID) }
        let stored = try await context.transaction(tenant: caller.tenantID) { session in
            try await UserStore(session: session, tenant: caller.tenantID).user(id: caller.userID)
        }
        guard let tenant, let stored else { throw RPCErrors.unauthenticated }
        // Counted against the account only: the caller is signed in, and a client address's
        // budget is for sign-ins.
        try await limiter.admit(slug: tenant.slug, email: stored.user.email, address: nil)
        let gate = context.passwordHashing
        guard try await PasswordHasher.verify(request.currentPassword, against: stored.passwordHash, gate: gate) else {
            throw RPCError.withDetails(.permissionDenied, "current_password is wrong", reason: "WRONG_PASSWORD")
        }
        let hash = try await PasswordHasher.hash(request.newPassword, gate: gate)
        let ended = try await context.transaction(tenant: caller.tenantID) { session in
            let users = UserStore(session: session, tenant: caller.tenantID)
            guard try await users.setPassword(id: caller.userID, hash: hash, temporary: false) else {
                throw RPCErrors.unauthenticated
            }
            return try await SessionStore(session: session, tenant: caller.tenantID).revokeAll(
                userID: caller.userID, except: tokenID)
        }
        try await context.denylist(ended.tokens)
        do {
            try await limiter.succeeded(slug: tenant.slug, email: stored.user.email, address: nil)
        } catch {
            context.logger.warning("cannot reset the sign-in attempt counter", metadata: ["error": "\(error)"])
        }
        await context.events.publish(
            tenant: caller.tenantID, type: "user.password_changed", subject: caller.userID, actor: caller.userID)
        var response = Agentplane_V1_ChangePasswordResponse()
        response.endedSessions = Int32(clamping: ended.sessions)
        return response
    }
}
