import Foundation
import RPCCore
import RPCModels
import Runtime
import RuntimeSecurity

extension UserHandler {
    /// ResetPassword: an admin sets another user's temporary password; every session of that
    /// user ends (their access tokens are denylisted after the transaction commits).
    func resetPassword(request: Agentplane_V1_ResetPasswordRequest, context server: ServerContext) async throws
        -> Agentplane_V1_ResetPasswordResponse
    {
        let caller = try AuthContext.require(minimum: .admin)
        if request.userID.isEmpty { throw RPCErrors.invalid("user_id", "MISSING_FIELD", "user_id is required") }
        try RPCErrors.password(request.password)
        // Checked before the hash is spent: another tenant's id is NOT_FOUND, an owner needs an owner.
        let target = try await context.transaction(tenant: caller.tenantID) { session in
            try await UserStore(session: session, tenant: caller.tenantID).user(id: request.userID)
        }
        try Self.checkReset(of: target, id: request.userID, by: caller)
        let hash = try await PasswordHasher.hash(request.password, gate: context.passwordHashing)
        let (user, ended) = try await context.transaction(tenant: caller.tenantID) { session in
            let users = UserStore(session: session, tenant: caller.tenantID)
            // Read again under a lock: the user may have been deleted or promoted meanwhile.
            let current = try await users.user(id: request.userID, locking: true)
            try Self.checkReset(of: current, id: request.userID, by: caller)
            _ = try await users.setPassword(id: request.userID, hash: hash, temporary: true)
            let ended = try await SessionStore(session: session, tenant: caller.tenantID).revokeAll(
                userID: request.userID, except: nil)
            return (try await users.user(id: request.userID) ?? current, ended)
        }
        try await context.denylist(ended.tokens)
        await context.events.publish(
            tenant: caller.tenantID, type: "user.password_reset", subject: request.userID, actor: caller.userID)
        var response = Agentplane_V1_ResetPasswordResponse()
        response.user = user?.user
        response.endedSessions = Int32(clamping: ended.sessions)
        return response
    }

    /// NOT_FOUND for no such user, FAILED_PRECONDITION for the caller themself, PERMISSION_DENIED
    /// for an owner reset by a non-owner.
    private static func checkReset(of user: StoredUser?, id: String, by caller: AuthContext) throws {
        guard let user else { throw RPCErrors.notFound("user", id) }
        if user.user.id == caller.effectiveUserID {
            throw RPCError(
                code: .failedPrecondition, message: "you cannot reset your own password; change it with ChangePassword")
        }
        if user.roles.contains(.owner), caller.role != .owner {
            throw RPCError(code: .permissionDenied, message: "resetting an owner's password requires an owner")
        }
    }
}
