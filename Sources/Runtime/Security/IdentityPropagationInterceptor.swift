public import FoundationEssentials
public import RPCCore
import Synchronization

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
    private let minted: MintedTokens

    /// An interceptor minting tokens as `serviceName` (e.g. `control`), each valid for
    /// `tokenLifetime`. A minted token is used again for the same tenant and acting user while
    /// more than half its lifetime is left, so the services it reaches find it among the tokens
    /// they verified; at most `cacheEntries` are kept (0: a new token for every call).
    ///
    /// - Parameter now: the clock, replaceable in tests.
    public init(
        issuer: TokenIssuer, serviceName: String, tokenLifetime: Duration = .seconds(60),
        cacheEntries: Int = TokenVerifier.defaultCacheEntries, now: @escaping @Sendable () -> Date = { Date() }
    ) {
        self.issuer = issuer
        self.serviceName = serviceName
        self.tokenLifetime = tokenLifetime
        self.now = now
        self.minted = MintedTokens(capacity: cacheEntries)
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
        let key = MintedTokens.Key(tenant: caller.tenantID, actingUser: actingUser)
        let halfLife = TimeInterval(tokenLifetime.components.seconds) / 2
        if let token = minted.token(for: key), token.expiresAt.timeIntervalSince(now()) > halfLife {
            return token.token
        }
        let token = try await issuer.issueServiceToken(
            service: serviceName, tenantID: caller.tenantID, actingUserID: actingUser, ttl: tokenLifetime)
        minted.store(token, for: key)
        return token.token
    }
}

/// The service tokens an interceptor minted, by tenant and acting user; at capacity it starts over.
final class MintedTokens: Sendable {
    /// Whom a token is for.
    struct Key: Hashable, Sendable {
        var tenant: String
        var actingUser: String?
    }

    private let capacity: Int
    private let tokens = Mutex<[Key: IssuedToken]>([:])

    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    func token(for key: Key) -> IssuedToken? {
        tokens.withLock { $0[key] }
    }

    func store(_ token: IssuedToken, for key: Key) {
        guard capacity > 0 else { return }
        tokens.withLock { tokens in
            if tokens.count >= capacity, tokens[key] == nil { tokens.removeAll(keepingCapacity: true) }
            tokens[key] = token
        }
    }
}
