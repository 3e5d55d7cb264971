public import RPCCore

/// Checks API keys (`apk_…`), which only the control plane's store can verify.
///
/// Services other than the control plane have none configured; there an API key is rejected
/// with UNAUTHENTICATED, since clients present API keys to the control plane only.
public protocol APIKeyVerifier: Sendable {
    /// The identity behind `apiKey` (kind `.apiKey`), or nil when the key is unknown, revoked or
    /// expired. Throw only when the store cannot answer; the call then fails with UNAVAILABLE.
    func verify(apiKey: String) async throws -> AuthContext?

    /// `verify(apiKey:)` for a call from `peer` with `metadata`, so a verifier can limit the
    /// failed lookups per client address. An `RPCError` it throws (e.g. RESOURCE_EXHAUSTED) is
    /// the call's answer. The default ignores where the call came from.
    func verify(apiKey: String, peer: String, metadata: Metadata) async throws -> AuthContext?
}

extension APIKeyVerifier {
    /// Verifies without regard to the caller's address.
    public func verify(apiKey: String, peer: String, metadata: Metadata) async throws -> AuthContext? {
        try await verify(apiKey: apiKey)
    }
}

/// What marks a bearer credential as an API key rather than a JWT.
public enum APIKeyFormat {
    /// The prefix every API key starts with.
    public static let prefix = "apk_"
}
