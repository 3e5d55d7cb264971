import Foundation
import RPCCore
import RPCModels
import Runtime
import RuntimeSecurity

/// AuthService: Login, Refresh (rotation with reuse detection), Logout, WhoAmI.
///
/// Under attack: Login counts each attempt before the password is hashed (`LoginRateLimiter`,
/// fail closed), hashes under a bounded concurrency (`PasswordHashingGate`) and holds no
/// database connection while it hashes; Refresh answers an address with too many unknown
/// refresh tokens RESOURCE_EXHAUSTED before the database is asked (`CredentialLookupLimiter`).
struct AuthHandler: Agentplane_V1_AuthService.ServiceProtocol {
    let context: ControlContext
    let limiter: LoginRateLimiter
    let lookups: CredentialLookupLimiter
    let addresses: ClientAddressResolver

    func login(request: Agentplane_V1_LoginRequest, context server: ServerContext) async throws
        -> Agentplane_V1_LoginResponse
    {
        for (field, value) in [
            ("tenant_slug", request.tenantSlug), ("email", request.email),
            ("password", request.password),
        ] where value.isEmpty {
            throw RPCErrors.invalid(field, "MISSING_FIELD", "\(field) must not be empty")
        }
        if request.password.utf8.count > 1024 {
            throw RPCErrors.invalid("password", "TOO_LONG", "password must be at most 1024 bytes")
        }
        let slug = request.tenantSlug.lowercased()
        let email = request.email.trimmingCharacters(in: .whitespaces).lowercased()
        let address = await addresses.address(peer: server.peer, metadata: server.metadata)
        try await limiter.admit(slug: slug, email: email, address: address)
        let gate = context.passwordHashing
        let tenant = try await context.tenants { try await $0.tenant(slug: slug) }
        var user: StoredUser?
        if let tenant {
            user = try await context.transaction(tenant: tenant.id) { session in
                try await UserStore(session: session, tenant: tenant.id).user(email: email)
            }
        }
        // The hash runs outside any transaction: a queue of sign-ins holds no database connection.
        var verified = false
        if let user {
            verified = try await PasswordHasher.verify(request.password, against: user.passwordHash, gate: gate)
        } else {
            try await PasswordHasher.burn(request.password, gate: gate)
        }
        var result: Agentplane_V1_LoginResponse?
        if let tenant, let user, verified {
            result = try await context.transaction(tenant: tenant.id) { session in
                let users = UserStore(session: session, tenant: tenant.id)
                // Deleted while its password was checked: as if unknown.
                guard try await users.user(id: user.user.id) != nil else { return nil }
                try await SessionStore(session: session, tenant: tenant.id).purgeEnded(userID: user.user.id)
                let tokens = try await context.startSession(tenant: tenant.id, user: user, in: session)
                try await users.recordLogin(id: user.user.id)
                var response = Agentplane_V1_LoginResponse()
                response.tokens = tokens
                response.user = try await users.user(id: user.user.id)?.user ?? user.user
                response.tenant = tenant
                return response
            }
        }
        guard let result else {
            throw RPCError(code: .unauthenticated, message: "unknown tenant, email or password")
        }
        do {
            try await limiter.succeeded(slug: slug, email: email, address: address)
        } catch {
            // The sign-in happened; its counters expire with their window.
            context.logger.warning("cannot reset the sign-in attempt counter", metadata: ["error": "\(error)"])
        }
        return result
    }

    /// What a Refresh found, decided inside the transaction and acted on after it committed.
    private enum RefreshOutcome: Sendable {
        case rotated(Agentplane_V1_TokenPair)
        case rejected
        case reused([SessionAccessToken])
    }

