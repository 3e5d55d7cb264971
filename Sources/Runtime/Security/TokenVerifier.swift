public import FoundationEssentials
import JWTKit

/// Checks bearer JWTs and turns them into an `AuthContext`.
///
/// The platform's own tokens (`iss` = `agentplane`) must be HS256 with the platform secret;
/// a token whose `iss` is a configured external issuer must be signed by one of that issuer's
/// JWKS keys, found by `kid`, with that key's algorithm. Everything else, `alg: none`
/// included, is rejected. Time claims are checked with a small leeway for clock skew.
public final class TokenVerifier: Sendable {
    /// The clock skew tolerated on `exp`, `nbf` and `iat`.
    public static let defaultLeeway: Duration = .seconds(30)
    /// Longer bearer tokens are rejected before any parsing.
    public static let maximumTokenLength = 8192

    /// The `iss` of the platform's own tokens.
    public let issuer: String
    private let platformKeys: PreparedKeyCollection
    private let externalIssuers: [String: ExternalKeySet]
    private let leeway: TimeInterval
    private let now: @Sendable () -> Date
    private let cache: VerifiedTokenCache

    /// How many verified tokens a verifier remembers unless told otherwise.
    public static let defaultCacheEntries = 4096

    /// A verifier for the platform's tokens signed with `secret` (at least 32 bytes) and for the
    /// tokens of `externalIssuers`.
    ///
    /// - Parameters:
    ///   - cacheEntries: how many verified tokens are remembered (`AUTH_TOKEN_CACHE_ENTRIES`); 0 none.
    ///   - now: the clock, replaceable in tests.
    /// - Throws: `SecurityConfigurationError` for a short secret, an unusable JWKS, or an
    ///   external issuer named like the platform.
    public init(
        secret: [UInt8], issuer: String = TokenIssuer.platformIssuer, externalIssuers: [ExternalIssuer] = [],
        leeway: Duration = TokenVerifier.defaultLeeway, cacheEntries: Int = TokenVerifier.defaultCacheEntries,
        now: @escaping @Sendable () -> Date = { Date() }
    ) throws(SecurityConfigurationError) {
        try TokenIssuer.checkSecret(secret)
        self.issuer = issuer
        cache = VerifiedTokenCache(capacity: cacheEntries)
        self.leeway = TimeInterval(leeway.components.seconds)
        self.now = now
        platformKeys = .hmac(secret: secret)
        var external: [String: ExternalKeySet] = [:]
        for configuration in externalIssuers {
            guard configuration.issuer != issuer, external[configuration.issuer] == nil else {
                throw SecurityConfigurationError("external issuer \(configuration.issuer) is configured twice")
            }
            external[configuration.issuer] = try ExternalKeySet(configuration)
        }
        self.externalIssuers = external
    }

    /// Replaces the keys of a configured external issuer, e.g. after fetching its JWKS again.
    ///
    /// - Throws: `SecurityConfigurationError` for an unknown issuer or an unusable JWKS; the
    ///   old keys stay in use then.
    public func updateKeys(ofIssuer issuer: String, jwks: String) throws(SecurityConfigurationError) {
        guard let keySet = externalIssuers[issuer] else {
            throw SecurityConfigurationError("\(issuer) is not a configured external issuer")
        }
        try keySet.replace(jwks: jwks)
        // A token signed by a key that is gone must no longer pass.
        cache.removeAll()
    }

    /// The identity a token proves.
    ///
    /// - Throws: `TokenVerificationError` saying why the token is not accepted.
    public func verify(_ token: String) async throws(TokenVerificationError) -> AuthContext {
        let parts = try Self.split(token)
        let key = VerifiedTokenCache.key(token)
        if let entry = cache.entry(key) {
            try checkTimes(expiry: entry.expiry, notBefore: entry.notBefore)
            return entry.context
        }
        let (context, times) = try await verifyUncached(token, parts: parts)
        cache.store(
            VerifiedTokenCache.Entry(context: context, expiry: times.expiry, notBefore: times.notBefore), for: key,
            now: now().timeIntervalSince1970)
        return context
    }

