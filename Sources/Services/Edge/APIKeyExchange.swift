import Crypto
import FoundationEssentials
import RPCCore
import RPCModels
public import Runtime
import RuntimeConfig
public import RuntimeSecurity
import Synchronization

/// API keys everywhere: only the control plane can verify an `apk_` key, so for a route of
/// another service the edge asks control who the key is (AuthService.WhoAmI, with the key) and
/// sends a short-lived access token for that user, tenant and highest role instead (minted with
/// JWT_SECRET, as control mints them). The exchange is remembered per key for half the token's
/// life; a revoked key stops working there within `tokenLifetime`.
public final class APIKeyExchange: Sendable {
    /// How long an exchanged token lives.
    public static let tokenLifetime: Duration = .seconds(60)
    /// The most keys remembered; at capacity the memory starts over.
    static let capacity = 4096

    private let issuer: TokenIssuer
    private let peers: PeerClients
    private let cache = Mutex<[[UInt8]: (token: String, renewAt: ContinuousClock.Instant)]>([:])

    /// An exchange minting with `issuer`, asking control through `peers`.
    public init(issuer: TokenIssuer, peers: PeerClients) {
        self.issuer = issuer
        self.peers = peers
    }

    /// Whether a credential is an API key.
    static func isAPIKey(_ credential: Substring) -> Bool { credential.hasPrefix("apk_") }

    /// An access token standing for the API key; the control plane's error (UNAUTHENTICATED for
    /// a bad key) otherwise.
    func token(for key: String, metadata: Metadata) async throws -> String {
        let digest = Array(SHA256.hash(data: Array(key.utf8)))
        if let cached = cache.withLock({ $0[digest] }), ContinuousClock.now < cached.renewAt { return cached.token }
        let client = Agentplane_V1_AuthService.Client(try peers.client(for: .control))
        var callMetadata = metadata
        callMetadata.replaceOrAddString("Bearer \(key)", forKey: "authorization")
        let who = try await client.whoAmI(
            Agentplane_V1_WhoAmIRequest(), metadata: callMetadata, options: CallOptions(timeout: .seconds(10)))
        let roles = who.roles.compactMap { Role(name: "\($0)") }
        guard who.principalKind == .apiKey, let role = Role.highestHuman(of: roles), let tenant = who.tenant?.id,
            let user = who.user?.id, !tenant.isEmpty, !user.isEmpty
        else {
            throw RPCError(code: .unauthenticated, message: "the API key names no user with a role")
        }
        let issued = try await issuer.issueAccessToken(
            tenantID: tenant, userID: user, role: role, ttl: Self.tokenLifetime)
        cache.withLock { cache in
            if cache.count >= Self.capacity { cache.removeAll() }
            cache[digest] = (issued.token, ContinuousClock.now + Self.tokenLifetime / 2)
        }
        return issued.token
    }
}