    func refresh(request: Agentplane_V1_RefreshRequest, context server: ServerContext) async throws
        -> Agentplane_V1_RefreshResponse
    {
        if request.refreshToken.isEmpty {
            throw RPCErrors.invalid("refresh_token", "MISSING_FIELD", "refresh_token must not be empty")
        }
        let address = await addresses.address(peer: server.peer, metadata: server.metadata)
        try await lookups.check(address: address)
        guard let credential = OpaqueCredential.parse(request.refreshToken, kind: OpaqueCredential.refreshPrefix)
        else {
            await lookups.recordFailure(address: address)
            throw RPCError(code: .unauthenticated, message: "unknown, expired or revoked refresh token")
        }
        let tenant = credential.tenantID
        let context = self.context
        let outcome: RefreshOutcome = try await context.transaction(tenant: tenant) { session in
            let sessions = SessionStore(session: session, tenant: tenant)
            guard let record = try await sessions.refreshToken(hash: credential.hash) else { return .rejected }
            if record.used {
                // A rotated token presented again: someone holds a copy. End the whole family.
                return .reused(try await sessions.revoke(sessionID: record.sessionID))
            }
            guard !record.sessionRevoked, record.sessionExpiresAt > Date() else { return .rejected }
            try await sessions.markUsed(hash: credential.hash)
            guard let user = try await UserStore(session: session, tenant: tenant).user(id: record.userID) else {
                _ = try await sessions.revoke(sessionID: record.sessionID)
                return .rejected
            }
            let access = try await context.tokens.issueAccessToken(
                tenantID: tenant, userID: user.user.id, role: user.effectiveRole, ttl: context.settings.accessTokenTTL)
            let next = OpaqueCredential.generate(kind: OpaqueCredential.refreshPrefix, tenantID: tenant)
            try await sessions.addRefreshToken(
                hash: next.hash, sessionID: record.sessionID,
                access: SessionAccessToken(tokenID: access.tokenID, expiresAt: access.expiresAt))
            return .rotated(
                ControlContext.pair(access: access, refresh: next.text, refreshExpires: record.sessionExpiresAt))
        }
        switch outcome {
        case .rotated(let pair):
            var response = Agentplane_V1_RefreshResponse()
            response.tokens = pair
            return response
        case .rejected:
            await lookups.recordFailure(address: address)
            throw RPCError(code: .unauthenticated, message: "unknown, expired or revoked refresh token")
        case .reused(let tokens):
            try await context.denylist(tokens)
            await context.events.publish(
                tenant: tenant, type: "session.reuse_detected", subject: "", actor: "")
            throw RPCError(
                code: .unauthenticated,
                message: "refresh token was already used; the session is revoked, sign in again")
        }
    }

    func logout(request: Agentplane_V1_LogoutRequest, context server: ServerContext) async throws
        -> Agentplane_V1_LogoutResponse
    {
        guard let caller = AuthContext.current else { throw RPCErrors.unauthenticated }
        guard caller.kind == .user, caller.issuer == TokenIssuer.platformIssuer, let tokenID = caller.tokenID else {
            throw RPCError(
                code: .failedPrecondition,
                message: "only a user access token has a session to end (not an API key "
                    + "or service token)")
        }
        let revoked = try await context.transaction(tenant: caller.tenantID) { session in
            let sessions = SessionStore(session: session, tenant: caller.tenantID)
            return request.allSessions
                ? try await sessions.revokeAll(userID: caller.userID)
                : try await sessions.revoke(accessTokenID: tokenID)
        }
        try await context.denylist(
            revoked + [
                SessionAccessToken(tokenID: tokenID, expiresAt: caller.expiresAt ?? Date().addingTimeInterval(3600))
            ])
        return Agentplane_V1_LogoutResponse()
    }

    func whoAmI(request: Agentplane_V1_WhoAmIRequest, context server: ServerContext) async throws
        -> Agentplane_V1_WhoAmIResponse
    {
        guard let caller = AuthContext.current else { throw RPCErrors.unauthenticated }
        var response = Agentplane_V1_WhoAmIResponse()
        response.roles = [RoleMapping.proto(caller.role)]
        response.expiresAt = caller.expiresAt.map { Google_Protobuf_Timestamp(date: $0) }
        response.tenant = try await context.tenants { try await $0.tenant(id: caller.tenantID) }
        try await context.transaction(tenant: caller.tenantID) { session in
            let users = UserStore(session: session, tenant: caller.tenantID)
            switch caller.kind {
            case .user:
                response.principalKind = .user
                if let user = try await users.user(id: caller.userID) {
                    response.user = user.user
                    response.roles = user.roles.map(RoleMapping.proto)
                }
            case .apiKey:
                response.principalKind = .apiKey
                response.user = try await users.user(id: caller.userID)?.user
                if let id = caller.tokenID,
                    let key = try await APIKeyStore(session: session, tenant: caller.tenantID)
                        .key(id: id)
                {
                    response.apiKey = key.key
                    response.roles = key.roles.map(RoleMapping.proto)
                }
            case .service:
                response.principalKind = .service
                if let acting = caller.actingUserID { response.user = try await users.user(id: acting)?.user }
            }
        }
        return response
    }
}
