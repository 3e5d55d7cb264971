import FoundationEssentials
import JWTKit
import Synchronization

/// An external OIDC issuer (such as a Keycloak realm) whose access tokens the platform accepts.
///
/// Its tokens are verified only with its own keys, chosen by `kid`; the tenant and roles are
/// read from claims named here.
public struct ExternalIssuer: Sendable, Hashable {
    /// The exact `iss` of its tokens, e.g. `https://sso.example.com/realms/acme`.
    public var issuer: String
    /// Its JSON Web Key Set document (the JSON text served at its `jwks_uri`).
    public var jwks: String
    /// The audience its tokens must name in `aud`; nil to not check it.
    public var audience: String?
    /// The claim holding the tenant id; a dotted name reads a nested member.
    public var tenantClaim: String
    /// The claim holding role names (a string or an array); Keycloak's `realm_access.roles`
    /// is read as well.
    public var rolesClaim: String

    /// An issuer.
    public init(
        issuer: String, jwks: String, audience: String? = nil, tenantClaim: String = "tenant_id",
        rolesClaim: String = "roles"
    ) {
        self.issuer = issuer
        self.jwks = jwks
        self.audience = audience
        self.tenantClaim = tenantClaim
        self.rolesClaim = rolesClaim
    }
}

/// The verification keys of one external issuer, replaceable when the issuer rotates them.
final class ExternalKeySet: Sendable {
    /// A key checked and ready for jwt-kit.
    private enum VerificationKey: Sendable {
        case rsa(Insecure.RSA.PublicKey, DigestAlgorithm, pss: Bool)
        case es256(ES256PublicKey)
        case es384(ES384PublicKey)
        case es512(ES512PublicKey)
    }

    /// The RSA algorithms accepted, with their digest and whether they use PSS padding.
    private static let rsaAlgorithms: [String: (DigestAlgorithm, pss: Bool)] = [
        "RS256": (.sha256, false), "RS384": (.sha384, false), "RS512": (.sha512, false),
        "PS256": (.sha256, true), "PS384": (.sha384, true), "PS512": (.sha512, true),
    ]
    /// The ECDSA algorithm of each curve.
    private static let ecAlgorithms: [String: String] = ["P-256": "ES256", "P-384": "ES384", "P-521": "ES512"]

    let configuration: ExternalIssuer
    private let state: Mutex<(keys: PreparedKeyCollection, algorithms: [String: String])>

    /// The key set of `configuration`, from its JWKS.
    init(_ configuration: ExternalIssuer) throws(SecurityConfigurationError) {
        self.configuration = configuration
        state = Mutex(try Self.load(jwks: configuration.jwks, issuer: configuration.issuer))
    }

    /// Replaces the keys with those of a newer JWKS document.
    func replace(jwks: String) throws(SecurityConfigurationError) {
        let loaded = try Self.load(jwks: jwks, issuer: configuration.issuer)
        state.withLock { $0 = loaded }
    }

    /// The keys and, by `kid`, the one algorithm each key verifies.
    var current: (keys: PreparedKeyCollection, algorithms: [String: String]) {
        state.withLock { $0 }
    }

    /// Reads the signing keys of a JWKS: RSA and EC keys with a `kid`, not marked for
    /// encryption. Symmetric (`oct`) keys are never taken from a JWKS.
    private static func load(
        jwks: String, issuer: String
    ) throws(SecurityConfigurationError) -> (PreparedKeyCollection, [String: String]) {
        guard let document = JSONValue.object(from: Array(jwks.utf8)), case .array(let entries)? = document["keys"]
        else {
            throw SecurityConfigurationError("the JWKS of issuer \(issuer) is not a JSON object with a keys array")
        }
        var keys: [(kid: String, key: VerificationKey)] = []
        var algorithms: [String: String] = [:]
        for entry in entries {
            guard let member = entry.object, let kid = member["kid"]?.string, !kid.isEmpty else { continue }
            if let use = member["use"]?.string, use != "sig" { continue }
            let key: (VerificationKey, String)?
            do {
                key = try verificationKey(member)
            } catch {
                throw SecurityConfigurationError("key \(kid) in the JWKS of issuer \(issuer) is unusable: \(error)")
            }
            guard let (key, algorithm) = key else { continue }
            keys.append((kid, key))
            algorithms[kid] = algorithm
        }
        guard !keys.isEmpty else {
            throw SecurityConfigurationError("the JWKS of issuer \(issuer) has no RSA or EC signing key with a kid")
        }
        let collection = PreparedKeyCollection { [keys] collection in
            for (kid, key) in keys {
                let identifier = JWKIdentifier(string: kid)
                switch key {
                case .rsa(let key, let digest, pss: false):
                    await collection.add(rsa: key, digestAlgorithm: digest, kid: identifier)
                case .rsa(let key, let digest, pss: true):
                    await collection.add(pss: key, digestAlgorithm: digest, kid: identifier)
                case .es256(let key): await collection.add(ecdsa: key, kid: identifier)
                case .es384(let key): await collection.add(ecdsa: key, kid: identifier)
                case .es512(let key): await collection.add(ecdsa: key, kid: identifier)
                }
            }
        }
        return (collection, algorithms)
    }

    /// The key and its algorithm for an RSA or EC JWK; nil for other key types or an algorithm
    /// not accepted. A key without `alg` gets its type's usual one (RS256, or ES256/384/512 by
    /// curve). Throws when the key material is unusable (e.g. RSA under 2048 bits).
    private static func verificationKey(_ member: [String: JSONValue]) throws -> (VerificationKey, String)? {
        switch member["kty"]?.string {
        case "RSA":
            let algorithm = member["alg"]?.string ?? "RS256"
            guard let (digest, pss) = rsaAlgorithms[algorithm] else { return nil }
            guard let modulus = member["n"]?.string, let exponent = member["e"]?.string else {
                throw SecurityConfigurationError("an RSA key needs n and e")
            }
            let key = try Insecure.RSA.PublicKey(modulus: modulus, exponent: exponent)
            return (.rsa(key, digest, pss: pss), algorithm)
        case "EC":
            guard let curve = member["crv"]?.string, let curveAlgorithm = ecAlgorithms[curve] else { return nil }
            let algorithm = member["alg"]?.string ?? curveAlgorithm
            guard algorithm == curveAlgorithm else { return nil }
            guard let x = member["x"]?.string, let y = member["y"]?.string else {
                throw SecurityConfigurationError("an EC key needs x and y")
            }
            let key: VerificationKey =
                switch curve {
                case "P-256": .es256(try ES256PublicKey(parameters: (x, y)))
                case "P-384": .es384(try ES384PublicKey(parameters: (x, y)))
                default: .es512(try ES512PublicKey(parameters: (x, y)))
                }
            return (key, algorithm)
        default:
            return nil
        }
    }
}
