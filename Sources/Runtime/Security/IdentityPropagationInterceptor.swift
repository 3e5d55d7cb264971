public import FoundationEssentials
public import RPCCore

/// Carries the caller's identity onto the calls a service makes while serving it.
///
/// For an outbound call without `authorization` metadata, made while `AuthContext.current` is
/// set: a service token is forwarded unchanged (so the original service and acting user stay
/// visible downstream) unless it is about to expire, in which case a fresh one is minted for
/// the same tenant and acting user; for a user or API-key caller this service mints a service
/// token for the caller's tenant with the caller as acting user. Without a current caller the
/// call goes out without credentials.
public struct IdentityPropagationInterceptor: ClientInterceptor {
    /// A forwarded service token must have at least this much time left; see `intercept`.
    public static let forwardingMargin: Duration = .seconds(5)

    private let issuer: TokenIssuer
    private let serviceName: String
    private let tokenLifetime: Duration
    private let now: @Sendable () -> Date

    /// An interceptor minting tokens as `serviceName` (e.g. `control`), each valid for
    /// `tokenLifetime`.
    ///
    /// - Parameter now: the clock, replaceable in tests.
    public init(
        issuer: TokenIssuer, serviceName: String, tokenLifetime: Duration = .seconds(60),
        now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.issuer = issuer
        self.serviceName = serviceName
        self.tokenLifetime = tokenLifetime
        self.now = now
    }

    /// Adds the credential, then makes the call.
    public func intercept<Result: Sendable>(
        _ call: ClientCallInfo, next: @Sendable (ClientCallInfo) async throws -> Result
    ) async throws -> Result {
        guard call.metadata.firstString(forKey: "authorization") == nil, let caller = AuthContext.current else {
            return try await next(call)
        }
        var call = call
        call.metadata.replaceOrAddString("Bearer \(try await credential(for: caller))", forKey: "authorization")
        return try await next(call)
    }

    /// The bearer token an outbound call on behalf of `caller` carries.
    func credential(for caller: AuthContext) async throws -> String {
        if caller.kind == .service, let token = caller.bearerToken,
            let expiresAt = caller.expiresAt,
            expiresAt.timeIntervalSince(now()) > TimeInterval(Self.forwardingMargin.components.seconds)
        {
            return token
        }
        let actingUser = caller.kind == .service ? caller.actingUserID : caller.userID
        return try await issuer.issueServiceToken(
            service: serviceName, tenantID: caller.tenantID, actingUserID: actingUser, ttl: tokenLifetime
        ).token
    }
}
