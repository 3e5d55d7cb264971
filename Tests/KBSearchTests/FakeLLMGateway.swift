import RPCCore
import RPCHTTP2
import RPCModels
import Synchronization

/// Deterministic hashed embeddings like the gateway's built-in provider: word unigrams and
/// bigrams plus character 3-grams, signed feature hashing into 384 dimensions, L2-normalised.
enum HashedEmbedding {
    static let dimensions = 384

    static func embed(_ text: String) -> [Float] {
        var vector = [Float](repeating: 0, count: dimensions)
        let words = text.lowercased().split { !($0.isLetter || $0.isNumber) }.map(String.init)
        func add(_ feature: String, weight: Float) {
            let hash = fnv1a(feature)
            let index = Int(hash % UInt64(dimensions))
            let sign: Float = (hash >> 63) == 0 ? 1 : -1
            vector[index] += sign * weight
        }
        for (position, word) in words.enumerated() {
            add("w:" + word, weight: 1)
            if position > 0 { add("b:" + words[position - 1] + " " + word, weight: 0.5) }
            let padded = Array("^" + word + "$")
            if padded.count >= 3 {
                for start in 0...(padded.count - 3) { add("c:" + String(padded[start..<start + 3]), weight: 0.25) }
            }
        }
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? vector.map { $0 / norm } : vector
    }

    static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }
}

/// A test-only LLM gateway serving Embed with hashed embeddings; the other methods are
/// UNIMPLEMENTED. It counts Embed calls and inputs, and can be told to fail.
final class FakeLLMGateway: Agentplane_V1_LLMGatewayService.ServiceProtocol {
    /// Embed calls received, and the number of inputs of each.
    let batches = Mutex<[Int]>([])
    /// When set, Embed fails with this status.
    let failure = Mutex<Status.Code?>(nil)

    func embed(request: Agentplane_V1_EmbedRequest, context: ServerContext) async throws -> Agentplane_V1_EmbedResponse
    {
        if let code = failure.withLock({ $0 }) { throw RPCError(code: code, message: "fake gateway told to fail") }
        guard !request.inputs.isEmpty else { throw RPCError(code: .invalidArgument, message: "no inputs") }
        guard request.inputs.count <= 256 else { throw RPCError(code: .resourceExhausted, message: "over 256 inputs") }
        batches.withLock { $0.append(request.inputs.count) }
        return Agentplane_V1_EmbedResponse(
            embeddings: request.inputs.map { Agentplane_V1_Embedding(values: HashedEmbedding.embed($0)) },
            model: "builtin-hashed-384", dimensions: Int32(HashedEmbedding.dimensions))
    }

    func chat(request: Agentplane_V1_ChatRequest, context: ServerContext) async throws -> Agentplane_V1_ChatResponse {
        throw RPCError(code: .unimplemented, message: "fake gateway: embeddings only")
    }

    func chatStream(
        request: Agentplane_V1_ChatStreamRequest, response: ResponseWriter<Agentplane_V1_ChatStreamResponse>,
        context: ServerContext
    ) async throws {
        throw RPCError(code: .unimplemented, message: "fake gateway: embeddings only")
    }

    func listModels(request: Agentplane_V1_ListModelsRequest, context: ServerContext) async throws
        -> Agentplane_V1_ListModelsResponse
    {
        throw RPCError(code: .unimplemented, message: "fake gateway: embeddings only")
    }

    func getUsage(request: Agentplane_V1_GetUsageRequest, context: ServerContext) async throws
        -> Agentplane_V1_GetUsageResponse
    {
        throw RPCError(code: .unimplemented, message: "fake gateway: embeddings only")
    }

    func setProviderConfig(request: Agentplane_V1_SetProviderConfigRequest, context: ServerContext) async throws
        -> Agentplane_V1_SetProviderConfigResponse
    {
        throw RPCError(code: .unimplemented, message: "fake gateway: embeddings only")
    }

    func getProviderConfig(request: Agentplane_V1_GetProviderConfigRequest, context: ServerContext) async throws
        -> Agentplane_V1_GetProviderConfigResponse
    {
        throw RPCError(code: .unimplemented, message: "fake gateway: embeddings only")
    }
}

/// A fake gateway on a real gRPC server on a free loopback port.
struct RunningFakeGateway {
    let gateway: FakeLLMGateway
    let server: GRPCServer

    static func start() async throws -> RunningFakeGateway {
        let gateway = FakeLLMGateway()
        let server = GRPCServer(configuration: ServerConfiguration(port: 0, threads: 1), services: [gateway])
        try await server.start()
        return RunningFakeGateway(gateway: gateway, server: server)
    }

    var address: String { "127.0.0.1:\(server.port ?? 0)" }

    func stop() async { await server.shutdown(gracePeriod: .seconds(1)) }
}
