import CryptoExtras
import Foundation
import JWTKit
import RuntimeSecurity
import Testing

/// Claims as an external OIDC issuer (Keycloak) writes them.
private struct OIDCClaims: JWTPayload {
    struct RealmAccess: Codable {
        var roles: [String]
    }

    var iss: String
    var sub: String
    var aud: [String]?
    var exp: Int
    var iat: Int
    var jti: String?
    var tenantID: String?
    var roles: [String]?
    var realmAccess: RealmAccess?

    enum CodingKeys: String, CodingKey {
        case iss, sub, aud, exp, iat, jti, roles
        case tenantID = "tenant_id"
        case realmAccess = "realm_access"
    }

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// An OIDC issuer with an RSA and a P-256 key, and its JWKS document.
private struct TestOIDCIssuer {
    static let url = "https://sso.example.test/realms/acme"
    let signer = JWTKeyCollection()
    let jwks: String

    init() async throws {
        let rsa = try Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
        let ec = ES256PrivateKey()
        await signer.add(rsa: rsa, digestAlgorithm: .sha256, kid: "rsa-1")
        await signer.add(ecdsa: ec, kid: "ec-1")
        let (modulus, exponent) = try rsa.publicKey.getKeyPrimitives()
        let (x, y) = try #require(ec.parameters)
        let document: [String: Any] = [
            "keys": [
                [
                    "kty": "RSA", "kid": "rsa-1", "use": "sig", "alg": "RS256",
                    "n": authBase64URL(modulus), "e": authBase64URL(exponent),
                ],
                ["kty": "EC", "kid": "ec-1", "crv": "P-256", "x": x, "y": y],
                // Keycloak also publishes an encryption key and may list symmetric ones: both ignored.
                [
                    "kty": "RSA", "kid": "enc-1", "use": "enc", "alg": "RSA-OAEP",
                    "n": authBase64URL(modulus), "e": authBase64URL(exponent),
                ],
                ["kty": "oct", "kid": "hmac-1", "k": authBase64URL(authTestSecret)],
            ]
        ]
        jwks = String(decoding: try JSONSerialization.data(withJSONObject: document), as: UTF8.self)
    }

    func configuration(audience: String? = nil) -> ExternalIssuer {
        ExternalIssuer(issuer: Self.url, jwks: jwks, audience: audience)
    }

    func claims(
        roles: [String]? = nil, realmRoles: [String]? = nil, tenant: String? = "tenant-k", aud: [String]? = nil
    ) -> OIDCClaims {
        let now = Int(Date().timeIntervalSince1970)
        return OIDCClaims(
            iss: Self.url, sub: "kc-user", aud: aud, exp: now + 300, iat: now, jti: "kc-jti", tenantID: tenant,
            roles: roles, realmAccess: realmRoles.map(OIDCClaims.RealmAccess.init))
    }

    func sign(_ claims: OIDCClaims, kid: String) async throws -> String {
        try await signer.sign(claims, kid: JWKIdentifier(string: kid))
    }
}

@Suite("Auth tokens")
struct AuthTokenTests {
    private func rejection(
        _ verifier: TokenVerifier, _ token: String
    ) async -> TokenVerificationError? {
        await #expect(throws: TokenVerificationError.self) { _ = try await verifier.verify(token) }
    }

    @Test("an access token round-trips into an AuthContext")
    func accessTokenRoundTrip() async throws {
        let issued = try await TokenIssuer(secret: authTestSecret).issueAccessToken(
            tenantID: "tenant-a", userID: "user-1", role: .builder, ttl: .seconds(120))
        #expect(issued.tokenID.count == 32)
        let context = try await TokenVerifier(secret: authTestSecret).verify(issued.token)
        #expect(context.kind == .user)
        #expect(context.tenantID == "tenant-a")
        #expect(context.userID == "user-1")
        #expect(context.role == .builder)
        #expect(context.tokenID == issued.tokenID)
        #expect(context.issuer == "agentplane")
        #expect(abs(try #require(context.expiresAt).timeIntervalSince(issued.expiresAt)) < 1)
        #expect(!context.description.contains(issued.token))
    }

    @Test("a service token carries the service, tenant and acting user")
    func serviceTokenRoundTrip() async throws {
        let issued = try await TokenIssuer(secret: authTestSecret).issueServiceToken(
            service: "execution", tenantID: "tenant-a", actingUserID: "user-9")
        let context = try await TokenVerifier(secret: authTestSecret).verify(issued.token)
        #expect(context.kind == .service)
        #expect(context.role == .service)
        #expect(context.serviceName == "execution")
        #expect(context.actingUserID == "user-9")
        #expect(context.effectiveUserID == "user-9")
        #expect(try #require(context.expiresAt).timeIntervalSinceNow <= 60)
    }

    @Test("secrets shorter than 32 bytes are refused, naming JWT_SECRET")
    func shortSecret() throws {
        let error = #expect(throws: SecurityConfigurationError.self) {
            _ = try TokenIssuer(secret: Array("short".utf8))
        }
        #expect(error?.message.contains("JWT_SECRET") == true)
        #expect(throws: SecurityConfigurationError.self) { _ = try TokenVerifier(secret: Array("short".utf8)) }
    }

