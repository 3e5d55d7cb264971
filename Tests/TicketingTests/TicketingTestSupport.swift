import Foundation
import RPCCore
import RPCModels
import ServiceTestSupport
import Ticketing

/// A ticketing service run in-process, with a typed client and helpers for one tenant's calls.
struct TicketingFixture {
    let harness: ServiceTestHarness
    let client: Agentplane_V1_TicketingService.Client

    /// Starts the service; loopback is allow-listed for the fake Zammad, whose calls time out
    /// after `zammadTimeout`.
    static func start(zammadTimeout: String = "2s") async throws -> TicketingFixture {
        let harness = try await ServiceTestHarness.start(
            TicketingService.definition,
            environment: ["OUTBOUND_ALLOW_HOSTS": "127.0.0.1,localhost", "ZAMMAD_TIMEOUT": zammadTimeout])
        return TicketingFixture(harness: harness, client: Agentplane_V1_TicketingService.Client(harness.client))
    }

    func stop() async throws {
        try await harness.stop()
    }
}

/// A tenant id no other test uses.
func uniqueTenant(_ label: String = "t") -> String {
    "ticketing-\(label)-\(UUID().uuidString.lowercased())"
}

/// A CreateTicket request for the built-in store.
func createRequest(
    _ title: String, body: String = "", key: String = "", priority: Agentplane_V1_TicketPriority = .unspecified,
    requester: String = "", tags: [String] = [], conversationID: String = ""
) -> Agentplane_V1_CreateTicketRequest {
    var request = Agentplane_V1_CreateTicketRequest()
    request.title = title
    request.body = body
    request.idempotencyKey = key
    request.priority = priority
    request.requester = requester
    request.tags = tags
    request.conversationID = conversationID
    return request
}

/// A backend config pointing at a fake Zammad.
func zammadConfig(_ fake: FakeZammad, token: String? = nil, group: String = "Users")
    -> Agentplane_V1_TicketBackendConfig
{
    var config = Agentplane_V1_TicketBackendConfig()
    config.backend = .zammad
    config.baseURL = fake.baseURL
    config.apiToken = token ?? fake.token
    config.groupName = group
    return config
}