    /// `verify` without the cache: the identity and the time claims it was checked against.
    private func verifyUncached(
        _ token: String, parts: (header: Substring, payload: Substring)
    ) async throws(TokenVerificationError) -> (AuthContext, (expiry: Double, notBefore: Double?)) {
        let header = try Self.decodeObject(parts.header, what: "header")
        let unverified = try Self.decodeObject(parts.payload, what: "payload")
        guard let algorithm = header["alg"]?.string else {
            throw TokenVerificationError(code: .malformed, message: "the token's header names no algorithm")
        }
        guard algorithm.lowercased() != "none" else {
            throw TokenVerificationError(
                code: .unsupportedAlgorithm, message: "unsigned tokens (alg none) are not accepted")
        }
        guard header["crit"] == nil else {
            throw TokenVerificationError(
                code: .unsupportedAlgorithm, message: "tokens with critical header extensions are not accepted")
        }
        guard let tokenIssuer = unverified["iss"]?.string else {
            throw TokenVerificationError(code: .missingClaim, message: "the token has no issuer (iss)")
        }
        if tokenIssuer == issuer {
            guard algorithm == "HS256" else {
                throw TokenVerificationError(
                    code: .unsupportedAlgorithm, message: "platform tokens must be signed with HS256")
            }
            let claims = try await verifySignature(token, with: platformKeys)
            let times = try checkTimes(claims)
            return (try platformContext(claims), times)
        }
        guard let keySet = externalIssuers[tokenIssuer] else {
            throw TokenVerificationError(code: .untrustedIssuer, message: "the token's issuer is not trusted")
        }
        guard let kid = header["kid"]?.string else {
            throw TokenVerificationError(code: .unknownKey, message: "the token names no key (kid)")
        }
        let (keys, algorithms) = keySet.current
        guard let keyAlgorithm = algorithms[kid] else {
            throw TokenVerificationError(code: .unknownKey, message: "the issuer has no key with the token's kid")
        }
        guard algorithm == keyAlgorithm else {
            throw TokenVerificationError(
                code: .unsupportedAlgorithm, message: "the token's algorithm does not match its key's")
        }
        let claims = try await verifySignature(token, with: keys)
        let times = try checkTimes(claims)
        return (try externalContext(claims, issuer: keySet.configuration), times)
    }

    private func verifySignature(
        _ token: String, with keys: PreparedKeyCollection
    ) async throws(TokenVerificationError) -> [String: JSONValue] {
        do {
            return try await keys.keys.verify(token, as: VerifiedClaims.self).members
        } catch let error as JWTError where error.errorType == .malformedToken {
            throw TokenVerificationError(code: .malformed, message: "the token could not be decoded")
        } catch {
            throw TokenVerificationError(code: .badSignature, message: "the token's signature is not valid")
        }
    }

    /// The latest time a token's `exp`, `nbf` or `iat` may name (the end of year 9999, as
    /// Unix seconds): later or non-finite values are refused, so no date derived from a token
    /// overflows a timestamp or a TTL further on.
    static let latestClaimTime: Double = 253_402_300_799

    /// `exp` is required; `nbf` and `iat` are checked when present. Returns `exp` and the later
    /// of `nbf` and `iat`, for checking the token again later without its claims.
    private func checkTimes(
        _ claims: [String: JSONValue]
    ) throws(TokenVerificationError) -> (expiry: Double, notBefore: Double?) {
        for name in ["exp", "nbf", "iat"] {
            if let value = claims[name]?.number, !(0...Self.latestClaimTime).contains(value) {
                throw TokenVerificationError(code: .invalidClaim, message: "the token's \(name) is out of range")
            }
        }
        guard let expiry = claims["exp"]?.number else {
            throw TokenVerificationError(code: .missingClaim, message: "the token has no expiry (exp)")
        }
        try checkTimes(expiry: expiry, notBefore: nil)
        let now = now().timeIntervalSince1970
        let notBefore = claims["nbf"]?.number
        let issuedAt = claims["iat"]?.number
        if let notBefore, now + leeway < notBefore {
            throw TokenVerificationError(code: .notYetValid, message: "the token is not valid yet (nbf)")
        }
        if let issuedAt, now + leeway < issuedAt {
            throw TokenVerificationError(code: .notYetValid, message: "the token was issued in the future (iat)")
        }
        return (expiry, [notBefore, issuedAt].compactMap { $0 }.max())
    }

