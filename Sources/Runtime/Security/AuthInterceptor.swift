public import RPCCore

/// Authenticates and authorizes every call a server handles ([Auth], [Roles]).
///
/// Public methods (health, reflection, Login, Refresh) pass without credentials; when they
/// carry valid ones the caller is still made known to the handler. Every other call needs
/// `authorization: Bearer <token>` with a valid access token, service token or API key
/// (UNAUTHENTICATED otherwise), whose `jti` (of an access token) is not revoked, and a role the policy accepts
/// (PERMISSION_DENIED otherwise). The handler then runs with `AuthContext.current` set.
/// Messages never repeat the credential.
public struct AuthInterceptor: ServerInterceptor {
    private let verifier: TokenVerifier
    private let policy: AuthPolicy
    private let revocations: any RevocationList
    private let apiKeyVerifier: (any APIKeyVerifier)?

    /// An interceptor.
    ///
    /// - Parameters:
    ///   - apiKeyVerifier: verifies `apk_` keys; nil on services that do not accept them (all but the
    ///     control plane).
    public init(
        verifier: TokenVerifier, policy: AuthPolicy = AuthPolicy(), revocations: any RevocationList,
        apiKeyVerifier: (any APIKeyVerifier)? = nil
    ) {
        self.verifier = verifier
        self.policy = policy
        self.revocations = revocations
        self.apiKeyVerifier = apiKeyVerifier
    }

    /// Checks the call's credentials, then runs it as its caller.
    public func intercept(
        context: ServerContext, next: @Sendable (ServerContext) async throws -> Void
    ) async throws {
        let path = context.descriptor.path
        if policy.isPublic(path) {
            // A public method works the same with bad credentials; good ones are passed on.
            let caller = try? await authenticate(context.metadata, peer: context.peer)
            try await AuthContext.$current.withValue(caller) { try await next(context) }
            return
        }
        let caller = try await authenticate(context.metadata, peer: context.peer)
        try policy.authorize(caller, path: path)
        try await AuthContext.$current.withValue(caller) { try await next(context) }
    }

    /// The caller the metadata's credentials prove, for a call from `peer`.
    func authenticate(_ metadata: Metadata, peer: String) async throws(RPCError) -> AuthContext {
        let token = try Self.bearerToken(in: metadata)
        let caller: AuthContext
        if token.hasPrefix(APIKeyFormat.prefix) {
            caller = try await verifyAPIKey(token, peer: peer, metadata: metadata)
        } else {
            do {
                caller = try await verifier.verify(token)
            } catch {
                throw RPCError(code: .unauthenticated, message: "invalid token: \(error.message)")
            }
        }
        // Service tokens live a minute and are never revoked (a session's access tokens are): the
        // check would be a Redis round trip per peer call that can only answer no.
        if let tokenID = caller.tokenID, caller.kind == .user {
            let revoked: Bool
            do {
                revoked = try await revocations.isRevoked(tokenID: tokenID)
            } catch {
                throw RPCError(code: .unavailable, message: "cannot check whether the token is revoked; try again")
            }
            if revoked { throw RPCError(code: .unauthenticated, message: "the token has been revoked") }
        }
        return caller.withBearerToken(token)
    }

    private func verifyAPIKey(_ key: String, peer: String, metadata: Metadata) async throws(RPCError) -> AuthContext {
        guard let apiKeyVerifier else {
            throw RPCError(
                code: .unauthenticated,
                message: "API keys are verified by the control plane; this service needs a token")
        }
        let caller: AuthContext?
        do {
            caller = try await apiKeyVerifier.verify(apiKey: key, peer: peer, metadata: metadata)
        } catch let error as RPCError {
            throw error
        } catch {
            throw RPCError(code: .unavailable, message: "cannot verify the API key now; try again")
        }
        guard var caller else { throw RPCError(code: .unauthenticated, message: "unknown or revoked API key") }
        caller.kind = .apiKey
        return caller
    }

    /// The token of the one `authorization: Bearer <token>` value (scheme in any case).
    static func bearerToken(in metadata: Metadata) throws(RPCError) -> String {
        let values = metadata[stringValues: "authorization"]
        guard let value = values.first else {
            throw RPCError(
                code: .unauthenticated, message: "missing credentials: send authorization: Bearer <token>")
        }
        guard values.count == 1 else {
            throw RPCError(code: .unauthenticated, message: "more than one authorization value")
        }
        let parts = value.split(separator: " ")
        guard let scheme = parts.first else {
            throw RPCError(code: .unauthenticated, message: "empty authorization value: expected Bearer <token>")
        }
        guard scheme.lowercased() == "bearer" else {
            throw RPCError(
                code: .unauthenticated, message: "unsupported authorization scheme: expected Bearer <token>")
        }
        guard parts.count > 1 else { throw RPCError(code: .unauthenticated, message: "empty bearer token") }
        guard parts.count == 2 else {
            throw RPCError(code: .unauthenticated, message: "malformed authorization value: expected Bearer <token>")
        }
        return String(parts[1])
    }
}
