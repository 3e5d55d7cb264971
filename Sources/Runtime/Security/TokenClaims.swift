import FoundationEssentials
import JWTKit

/// The claims of the platform's own tokens, as they are signed.
struct PlatformClaims: JWTPayload {
    /// Issuer: `agentplane`.
    var iss: String
    /// Subject: the user, or `service:<name>`.
    var sub: String
    /// Tenant id.
    var tid: String
    /// Role name.
    var role: String
    /// Token id, for revocation.
    var jti: String
    /// Issued at, Unix seconds.
    var iat: Int
    /// Expires at, Unix seconds.
    var exp: Int
    /// `access` or `service`.
    var typ: String
    /// The minting service, for service tokens.
    var svc: String?
    /// The acting user, for service tokens.
    var act: String?

    /// Claims are checked by `TokenVerifier` after decoding, not here.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// A verified token's claims, whatever they are: external issuers choose their own names.
struct VerifiedClaims: JWTPayload {
    var members: [String: JSONValue]

    init(from decoder: any Decoder) throws {
        members = try decoder.singleValueContainer().decode([String: JSONValue].self)
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(members)
    }

    /// Time claims are checked by `TokenVerifier` with its clock and leeway.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// The two token types the platform mints (`typ` claim).
enum PlatformTokenType {
    static let access = "access"
    static let service = "service"
}
