import Crypto
import Foundation
import RPCCore
import RuntimeSecurity

/// The platform secret the auth tests sign with.
let authTestSecret = Array("auth-tests-secret-0123456789-abcdefghijklmnop".utf8)

/// Unpadded base64url of bytes.
func authBase64URL(_ bytes: some Sequence<UInt8>) -> String {
    Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
        .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
}

/// Unpadded base64url of a JSON object.
func authBase64URLJSON(_ object: [String: Any]) throws -> String {
    authBase64URL(try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
}

/// A JWT built and HS256-signed by hand (not by jwt-kit), so a test can put any header and
/// claims in it.
func handSignedToken(
    header: [String: Any] = ["alg": "HS256", "typ": "JWT"], claims: [String: Any],
    secret: [UInt8] = authTestSecret
) throws -> String {
    let input = "\(try authBase64URLJSON(header)).\(try authBase64URLJSON(claims))"
    let mac = HMAC<SHA256>.authenticationCode(for: Array(input.utf8), using: SymmetricKey(data: secret))
    return "\(input).\(authBase64URL(Array(mac)))"
}

/// Claims of a valid platform access token, to be altered by a test.
func platformClaims(
    now: Date = Date(), type: String = "access", role: String = "member", tenant: String? = "tenant-a"
) -> [String: Any] {
    var claims: [String: Any] = [
        "iss": "agentplane", "sub": "user-1", "role": role, "jti": UUID().uuidString, "typ": type,
        "iat": Int(now.timeIntervalSince1970), "exp": Int(now.timeIntervalSince1970) + 300,
    ]
    if let tenant { claims["tid"] = tenant }
    return claims
}

/// `authorization: Bearer <token>` metadata.
func bearerMetadata(_ token: String) -> Metadata {
    ["authorization": .string("Bearer \(token)")]
}

/// A revocation list that cannot be reached.
struct UnreachableRevocationList: RevocationList {
    struct Down: Error {}

    func isRevoked(tokenID: String) async throws -> Bool { throw Down() }
    func revoke(tokenID: String, until: Date) async throws { throw Down() }
}