    /// Whether now lies between `notBefore` and `expiry`, give or take the leeway.
    private func checkTimes(expiry: Double, notBefore: Double?) throws(TokenVerificationError) {
        let now = now().timeIntervalSince1970
        guard now <= expiry + leeway else {
            throw TokenVerificationError(code: .expired, message: "the token has expired")
        }
        if let notBefore, now + leeway < notBefore {
            throw TokenVerificationError(code: .notYetValid, message: "the token is not valid yet (nbf)")
        }
    }

    private func platformContext(_ claims: [String: JSONValue]) throws(TokenVerificationError) -> AuthContext {
        let type = try Self.requiredString(claims, "typ")
        let subject = try Self.requiredString(claims, "sub")
        let tenant = try Self.requiredString(claims, "tid")
        let roleName = try Self.requiredString(claims, "role")
        let tokenID = try Self.requiredString(claims, "jti")
        guard let role = Role(rawValue: roleName) else {
            throw TokenVerificationError(code: .invalidClaim, message: "the token's role is not a known role")
        }
        var context = AuthContext(
            kind: .user, tenantID: tenant, userID: subject, role: role, tokenID: tokenID,
            expiresAt: Self.date(claims["exp"]), issuer: issuer)
        switch type {
        case PlatformTokenType.access:
            guard role.isHuman else {
                throw TokenVerificationError(
                    code: .invalidClaim, message: "an access token cannot carry the service role")
            }
        case PlatformTokenType.service:
            guard role == .service else {
                throw TokenVerificationError(
                    code: .invalidClaim, message: "a service token must carry the service role")
            }
            context.kind = .service
            context.serviceName = try Self.requiredString(claims, "svc")
            context.actingUserID = claims["act"]?.string
        default:
            throw TokenVerificationError(
                code: .wrongType, message: "a token of type \(type) is not accepted as a credential")
        }
        return context
    }

    private func externalContext(
        _ claims: [String: JSONValue], issuer: ExternalIssuer
    ) throws(TokenVerificationError) -> AuthContext {
        if let audience = issuer.audience, !(claims["aud"]?.strings ?? []).contains(audience) {
            throw TokenVerificationError(
                code: .wrongAudience, message: "the token is not meant for this platform (aud)")
        }
        let subject = try Self.requiredString(claims, "sub")
        guard let tenant = claims.claim(issuer.tenantClaim)?.string, !tenant.isEmpty else {
            throw TokenVerificationError(
                code: .missingClaim, message: "the token has no tenant (\(issuer.tenantClaim))")
        }
        let names =
            (claims.claim(issuer.rolesClaim)?.strings ?? []) + (claims.claim("realm_access.roles")?.strings ?? [])
        guard let role = Role.highestHuman(of: names.compactMap(Role.init(name:))) else {
            throw TokenVerificationError(
                code: .missingClaim, message: "the token has no platform role (\(issuer.rolesClaim))")
        }
        return AuthContext(
            kind: .user, tenantID: tenant, userID: subject, role: role, tokenID: claims["jti"]?.string,
            expiresAt: Self.date(claims["exp"]), issuer: issuer.issuer)
    }

    private static func requiredString(
        _ claims: [String: JSONValue], _ name: String
    ) throws(TokenVerificationError) -> String {
        guard let value = claims[name]?.string, !value.isEmpty else {
            throw TokenVerificationError(code: .missingClaim, message: "the token has no \(name) claim")
        }
        return value
    }

    private static func date(_ value: JSONValue?) -> Date? {
        value?.number.map { Date(timeIntervalSince1970: $0) }
    }

    private static func split(_ token: String) throws(TokenVerificationError) -> (header: Substring, payload: Substring)
    {
        guard token.utf8.count <= maximumTokenLength else {
            throw TokenVerificationError(code: .malformed, message: "the token is too long")
        }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw TokenVerificationError(
                code: .malformed, message: "the token is not a JWT (three dot-separated parts)")
        }
        return (parts[0], parts[1])
    }

    private static func decodeObject(
        _ part: Substring, what: String
    ) throws(TokenVerificationError) -> [String: JSONValue] {
        guard let bytes = Base64URL.decode(part), let object = JSONValue.object(from: bytes) else {
            throw TokenVerificationError(code: .malformed, message: "the token's \(what) is not base64url JSON")
        }
        return object
    }
}
