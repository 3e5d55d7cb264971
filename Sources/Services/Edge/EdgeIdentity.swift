public import RuntimeSecurity
import Synchronization

/// The edge's own identity towards the services: a short-lived service token for the service
/// `edge`, sent as `x-agentplane-edge-token` beside the caller's credentials, so that a service
/// believes the `x-agentplane-client-address` it forwards (and believes it from nobody else).
public final class EdgeIdentity: Sendable {
    /// The metadata key of the edge's token.
    public static let tokenKey = "x-agentplane-edge-token"
    /// The metadata key of the client's address.
    public static let clientAddressKey = "x-agentplane-client-address"
    /// The tenant the edge's token names: the edge acts for no tenant of its own.
    public static let tenant = "00000000-0000-0000-0000-000000000000"

    private let issuer: TokenIssuer
    private let current = Mutex<(token: String, renewAt: ContinuousClock.Instant)?>(nil)
    private let lifetime: Duration = .seconds(300)

    /// Mints with `issuer` (JWT_SECRET).
    public init(issuer: TokenIssuer) {
        self.issuer = issuer
    }

    /// The token to send now: minted again once half its lifetime has passed.
    public func token() async throws -> String {
        if let cached = current.withLock({ $0 }), ContinuousClock.now < cached.renewAt { return cached.token }
        let issued = try await issuer.issueServiceToken(
            service: "edge", tenantID: Self.tenant, actingUserID: nil, ttl: lifetime)
        current.withLock { $0 = (issued.token, ContinuousClock.now + lifetime / 2) }
        return issued.token
    }
}
