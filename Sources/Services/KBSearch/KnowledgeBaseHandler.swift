import FoundationEssentials
import Logging
public import RPCCore
public import RPCModels
import Runtime
import RuntimeSecurity

/// KnowledgeBaseService: indexing through the embedder into Postgres, and lexical, vector and
/// hybrid search over one tenant's chunks.
public struct KnowledgeBaseHandler: Agentplane_V1_KnowledgeBaseService.ServiceProtocol {
    let store: KBStore
    let embedder: any Embedder
    let vectors: VectorIndexRegistry
    let settings: KBSearchSettings
    let rateLimiter: SearchRateLimiter
    let logger: Logger

    /// Largest piece of an IndexDocument stream (the proto's limit).
    static let maxPieceBytes = 1 << 20
    /// Longest query (the proto's limit).
    static let maxQueryBytes = 4096
    /// Most results a search returns.
    static let maxTopK = 50
    /// RRF's rank constant (the usual 60 from Cormack et al.).
    static let fusionConstant = 60.0

    /// The caller; the auth policy already checked its role.
    private func caller() throws(RPCError) -> AuthContext {
        guard let auth = AuthContext.current else {
            throw RPCError(code: .unauthenticated, message: "this call requires credentials")
        }
        return auth
    }

    /// Indexes one document read from the stream, replacing its earlier chunks atomically.
    public func indexDocument(
        requests: RequestStream<Agentplane_V1_IndexDocumentRequest>, context: ServerContext
    ) async throws -> Agentplane_V1_IndexDocumentResponse {
        let auth = try caller()
        var header: Agentplane_V1_IndexDocumentHeader?
        var text = ""
        var bytes = 0
        for try await message in requests {
            switch message.part {
            case .header(let value):
                guard header == nil else {
                    throw RPCError.invalidField(
                        "header", code: "UNEXPECTED", "send the header only as the first message")
                }
                header = value
            case .text(let piece):
                guard header != nil else {
                    throw RPCError.invalidField("header", code: "REQUIRED", "the first message must be the header")
                }
                guard piece.utf8.count <= Self.maxPieceBytes else {
                    throw RPCError(
                        code: .resourceExhausted,
                        message: "a text piece has \(piece.utf8.count) bytes; send pieces of at most 1 MiB")
                }
                bytes += piece.utf8.count
                guard bytes <= settings.maxDocumentBytes else {
                    throw RPCError(
                        code: .resourceExhausted,
                        message:
                            "the document is over \(settings.maxDocumentBytes) bytes (KB_MAX_DOCUMENT_BYTES); "
                            + "split it into smaller documents")
                }
                text += piece
            case nil:
                throw RPCError.invalidField("part", code: "REQUIRED", "each message must carry a header or text")
            }
        }
        guard let header else {
            throw RPCError.invalidField("header", code: "REQUIRED", "the first message must be the header")
        }
        let documentID = header.documentID.trimmingSpaces()
        guard !documentID.isEmpty else {
            throw RPCError.invalidField("header.document_id", code: "REQUIRED", "give the document's id")
        }
        guard documentID.utf8.count <= 256 else {
            throw RPCError.invalidField("header.document_id", code: "TOO_LONG", "use an id of at most 256 bytes")
        }
        // PostgreSQL text cannot hold NUL.
        text = text.replacing("\u{0}", with: "")
        let title = header.title.replacing("\u{0}", with: "")
        let chunks = Chunker(targetSize: settings.chunkSize, overlap: settings.chunkOverlap)
            .chunks(of: text, contentType: header.contentType)
        guard !chunks.isEmpty else {
            throw RPCError.invalidField(
                "text", code: "REQUIRED", "the document has no text: send its text after the header")
        }
        let inputs = chunks.map { Self.embeddingInput(title: title, chunk: $0) }
        let embeddings = try await embedder.embed(inputs)
        guard embeddings.vectors.count == chunks.count else {
            throw RPCError(code: .unavailable, message: "the embedding model returned the wrong number of vectors")
        }
        let tags = Array(Set(header.tags.map { $0.trimmingSpaces() }.filter { !$0.isEmpty })).sorted()
        let indexedAt = try await store.replaceDocument(
            tenant: auth.tenantID, documentID: documentID, title: title, tags: tags, contentType: header.contentType,
            textBytes: bytes,
            chunks: zip(chunks, embeddings.vectors).map { StoredChunkInput(chunk: $0, embedding: $1) },
            model: embeddings.model, dimensions: embeddings.dimensions)
        logger.info(
            "kb: document indexed",
            metadata: ["document_id": "\(documentID)", "chunks": "\(chunks.count)", "bytes": "\(bytes)"])
        return Agentplane_V1_IndexDocumentResponse(
            documentID: documentID, chunkCount: Int32(clamping: chunks.count), embeddingModel: embeddings.model,
            indexedAt: Google_Protobuf_Timestamp(date: indexedAt))
    }

