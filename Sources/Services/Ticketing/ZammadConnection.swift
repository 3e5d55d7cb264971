import Foundation
import RPCCore
import RPCModels

/// Where and as whom to reach a tenant's Zammad, from a call's backend config. Never stored.
struct ZammadConnection: Sendable {
    /// The base URL without a trailing slash, e.g. `https://support.example.com`.
    var baseURL: String
    var token: String
    var group: String

    /// The connection in `config`; INVALID_ARGUMENT naming the missing or bad field. `needsGroup`
    /// for calls that create tickets.
    init(_ config: Agentplane_V1_TicketBackendConfig, needsGroup: Bool) throws(RPCError) {
        var base = config.baseURL.trimmingCharacters(in: .whitespaces)
        while base.hasSuffix("/") { base.removeLast() }
        guard !base.isEmpty else {
            throw RPCError.invalidField(
                "backend_config.base_url", code: "MISSING_FIELD", "the Zammad base URL is required")
        }
        guard let url = URL(string: base), let scheme = url.scheme?.lowercased(), scheme == "https" || scheme == "http",
            url.host?.isEmpty == false
        else {
            throw RPCError.invalidField(
                "backend_config.base_url", code: "INVALID_URL",
                "\"\(base)\" is not an http(s) URL such as https://support.example.com")
        }
        guard !config.apiToken.isEmpty else {
            throw RPCError.invalidField(
                "backend_config.api_token", code: "MISSING_FIELD", "the Zammad API token is required")
        }
        if needsGroup && config.groupName.isEmpty {
            throw RPCError.invalidField(
                "backend_config.group_name", code: "MISSING_FIELD",
                "the Zammad group for new tickets is required (e.g. \"Users\")")
        }
        baseURL = base
        token = config.apiToken
        group = config.groupName
    }

    /// The agent-facing link to a ticket in Zammad's web app.
    func ticketURL(id: Int64) -> String {
        "\(baseURL)/#ticket/zoom/\(id)"
    }
}
