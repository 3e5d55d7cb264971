import Foundation
import KBSearch
import RPCCore
import RPCModels
import ServiceTestSupport

/// A KB search service under test, with its fake gateway.
struct KBFixture {
    let gateway: RunningFakeGateway
    let harness: ServiceTestHarness
    let client: Agentplane_V1_KnowledgeBaseService.Client

    static func start(_ environment: [String: String] = [:], gateway: RunningFakeGateway? = nil) async throws
        -> KBFixture
    {
        let running: RunningFakeGateway
        if let gateway { running = gateway } else { running = try await RunningFakeGateway.start() }
        let harness = try await ServiceTestHarness.start(
            KBSearchService.definition,
            // No preloading: the shared test database holds other suites' large tenants.
            environment: ["LLM_GATEWAY_ADDR": running.address, "KB_PRELOAD": "false"].merging(environment) { $1 })
        return KBFixture(
            gateway: running, harness: harness, client: Agentplane_V1_KnowledgeBaseService.Client(harness.client))
    }

    func stop(stoppingGateway: Bool = true) async throws {
        try await harness.stop()
        if stoppingGateway { await gateway.stop() }
    }
}

/// A tenant id no other test uses.
func uniqueTenant(_ label: String = "kb") -> String { "\(label)-\(UUID().uuidString.lowercased())" }

extension Agentplane_V1_KnowledgeBaseService.Client {
    /// Indexes `text` as one document, sent in pieces of `pieceSize` characters.
    @discardableResult
    func index(
        _ documentID: String, title: String = "", text: String, tags: [String] = [],
        contentType: String = "text/markdown", metadata: Metadata, pieceSize: Int = 4000
    ) async throws -> Agentplane_V1_IndexDocumentResponse {
        let header = Agentplane_V1_IndexDocumentHeader(
            documentID: documentID, title: title, tags: tags, contentType: contentType)
        let characters = Array(text)
        return try await indexDocument(metadata: metadata) { writer in
            try await writer.write(Agentplane_V1_IndexDocumentRequest(part: .header(header)))
            var start = 0
            while start < characters.count {
                let end = min(characters.count, start + pieceSize)
                try await writer.write(Agentplane_V1_IndexDocumentRequest(part: .text(String(characters[start..<end]))))
                start = end
            }
        }
    }

    /// Searches with `mode`.
    func search(
        _ query: String, mode: Agentplane_V1_SearchMode = .hybrid, topK: Int32 = 5, documentIDs: [String] = [],
        tags: [String] = [], metadata: Metadata
    ) async throws -> Agentplane_V1_SearchResponse {
        try await search(
            Agentplane_V1_SearchRequest(query: query, mode: mode, topK: topK, documentIDS: documentIDs, tags: tags),
            metadata: metadata)
    }
}

/// The status code a call failed with, or nil when it succeeded.
func statusCode(of body: () async throws -> Void) async -> Status.Code? {
    do {
        try await body()
        return nil
    } catch let error as RPCError {
        return error.code
    } catch {
        return .unknown
    }
}

/// The error a call failed with.
func rpcError(of body: () async throws -> Void) async -> RPCError? {
    do {
        try await body()
        return nil
    } catch let error as RPCError {
        return error
    } catch {
        return RPCError(code: .unknown, message: "\(error)")
    }
}