    /// What is embedded for a chunk: its text in the context of the document's title and headings.
    static func embeddingInput(title: String, chunk: Chunk) -> String {
        ([title] + chunk.headingPath + [chunk.text]).filter { !$0.isEmpty }.joined(separator: "\n")
    }

    /// Removes a document's chunks.
    public func deleteDocument(
        request: Agentplane_V1_DeleteIndexedDocumentRequest, context: ServerContext
    ) async throws -> Agentplane_V1_DeleteIndexedDocumentResponse {
        let auth = try caller()
        let documentID = request.documentID.trimmingSpaces()
        guard !documentID.isEmpty else {
            throw RPCError.invalidField("document_id", code: "REQUIRED", "give the id of the document to remove")
        }
        guard let deleted = try await store.deleteDocument(tenant: auth.tenantID, documentID: documentID) else {
            throw RPCError(code: .notFound, message: "document \(ClientInput.excerpt(documentID)) is not indexed")
        }
        return Agentplane_V1_DeleteIndexedDocumentResponse(deletedChunks: Int32(clamping: deleted))
    }

    /// The best chunks for a query.
    public func search(
        request: Agentplane_V1_SearchRequest, context: ServerContext
    ) async throws -> Agentplane_V1_SearchResponse {
        let auth = try caller()
        let query = request.query.trimmingSpaces()
        guard !query.isEmpty else {
            throw RPCError.invalidField("query", code: "REQUIRED", "the query is empty: give the words to search for")
        }
        guard request.query.utf8.count <= Self.maxQueryBytes else {
            throw RPCError(
                code: .resourceExhausted,
                message: "the query has \(request.query.utf8.count) bytes; shorten it to at most 4 KiB")
        }
        guard request.topK >= 0 else {
            throw RPCError.invalidField("top_k", code: "OUT_OF_RANGE", "top_k must be 0 (default 5) to 50")
        }
        guard request.minScore.isFinite, request.minScore >= 0 else {
            throw RPCError.invalidField("min_score", code: "OUT_OF_RANGE", "min_score must be 0 or a positive number")
        }
        let k = request.topK == 0 ? 5 : min(Self.maxTopK, Int(request.topK))
        let filter = SearchFilter(
            documentIDs: Set(request.documentIDS.filter { !$0.isEmpty }), tags: Set(request.tags.filter { !$0.isEmpty })
        )
        let mode: Agentplane_V1_SearchMode
        switch request.mode {
        case .unspecified, .hybrid: mode = .hybrid
        case .lexical, .vector: mode = request.mode
        default:
            throw RPCError.invalidField("mode", code: "UNKNOWN", "mode must be LEXICAL, VECTOR or HYBRID")
        }
        let tenant = auth.tenantID
        try await rateLimiter.admit(tenant: tenant)
        let ranked: [(id: Int64, score: Double)]
        // The records, when the search already read them (PostgreSQL's full-text path).
        var prefetched: [Int64: ChunkRecord]?
        switch mode {
        case .lexical:
            let found = try await lexicalSearch(tenant: tenant, query: query, k: k, filter: filter)
            ranked = found.hits
            prefetched = found.records
        case .vector:
            ranked = try await vectorSearch(tenant: tenant, query: query, k: k, filter: filter)
        default:
            let candidates = max(k * 4, 40)
            async let lexical = lexicalSearch(tenant: tenant, query: query, k: candidates, filter: filter)
            let semantic = try await vectorSearch(tenant: tenant, query: query, k: candidates, filter: filter)
            ranked = Self.fuse([try await lexical.hits.map(\.id), semantic.map(\.id)], k: k)
        }
        let kept = ranked.filter { request.minScore == 0 || $0.score >= request.minScore }
        let records: [Int64: ChunkRecord]
        if let prefetched {
            records = prefetched
        } else {
            records = try await store.records(tenant: tenant, ids: kept.map(\.id))
        }
        var response = Agentplane_V1_SearchResponse(mode: mode)
        response.results = kept.compactMap { hit in
            guard let record = records[hit.id] else { return nil }
            return Agentplane_V1_SearchResult(
                score: hit.score, documentID: record.documentID, title: record.title, chunkID: String(record.id),
                chunkIndex: Int32(clamping: record.chunkIndex), text: record.text, headingPath: record.headingPath)
        }
        return response
    }

