import Crypto
import Foundation

/// Refresh tokens and API keys: 256 random bits plus the tenant they belong to, so the store can
/// be searched inside that tenant's row-level-security scope before any token is verified. Only
/// the SHA-256 of a credential is stored; the tenant part is not secret.
struct OpaqueCredential: Sendable, Equatable {
    /// `rt_` or `apk_`.
    let kind: String
    let tenantID: String
    /// The full credential as handed to the client.
    let text: String

    static let refreshPrefix = "rt_"
    static let apiKeyPrefix = "apk_"

    /// A new credential of `kind` for `tenantID`: `<kind><secret>.<base64url tenant>`.
    static func generate(kind: String, tenantID: String) -> OpaqueCredential {
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = generator.next() }
        let text = kind + base64URL(bytes) + "." + base64URL(Array(tenantID.utf8))
        return OpaqueCredential(kind: kind, tenantID: tenantID, text: text)
    }

    /// The credential in `text`, or nil when it is not one of `kind`'s shape.
    static func parse(_ text: String, kind: String) -> OpaqueCredential? {
        guard text.hasPrefix(kind), text.utf8.count < 1024 else { return nil }
        let body = text.dropFirst(kind.count)
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 43, let tenant = decodeBase64URL(String(parts[1])),
            let tenantID = String(bytes: tenant, encoding: .utf8), !tenantID.isEmpty
        else { return nil }
        return OpaqueCredential(kind: kind, tenantID: tenantID, text: text)
    }

    /// What the store keeps: hex SHA-256 of the whole credential.
    var hash: String { Self.sha256Hex(text) }

    /// The first characters of the secret, to recognise a key in lists.
    var displayPrefix: String { String(text.prefix(kind.count + 4)) }

    static func sha256Hex(_ text: String) -> String {
        SHA256.hash(data: Array(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func decodeBase64URL(_ text: String) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64).map(Array.init)
    }
}
