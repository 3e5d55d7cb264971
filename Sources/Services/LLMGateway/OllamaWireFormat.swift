import Foundation
import RPCCore
import RPCModels

/// The JSON of Ollama's native API: `POST /api/chat` (newline-delimited JSON when streaming)
/// and `POST /api/embed`.
enum OllamaWireFormat {
    /// The body of `POST /api/chat`.
    static func chatBody(_ request: Agentplane_V1_ChatRequest, upstreamModel: String, stream: Bool) -> [UInt8] {
        var body: [String: Any] = [
            "model": upstreamModel, "messages": request.messages.map(message), "stream": stream,
        ]
        var options: [String: Any] = [:]
        if request.maxTokens > 0 { options["num_predict"] = Int(request.maxTokens) }
        if let sampling = request.sampling {
            options["temperature"] = sampling.temperature
            if sampling.topP > 0 { options["top_p"] = sampling.topP }
            if sampling.seed != 0 { options["seed"] = sampling.seed }
        }
        if !request.stop.isEmpty { options["stop"] = request.stop }
        if !options.isEmpty { body["options"] = options }
        if !request.tools.isEmpty {
            body["tools"] = request.tools.map { tool -> [String: Any] in
                var function: [String: Any] = ["name": tool.name]
                if !tool.description.isEmpty { function["description"] = tool.description }
                function["parameters"] =
                    tool.parameters.map(OpenAIWireFormat.jsonObject) ?? ["type": "object", "properties": [:]]
                return ["type": "function", "function": function]
            }
        }
        if request.jsonOutput { body["format"] = "json" }
        return OpenAIWireFormat.serialized(body)
    }

    /// The body of `POST /api/embed`.
    static func embedBody(_ inputs: [String], upstreamModel: String) -> [UInt8] {
        OpenAIWireFormat.serialized(["model": upstreamModel, "input": inputs])
    }

    private static func message(_ message: Agentplane_V1_ChatMessage) -> [String: Any] {
        let role =
            switch message.role {
            case .system: "system"
            case .assistant: "assistant"
            case .tool: "tool"
            default: "user"
            }
        var object: [String: Any] = ["role": role, "content": message.content]
        if !message.toolCalls.isEmpty {
            object["tool_calls"] = message.toolCalls.map { call -> [String: Any] in
                [
                    "function": [
                        "name": call.name, "arguments": call.arguments.map(OpenAIWireFormat.jsonObject) ?? [:],
                    ] as [String: Any]
                ]
            }
        }
        return object
    }

    /// One object of a reply: a whole reply, or one line of a stream.
    struct Chunk {
        var content: String
        var toolCalls: [Agentplane_V1_ModelToolCall]
        var done: Bool
        var finishReason: Agentplane_V1_FinishReason
        var usage: TokenCount?
    }

    /// Parses a reply or a stream line; `callOffset` numbers tool calls across a stream.
    static func chunk(_ bytes: [UInt8], callOffset: Int = 0) throws(RPCError) -> Chunk {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw OpenAIWireFormat.malformed("a reply that is not a JSON object")
        }
        if let error = object["error"] as? String {
            throw RPCError.withDetails(
                .unavailable, "the provider failed: \(error)", reason: "PROVIDER_ERROR")
        }
        let message = object["message"] as? [String: Any] ?? [:]
        var calls: [Agentplane_V1_ModelToolCall] = []
        for (index, call) in (message["tool_calls"] as? [[String: Any]] ?? []).enumerated() {
            let function = call["function"] as? [String: Any] ?? [:]
            var toolCall = Agentplane_V1_ModelToolCall()
            toolCall.id = call["id"] as? String ?? "call_\(callOffset + index + 1)"
            toolCall.name = function["name"] as? String ?? ""
            if let arguments = function["arguments"] as? [String: Any] {
                toolCall.arguments = OpenAIWireFormat.structValue(arguments)
            } else if let text = function["arguments"] as? String {
                toolCall = try OpenAIWireFormat.toolCall(id: toolCall.id, name: toolCall.name, arguments: text)
            } else {
                toolCall.arguments = Google_Protobuf_Struct()
            }
            calls.append(toolCall)
        }
        let done = object["done"] as? Bool ?? false
        var usage: TokenCount?
        if done {
            usage = TokenCount(
                prompt: TokenCount.reported(object["prompt_eval_count"]) ?? 0,
                completion: TokenCount.reported(object["eval_count"]) ?? 0)
        }
        let reason = OpenAIWireFormat.finishReason(object["done_reason"] as? String, hasToolCalls: !calls.isEmpty)
        return Chunk(
            content: message["content"] as? String ?? "", toolCalls: calls, done: done, finishReason: reason,
            usage: usage)
    }

    /// A parsed non-streaming reply.
    static func chatReply(_ body: [UInt8]) throws(RPCError) -> ProviderReply {
        let chunk = try chunk(body)
        guard chunk.done else { throw OpenAIWireFormat.malformed("a reply that is not done") }
        return ProviderReply(
            content: chunk.content, toolCalls: chunk.toolCalls,
            finishReason: chunk.toolCalls.isEmpty ? chunk.finishReason : .toolCalls,
            usage: chunk.usage ?? TokenCount(prompt: 0, completion: 0))
    }

    /// Parsed embeddings, in input order, and the prompt tokens reported.
    static func embeddings(_ body: [UInt8], count: Int) throws(RPCError) -> (vectors: [[Float]], tokens: Int?) {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any],
            let lists = object["embeddings"] as? [[NSNumber]]
        else { throw OpenAIWireFormat.malformed("an embed reply without embeddings") }
        guard lists.count == count else {
            throw OpenAIWireFormat.malformed("\(lists.count) embeddings for \(count) inputs")
        }
        return (lists.map { $0.map(\.floatValue) }, TokenCount.reported(object["prompt_eval_count"]))
    }
}