    /// Full-text search: PostgreSQL's ranking (`ts_rank_cd`) for knowledge bases below the
    /// threshold and for filtered searches, which also returns the chunks' records; BM25 over the
    /// same lexemes in memory above it.
    private func lexicalSearch(tenant: String, query: String, k: Int, filter: SearchFilter) async throws
        -> (hits: [(id: Int64, score: Double)], records: [Int64: ChunkRecord]?)
    {
        let index = vectors.index(for: tenant)
        if filter.isEmpty, await index.mayHaveLexicalIndex {
            async let lexemes = store.lexemes(of: query)
            try await vectors.catchUp(index, store: store)
            if let hits = await index.lexicalSearch(lexemes: try await lexemes, k: k) {
                return (hits.map { ($0.id, Double($0.score)) }, nil)
            }
        }
        let found = try await store.lexical(tenant: tenant, query: query, limit: k, filter: filter)
        return (found.map { ($0.id, $0.score) }, Dictionary(found.map { ($0.id, $0.record) }) { first, _ in first })
    }

    /// Cosine similarity search through the tenant's vector index, brought up to date first.
    private func vectorSearch(tenant: String, query: String, k: Int, filter: SearchFilter) async throws
        -> [(id: Int64, score: Double)]
    {
        let index = vectors.index(for: tenant)
        async let caughtUp: Void = vectors.catchUp(index, store: store)
        let embedded = try await embedder.embed([query])
        try await caughtUp
        guard let vector = embedded.vectors.first else { return [] }
        return await index.search(vector, k: k, filter: filter).map { ($0.id, Double($0.score)) }
    }

    /// Reciprocal rank fusion of ranked id lists: the best `k` by the sum of 1 / (60 + rank).
    static func fuse(_ rankings: [[Int64]], k: Int) -> [(id: Int64, score: Double)] {
        var scores: [Int64: Double] = [:]
        var firstSeen: [Int64: Int] = [:]
        for ranking in rankings {
            for (rank, id) in ranking.enumerated() {
                scores[id, default: 0] += 1 / (fusionConstant + Double(rank + 1))
                firstSeen[id] = min(firstSeen[id] ?? rank, rank)
            }
        }
        return scores.sorted { left, right in
            left.value != right.value
                ? left.value > right.value
                : (firstSeen[left.key] ?? 0, left.key) < (firstSeen[right.key] ?? 0, right.key)
        }.prefix(k).map { ($0.key, $0.value) }
    }

    /// The tenant's index totals.
    public func stats(request: Agentplane_V1_StatsRequest, context: ServerContext) async throws
        -> Agentplane_V1_StatsResponse
    {
        let auth = try caller()
        let stats = try await store.stats(tenant: auth.tenantID)
        var response = Agentplane_V1_StatsResponse(
            documentCount: stats.documentCount, chunkCount: stats.chunkCount, textBytes: stats.textBytes,
            embeddingModel: stats.embeddingModel, embeddingDimensions: Int32(clamping: stats.embeddingDimensions))
        response.lastIndexedAt = stats.lastIndexedAt.map { Google_Protobuf_Timestamp(date: $0) }
        return response
    }
}
