public import FoundationEssentials
import JWTKit
import Saturating

/// A signed token with what the caller needs to remember about it.
public struct IssuedToken: Sendable, Hashable {
    /// The compact JWT, for `authorization: Bearer <token>`.
    public var token: String
    /// Its `jti`, to revoke it.
    public var tokenID: String
    /// When it expires.
    public var expiresAt: Date

    /// A token.
    public init(token: String, tokenID: String, expiresAt: Date) {
        self.token = token
        self.tokenID = tokenID
        self.expiresAt = expiresAt
    }
}

/// Mints the platform's own tokens: user access tokens and service tokens, HS256-signed with
/// the platform secret (`JWT_SECRET`), which every service shares.
public struct TokenIssuer: Sendable {
    /// The `iss` of the platform's own tokens.
    public static let platformIssuer = "agentplane"
    /// The shortest secret accepted, in bytes: HS256 needs a key as long as its hash.
    public static let minimumSecretLength = 32

    /// The `iss` this issuer writes.
    public let issuer: String
    private let keys: PreparedKeyCollection
    private let now: @Sendable () -> Date

    /// An issuer signing with `secret` (at least 32 bytes; e.g. `Array(jwtSecret.utf8)`).
    ///
    /// - Parameter now: the clock, replaceable in tests.
    /// - Throws: `SecurityConfigurationError` naming JWT_SECRET when the secret is too short.
    public init(
        secret: [UInt8], issuer: String = TokenIssuer.platformIssuer,
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws(SecurityConfigurationError) {
        try Self.checkSecret(secret)
        self.issuer = issuer
        self.now = now
        keys = .hmac(secret: secret)
    }

    /// A user access token for `userID` in `tenantID` with a human role.
    ///
    /// - Throws: `SecurityConfigurationError` for the `service` role (mint a service token) or
    ///   an empty tenant or user.
    public func issueAccessToken(
        tenantID: String, userID: String, role: Role, ttl: Duration = .seconds(900)
    ) async throws -> IssuedToken {
        guard role.isHuman else {
            throw SecurityConfigurationError("an access token cannot carry the service role")
        }
        return try await issue(
            type: PlatformTokenType.access, subject: userID, tenantID: tenantID, role: role, ttl: ttl,
            service: nil, actingUserID: nil)
    }

    /// A short-lived service token with which `service` calls another service for `tenantID`,
    /// on behalf of `actingUserID` when a person started the work.
    public func issueServiceToken(
        service: String, tenantID: String, actingUserID: String?, ttl: Duration = .seconds(60)
    ) async throws -> IssuedToken {
        guard !service.isEmpty else { throw SecurityConfigurationError("a service token needs a service name") }
        return try await issue(
            type: PlatformTokenType.service, subject: "service:\(service)", tenantID: tenantID, role: .service,
            ttl: ttl, service: service, actingUserID: actingUserID)
    }

    private func issue(
        type: String, subject: String, tenantID: String, role: Role, ttl: Duration, service: String?,
        actingUserID: String?
    ) async throws -> IssuedToken {
        guard !tenantID.isEmpty, !subject.isEmpty else {
            throw SecurityConfigurationError("a token needs a tenant and a subject")
        }
        guard ttl > .zero else { throw SecurityConfigurationError("a token's lifetime must be positive") }
        let issuedAt = Int(now().timeIntervalSince1970)
        let expiresAt = Saturating.add(issuedAt, max(1, Int(ttl.saturatingSeconds)))
        let tokenID = Self.randomTokenID()
        let claims = PlatformClaims(
            iss: issuer, sub: subject, tid: tenantID, role: role.rawValue, jti: tokenID, iat: issuedAt,
            exp: expiresAt, typ: type, svc: service, act: actingUserID)
        let token = try await keys.keys.sign(claims)
        return IssuedToken(
            token: token, tokenID: tokenID, expiresAt: Date(timeIntervalSince1970: TimeInterval(expiresAt)))
    }

    /// 128 random bits as 32 hex digits.
    static func randomTokenID() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<2).map { _ in
            let hex = String(generator.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
    }

    static func checkSecret(_ secret: [UInt8]) throws(SecurityConfigurationError) {
        guard secret.count >= minimumSecretLength else {
            throw SecurityConfigurationError(
                "JWT_SECRET must be at least \(minimumSecretLength) bytes (it has \(secret.count))")
        }
    }
}