    @Test("alg none, HS512, missing claims, wrong typ and a service role in an access token are rejected")
    func rejectsBadPlatformTokens() async throws {
        let verifier = try TokenVerifier(secret: authTestSecret)
        let none = "\(try authBase64URLJSON(["alg": "none"])).\(try authBase64URLJSON(platformClaims()))."
        #expect(await rejection(verifier, none)?.code == .unsupportedAlgorithm)
        let noneUpper = "\(try authBase64URLJSON(["alg": "NONE"])).\(try authBase64URLJSON(platformClaims())).x"
        #expect(await rejection(verifier, noneUpper)?.code == .unsupportedAlgorithm)
        let hs512 = try handSignedToken(header: ["alg": "HS512"], claims: platformClaims())
        #expect(await rejection(verifier, hs512)?.code == .unsupportedAlgorithm)

        // A hand-signed token with the right claims passes: the checks below fail for their reason only.
        _ = try await verifier.verify(try handSignedToken(claims: platformClaims()))
        for claim in ["tid", "sub", "role", "jti", "exp", "typ"] {
            var claims = platformClaims()
            claims[claim] = nil
            let error = await rejection(verifier, try handSignedToken(claims: claims))
            #expect(error?.code == .missingClaim, "\(claim)")
        }
        let refresh = await rejection(verifier, try handSignedToken(claims: platformClaims(type: "refresh")))
        #expect(refresh?.code == .wrongType)
        let serviceAccess = await rejection(verifier, try handSignedToken(claims: platformClaims(role: "service")))
        #expect(serviceAccess?.code == .invalidClaim)
        let unknownRole = await rejection(verifier, try handSignedToken(claims: platformClaims(role: "superuser")))
        #expect(unknownRole?.code == .invalidClaim)
        var noService = platformClaims(type: "service", role: "service")
        noService["svc"] = nil
        #expect(await rejection(verifier, try handSignedToken(claims: noService))?.code == .missingClaim)
        let forged = try handSignedToken(claims: platformClaims(), secret: Array(repeating: 7, count: 32))
        #expect(await rejection(verifier, forged)?.code == .badSignature)
        #expect(await rejection(verifier, "not-a-jwt")?.code == .malformed)
        #expect(await rejection(verifier, "%%%.%%%.%%%")?.code == .malformed)
        #expect(await rejection(verifier, String(repeating: "a", count: 9000))?.code == .malformed)
        var noIssuer = platformClaims()
        noIssuer["iss"] = nil
        #expect(await rejection(verifier, try handSignedToken(claims: noIssuer))?.code == .missingClaim)
    }

    @Test("expiry and not-before are checked with a 30 second leeway")
    func timeClaims() async throws {
        let now = Date()
        let verifier = try TokenVerifier(secret: authTestSecret, now: { now })
        var justExpired = platformClaims(now: now)
        justExpired["exp"] = Int(now.timeIntervalSince1970) - 10
        _ = try await verifier.verify(try handSignedToken(claims: justExpired))
        var expired = platformClaims(now: now)
        expired["exp"] = Int(now.timeIntervalSince1970) - 40
        #expect(await rejection(verifier, try handSignedToken(claims: expired))?.code == .expired)
        var notYet = platformClaims(now: now)
        notYet["nbf"] = Int(now.timeIntervalSince1970) + 120
        #expect(await rejection(verifier, try handSignedToken(claims: notYet))?.code == .notYetValid)
        var future = platformClaims(now: now)
        future["iat"] = Int(now.timeIntervalSince1970) + 120
        #expect(await rejection(verifier, try handSignedToken(claims: future))?.code == .notYetValid)
    }

    @Test("RS256 and ES256 tokens of an external issuer verify through its JWKS")
    func externalIssuerJWKS() async throws {
        let oidc = try await TestOIDCIssuer()
        let verifier = try TokenVerifier(secret: authTestSecret, externalIssuers: [oidc.configuration()])

        let rsaToken = try await oidc.sign(oidc.claims(roles: ["member", "builder"]), kid: "rsa-1")
        let rsaContext = try await verifier.verify(rsaToken)
        #expect(rsaContext.tenantID == "tenant-k")
        #expect(rsaContext.userID == "kc-user")
        #expect(rsaContext.role == .builder)
        #expect(rsaContext.tokenID == "kc-jti")
        #expect(rsaContext.issuer == TestOIDCIssuer.url)

        let ecToken = try await oidc.sign(oidc.claims(roles: ["admin"]), kid: "ec-1")
        #expect(try await verifier.verify(ecToken).role == .admin)
    }

