import Crypto
import Foundation
import RPCModels

/// Identifies a CreateTicket request for [Idempotency]: the same key with another fingerprint
/// is FAILED_PRECONDITION. The API token is left out, so rotating it does not count as another
/// request (and no hash of a credential is stored).
enum CreateRequestFingerprint {
    /// A SHA-256 over every field that decides which ticket is created.
    static func of(_ request: Agentplane_V1_CreateTicketRequest, backend: Agentplane_V1_TicketBackend) -> String {
        let config = request.backendConfig
        let parts: [String] = [
            String(backend.rawValue), backend == .zammad ? config?.baseURL ?? "" : "",
            backend == .zammad ? config?.groupName ?? "" : "", request.title, request.body,
            String(request.priority.rawValue), request.requester, request.tags.joined(separator: "\u{2}"),
            request.conversationID, request.runID,
        ]
        return hex(SHA256.hash(data: Data(parts.joined(separator: "\u{3}").utf8)))
    }

    /// The Zammad tag that marks the ticket created for a tenant's key, so that a retry after a
    /// lost response finds it instead of creating a second one. Hashed: keys are free text and
    /// tenants may share a Zammad instance.
    static func zammadTag(tenant: String, key: String) -> String {
        let digest = SHA256.hash(data: Data("\(tenant)\u{3}\(key)".utf8))
        return "agentplane_idem_" + String(hex(digest).prefix(32))
    }

    private static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}
