import Foundation
import RPCCore
import RPCHTTP2
import RPCModels
import Synchronization

/// Test-only knowledge base: records searches, indexed documents and deletions.
final class FakeKnowledgeBase: Agentplane_V1_KnowledgeBaseService.ServiceProtocol {
    let searches = Mutex<[Agentplane_V1_SearchRequest]>([])
    /// Indexed documents: id → (header, concatenated text).
    let indexed = Mutex<[String: (header: Agentplane_V1_IndexDocumentHeader, text: String)]>([:])
    let deleted = Mutex<[String]>([])

    func indexDocument(
        requests: RequestStream<Agentplane_V1_IndexDocumentRequest>, context: ServerContext
    ) async throws -> Agentplane_V1_IndexDocumentResponse {
        var header: Agentplane_V1_IndexDocumentHeader?
        var text = ""
        for try await message in requests {
            switch message.part {
            case .header(let value): header = value
            case .text(let piece): text += piece
            case nil: break
            }
        }
        guard let header else { throw RPCError(code: .invalidArgument, message: "no header") }
        indexed.withLock { $0[header.documentID] = (header, text) }
        var response = Agentplane_V1_IndexDocumentResponse()
        response.chunkCount = Int32(max(1, text.count / 100))
        return response
    }

    func deleteDocument(request: Agentplane_V1_DeleteIndexedDocumentRequest, context: ServerContext) async throws
        -> Agentplane_V1_DeleteIndexedDocumentResponse
    {
        deleted.withLock { $0.append(request.documentID) }
        return Agentplane_V1_DeleteIndexedDocumentResponse()
    }

    func search(request: Agentplane_V1_SearchRequest, context: ServerContext) async throws
        -> Agentplane_V1_SearchResponse
    {
        searches.withLock { $0.append(request) }
        var result = Agentplane_V1_SearchResult()
        result.documentID = "doc-1"
        result.title = "Resetting your password"
        result.text = "Open Settings and choose Reset password for: \(request.query)"
        result.score = 0.9
        var response = Agentplane_V1_SearchResponse()
        response.results = [result]
        return response
    }

    func stats(request: Agentplane_V1_StatsRequest, context: ServerContext) async throws -> Agentplane_V1_StatsResponse
    {
        Agentplane_V1_StatsResponse()
    }
}

/// Test-only ticketing service: records CreateTicket requests (with the backend config).
final class FakeTicketing: Agentplane_V1_TicketingService.ServiceProtocol {
    let created = Mutex<[Agentplane_V1_CreateTicketRequest]>([])

    func createTicket(request: Agentplane_V1_CreateTicketRequest, context: ServerContext) async throws
        -> Agentplane_V1_CreateTicketResponse
    {
        let count = created.withLock {
            $0.append(request)
            return $0.count
        }
        var ticket = Agentplane_V1_Ticket()
        ticket.id = "ticket-\(count)"
        ticket.number = Int64(1000 + count)
        ticket.title = request.title
        ticket.status = .open
        var response = Agentplane_V1_CreateTicketResponse()
        response.ticket = ticket
        return response
    }

    func getTicket(request: Agentplane_V1_GetTicketRequest, context: ServerContext) async throws
        -> Agentplane_V1_GetTicketResponse
    {
        throw RPCError(code: .unimplemented, message: "fake ticketing: create only")
    }

    func listTickets(request: Agentplane_V1_ListTicketsRequest, context: ServerContext) async throws
        -> Agentplane_V1_ListTicketsResponse
    {
        throw RPCError(code: .unimplemented, message: "fake ticketing: create only")
    }

    func updateTicket(request: Agentplane_V1_UpdateTicketRequest, context: ServerContext) async throws
        -> Agentplane_V1_UpdateTicketResponse
    {
        throw RPCError(code: .unimplemented, message: "fake ticketing: create only")
    }
}

/// Test-only notification service: records Notify requests (with the target).
final class FakeNotification: Agentplane_V1_NotificationService.ServiceProtocol {
    let notified = Mutex<[Agentplane_V1_NotifyRequest]>([])

    func notify(request: Agentplane_V1_NotifyRequest, context: ServerContext) async throws
        -> Agentplane_V1_NotifyResponse
    {
        notified.withLock { $0.append(request) }
        var delivery = Agentplane_V1_Delivery()
        delivery.id = "delivery-1"
        delivery.status = .delivered
        var response = Agentplane_V1_NotifyResponse()
        response.delivery = delivery
        return response
    }

    func getDelivery(request: Agentplane_V1_GetDeliveryRequest, context: ServerContext) async throws
        -> Agentplane_V1_GetDeliveryResponse
    {
        throw RPCError(code: .unimplemented, message: "fake notification: notify only")
    }

    func listDeliveries(request: Agentplane_V1_ListDeliveriesRequest, context: ServerContext) async throws
        -> Agentplane_V1_ListDeliveriesResponse
    {
        throw RPCError(code: .unimplemented, message: "fake notification: notify only")
    }
}

/// The fake integrations served on one port 0 gRPC server.
struct FakeIntegrations: Sendable {
    let kb: FakeKnowledgeBase
    let ticketing: FakeTicketing
    let notification: FakeNotification
    let execution: FakeExecution
    let llm: FakeLLMGateway
    let server: GRPCServer

    static func start() async throws -> FakeIntegrations {
        let kb = FakeKnowledgeBase()
        let ticketing = FakeTicketing()
        let notification = FakeNotification()
        let execution = FakeExecution()
        let llm = FakeLLMGateway()
        let server = GRPCServer(
            configuration: ServerConfiguration(port: 0, threads: 1),
            services: [kb, ticketing, notification, execution, llm])
        try await server.start()
        return FakeIntegrations(
            kb: kb, ticketing: ticketing, notification: notification, execution: execution, llm: llm,
            server: server)
    }

    var address: String { "127.0.0.1:\(server.port ?? 0)" }

    /// The `*_ADDR` keys pointing the control plane at these fakes.
    var environment: [String: String] {
        [
            "KB_SEARCH_ADDR": address, "TICKETING_ADDR": address, "NOTIFICATION_ADDR": address,
            "LLM_GATEWAY_ADDR": address, "EXECUTION_ADDR": address,
        ]
    }

    func stop() async { await server.shutdown(gracePeriod: .seconds(1)) }
}
