import BenchmarkSupport
import RPCCore
import RPCModels

/// The benchmark's calls to the KB search service, each timed by the client.
struct KnowledgeBaseCalls {
    let client: Agentplane_V1_KnowledgeBaseService.Client
    let metadata: Metadata
    let clock = ContinuousClock()

    /// Indexes `text` as one plain-text document, sent in pieces of `pieceSize` characters as a
    /// client would stream a file; the chunks indexed.
    func index(_ documentID: String, title: String, text: String, pieceSize: Int = 4000) async throws -> Int {
        let header = Agentplane_V1_IndexDocumentHeader(documentID: documentID, title: title, contentType: "text/plain")
        let characters = Array(text)
        let response = try await client.indexDocument(metadata: metadata) { writer in
            try await writer.write(Agentplane_V1_IndexDocumentRequest(part: .header(header)))
            var start = 0
            while start < characters.count {
                let end = min(characters.count, start + pieceSize)
                try await writer.write(Agentplane_V1_IndexDocumentRequest(part: .text(String(characters[start..<end]))))
                start = end
            }
        }
        return Int(response.chunkCount)
    }

    /// The top 10 for `query` in `mode` (restricted to `documentIDs` when given) and the call's
    /// milliseconds.
    func search(
        _ query: String, mode: Agentplane_V1_SearchMode, documentIDs: [String] = []
    ) async throws -> (results: [Agentplane_V1_SearchResult], milliseconds: Double) {
        let request = Agentplane_V1_SearchRequest(query: query, mode: mode, topK: 10, documentIDS: documentIDs)
        let began = clock.now
        let response = try await client.search(request, metadata: metadata)
        return (response.results, milliseconds(clock.now - began))
    }

    /// Removes one document; the chunks removed.
    func delete(_ documentID: String) async throws -> Int {
        Int(
            try await client.deleteDocument(
                Agentplane_V1_DeleteIndexedDocumentRequest(documentID: documentID), metadata: metadata
            ).deletedChunks)
    }
}