    @Test("Keycloak's realm_access.roles are read, highest role wins, unknown names are ignored")
    func keycloakRealmRoles() async throws {
        let oidc = try await TestOIDCIssuer()
        let verifier = try TokenVerifier(secret: authTestSecret, externalIssuers: [oidc.configuration()])
        let token = try await oidc.sign(
            oidc.claims(realmRoles: ["offline_access", "uma_authorization", "member", "owner"]), kid: "rsa-1")
        #expect(try await verifier.verify(token).role == .owner)

        let serviceOnly = try await oidc.sign(oidc.claims(realmRoles: ["service", "offline_access"]), kid: "rsa-1")
        #expect(await rejection(verifier, serviceOnly)?.code == .missingClaim)
        let noTenant = try await oidc.sign(oidc.claims(roles: ["member"], tenant: nil), kid: "rsa-1")
        #expect(await rejection(verifier, noTenant)?.code == .missingClaim)
    }

    @Test("external tokens: unknown kid, mismatched alg, HS256 confusion, audience and other issuers are rejected")
    func externalRejections() async throws {
        let oidc = try await TestOIDCIssuer()
        let verifier = try TokenVerifier(
            secret: authTestSecret, externalIssuers: [oidc.configuration(audience: "agentplane")])
        let good = try await oidc.sign(oidc.claims(roles: ["member"], aud: ["agentplane", "account"]), kid: "rsa-1")
        _ = try await verifier.verify(good)

        let wrongAudience = try await oidc.sign(oidc.claims(roles: ["member"], aud: ["account"]), kid: "rsa-1")
        #expect(await rejection(verifier, wrongAudience)?.code == .wrongAudience)

        let other = JWTKeyCollection()
        await other.add(ecdsa: ES256PrivateKey(), kid: "rotated-away")
        let unknownKid = try await other.sign(oidc.claims(roles: ["member"], aud: ["agentplane"]), kid: "rotated-away")
        #expect(await rejection(verifier, unknownKid)?.code == .unknownKey)
        let sameKidOtherKey = JWTKeyCollection()
        await sameKidOtherKey.add(ecdsa: ES256PrivateKey(), kid: "ec-1")
        let forged = try await sameKidOtherKey.sign(oidc.claims(roles: ["member"], aud: ["agentplane"]), kid: "ec-1")
        #expect(await rejection(verifier, forged)?.code == .badSignature)

        // HS256 with the kid of an RSA key, or with the kid of the JWKS's symmetric key: never accepted.
        let claims =
            try JSONSerialization.jsonObject(
                with: JSONEncoder().encode(oidc.claims(roles: ["owner"], aud: ["agentplane"]))) as! [String: Any]
        for kid in ["rsa-1", "hmac-1"] {
            let confused = try handSignedToken(header: ["alg": "HS256", "kid": kid], claims: claims)
            let error = await rejection(verifier, confused)
            #expect(error?.code == .unsupportedAlgorithm || error?.code == .unknownKey, "\(kid)")
        }
        let noKid = try handSignedToken(header: ["alg": "RS256"], claims: claims)
        #expect(await rejection(verifier, noKid)?.code == .unknownKey)

        var untrusted = oidc.claims(roles: ["member"])
        untrusted.iss = "https://sso.example.test/realms/other"
        #expect(await rejection(verifier, try await oidc.sign(untrusted, kid: "rsa-1"))?.code == .untrustedIssuer)
        // Platform tokens must be HS256: an RS256 token claiming iss agentplane is refused.
        untrusted.iss = "agentplane"
        let fakePlatform = try await oidc.sign(untrusted, kid: "rsa-1")
        #expect(await rejection(verifier, fakePlatform)?.code == .unsupportedAlgorithm)
    }

    @Test("JWKS problems are configuration errors; keys can be replaced after a rotation")
    func jwksConfiguration() async throws {
        let oidc = try await TestOIDCIssuer()
        #expect(throws: SecurityConfigurationError.self) {
            _ = try TokenVerifier(
                secret: authTestSecret,
                externalIssuers: [ExternalIssuer(issuer: TestOIDCIssuer.url, jwks: "not json")])
        }
        #expect(throws: SecurityConfigurationError.self) {
            _ = try TokenVerifier(
                secret: authTestSecret,
                externalIssuers: [ExternalIssuer(issuer: TestOIDCIssuer.url, jwks: #"{"keys":[{"kty":"oct"}]}"#)])
        }
        #expect(throws: SecurityConfigurationError.self) {
            _ = try TokenVerifier(
                secret: authTestSecret, externalIssuers: [ExternalIssuer(issuer: "agentplane", jwks: oidc.jwks)])
        }

        let rotated = try await TestOIDCIssuer()
        let verifier = try TokenVerifier(secret: authTestSecret, externalIssuers: [oidc.configuration()])
        let newToken = try await rotated.sign(rotated.claims(roles: ["member"]), kid: "rsa-1")
        #expect(await rejection(verifier, newToken)?.code == .badSignature)
        try verifier.updateKeys(ofIssuer: TestOIDCIssuer.url, jwks: rotated.jwks)
        #expect(try await verifier.verify(newToken).role == .member)
        #expect(throws: SecurityConfigurationError.self) {
            try verifier.updateKeys(ofIssuer: "https://unknown.example", jwks: rotated.jwks)
        }
    }
}
