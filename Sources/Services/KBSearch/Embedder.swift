import RPCCore
import RPCModels
import Runtime
import RuntimeConfig

/// Vectors for texts, one per text in order, with the model that made them.
public struct EmbeddingBatch: Sendable {
    /// One L2-normalised vector per input.
    public var vectors: [[Float]]
    /// The model's name.
    public var model: String
    /// The vectors' length.
    public var dimensions: Int

    /// A batch.
    public init(vectors: [[Float]], model: String, dimensions: Int) {
        self.vectors = vectors
        self.model = model
        self.dimensions = dimensions
    }
}

/// Where embeddings come from (the LLM gateway in production).
public protocol Embedder: Sendable {
    /// Embeds `texts`, splitting them into calls as the embedder needs.
    ///
    /// - Throws: `RPCError`, UNAVAILABLE when the model cannot be reached.
    func embed(_ texts: [String]) async throws -> EmbeddingBatch
}

/// Embeddings from the LLM gateway's Embed RPC, `batchSize` texts per call, on behalf of the
/// caller being served (the peer client carries its identity).
struct GatewayEmbedder: Embedder {
    let peers: PeerClients
    let model: String
    let batchSize: Int

    func embed(_ texts: [String]) async throws -> EmbeddingBatch {
        let client: Agentplane_V1_LLMGatewayService.Client
        do {
            client = Agentplane_V1_LLMGatewayService.Client(try peers.client(for: .llmGateway))
        } catch {
            throw RPCError(code: .unavailable, message: "the embedding model is unavailable: \(error.message)")
        }
        var vectors: [[Float]] = []
        vectors.reserveCapacity(texts.count)
        var model = self.model
        var dimensions = 0
        var start = 0
        while start < texts.count {
            let batch = Array(texts[start..<min(texts.count, start + batchSize)])
            start += batch.count
            let response: Agentplane_V1_EmbedResponse
            do {
                response = try await client.embed(Agentplane_V1_EmbedRequest(model: self.model, inputs: batch))
            } catch let error as RPCError {
                throw Self.mapped(error)
            } catch {
                throw RPCError(code: .unavailable, message: "the embedding model is unavailable: \(error)")
            }
            guard response.embeddings.count == batch.count else {
                throw RPCError(
                    code: .unavailable,
                    message:
                        "the embedding model returned \(response.embeddings.count) vectors for \(batch.count) texts")
            }
            for embedding in response.embeddings {
                let vector = VectorMath.normalized(embedding.values)
                if dimensions == 0 { dimensions = vector.count }
                guard vector.count == dimensions, dimensions > 0 else {
                    throw RPCError(code: .unavailable, message: "the embedding model returned vectors of mixed sizes")
                }
                vectors.append(vector)
            }
            model = response.model
        }
        return EmbeddingBatch(vectors: vectors, model: model, dimensions: dimensions)
    }

    /// The gateway's error as the KB's caller should see it: the model being down is UNAVAILABLE.
    static func mapped(_ error: RPCError) -> RPCError {
        switch error.code {
        case .unavailable, .deadlineExceeded, .unimplemented, .internalError, .unknown:
            RPCError(code: .unavailable, message: "the embedding model is unavailable: \(error.message)")
        default:
            RPCError(code: error.code, message: "the embedding model refused: \(error.message)")
        }
    }
}
