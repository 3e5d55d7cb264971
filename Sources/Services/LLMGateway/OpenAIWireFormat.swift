import Foundation
import RPCCore
import RPCModels

/// The JSON of OpenAI's Chat Completions and Embeddings APIs, both ways.
enum OpenAIWireFormat {
    /// The body of `POST /chat/completions`.
    static func chatBody(_ request: Agentplane_V1_ChatRequest, upstreamModel: String, stream: Bool) -> [UInt8] {
        var body: [String: Any] = ["model": upstreamModel, "messages": request.messages.map(message)]
        if request.maxTokens > 0 { body["max_tokens"] = Int(request.maxTokens) }
        if let sampling = request.sampling {
            body["temperature"] = sampling.temperature
            if sampling.topP > 0 { body["top_p"] = sampling.topP }
            if sampling.seed != 0 { body["seed"] = sampling.seed }
        }
        if !request.stop.isEmpty { body["stop"] = request.stop }
        if !request.tools.isEmpty {
            body["tools"] = request.tools.map { tool -> [String: Any] in
                var function: [String: Any] = ["name": tool.name]
                if !tool.description.isEmpty { function["description"] = tool.description }
                function["parameters"] = tool.parameters.map(jsonObject) ?? ["type": "object", "properties": [:]]
                return ["type": "function", "function": function]
            }
        }
        if request.jsonOutput { body["response_format"] = ["type": "json_object"] }
        if stream {
            body["stream"] = true
            body["stream_options"] = ["include_usage": true]
        }
        return serialized(body)
    }

    /// The body of `POST /embeddings`.
    static func embeddingsBody(_ inputs: [String], upstreamModel: String) -> [UInt8] {
        serialized(["model": upstreamModel, "input": inputs])
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
                let arguments = String(decoding: serialized(call.arguments.map(jsonObject) ?? [:]), as: UTF8.self)
                return ["id": call.id, "type": "function", "function": ["name": call.name, "arguments": arguments]]
            }
        }
        if !message.toolCallID.isEmpty { object["tool_call_id"] = message.toolCallID }
        return object
    }

    // MARK: Responses

    /// A parsed chat completion.
    static func chatReply(_ body: [UInt8]) throws(RPCError) -> ProviderReply {
        let object = try parseObject(body)
        guard let choices = object["choices"] as? [[String: Any]], let choice = choices.first,
            let message = choice["message"] as? [String: Any]
        else { throw malformed("a chat completion without choices[0].message") }
        var calls: [Agentplane_V1_ModelToolCall] = []
        for call in message["tool_calls"] as? [[String: Any]] ?? [] {
            let function = call["function"] as? [String: Any] ?? [:]
            calls.append(
                try toolCall(
                    id: call["id"] as? String ?? "", name: function["name"] as? String ?? "",
                    arguments: function["arguments"] as? String ?? ""))
        }
        let usage = object["usage"] as? [String: Any]
        return ProviderReply(
            content: message["content"] as? String ?? "", toolCalls: calls,
            finishReason: finishReason(choice["finish_reason"] as? String, hasToolCalls: !calls.isEmpty),
            usage: TokenCount(
                prompt: TokenCount.reported(usage?["prompt_tokens"]) ?? 0,
                completion: TokenCount.reported(usage?["completion_tokens"]) ?? 0))
    }

    /// Parsed embeddings, in input order, and the prompt tokens reported.
    static func embeddings(_ body: [UInt8], count: Int) throws(RPCError) -> (vectors: [[Float]], tokens: Int?) {
        let object = try parseObject(body)
        guard let data = object["data"] as? [[String: Any]] else { throw malformed("an embeddings reply without data") }
        var vectors = [[Float]?](repeating: nil, count: count)
        for (position, item) in data.enumerated() {
            let index = ProviderNumber.int(item["index"], in: -1...Int(Int32.max)) ?? position
            guard let values = item["embedding"] as? [NSNumber], vectors.indices.contains(index) else {
                throw malformed("an embeddings reply with a bad data[\(position)]")
            }
            vectors[index] = values.map(\.floatValue)
        }
        let complete = vectors.compactMap { $0 }
        guard complete.count == count else {
            throw malformed("\(complete.count) embeddings for \(count) inputs")
        }
        let tokens = TokenCount.reported((object["usage"] as? [String: Any])?["prompt_tokens"])
        return (complete, tokens)
    }

    /// The provider's own error message from an error body, if it has one.
    static func errorMessage(_ body: [UInt8]) -> String? {
        guard let object = try? parseObject(body) else {
            let text = String(decoding: body.prefix(200), as: UTF8.self)
            return text.isEmpty ? nil : text
        }
        if let error = object["error"] as? [String: Any], let message = error["message"] as? String { return message }
        if let message = object["error"] as? String { return message }
        return nil
    }

    /// Tool calls being assembled from stream deltas, by index.
    struct ToolCallAccumulator {
        private var calls: [Int: (id: String, name: String, arguments: String)] = [:]

        mutating func add(_ delta: [String: Any]) {
            let index = ProviderNumber.int(delta["index"], in: 0...Int(Int32.max)) ?? 0
            var call = calls[index] ?? ("", "", "")
            if let id = delta["id"] as? String { call.id += id }
            if let function = delta["function"] as? [String: Any] {
                if let name = function["name"] as? String { call.name += name }
                if let arguments = function["arguments"] as? String { call.arguments += arguments }
            }
            calls[index] = call
        }

        var isEmpty: Bool { calls.isEmpty }

        /// The complete calls, in index order; empties the accumulator.
        mutating func drain() throws(RPCError) -> [Agentplane_V1_ModelToolCall] {
            defer { calls = [:] }
            var result: [Agentplane_V1_ModelToolCall] = []
            for (_, call) in calls.sorted(by: { $0.key < $1.key }) {
                result.append(try toolCall(id: call.id, name: call.name, arguments: call.arguments))
            }
            return result
        }
    }

    /// One `data:` item of a streamed completion.
    struct StreamChunk {
        var content: String?
        var toolCallDeltas: [[String: Any]]
        var finishReason: String?
        var usage: TokenCount?
    }

    static func streamChunk(_ data: String) throws(RPCError) -> StreamChunk {
        let object = try parseObject(Array(data.utf8))
        var chunk = StreamChunk(content: nil, toolCallDeltas: [], finishReason: nil, usage: nil)
        if let usage = object["usage"] as? [String: Any] {
            chunk.usage = TokenCount(
                prompt: TokenCount.reported(usage["prompt_tokens"]) ?? 0,
                completion: TokenCount.reported(usage["completion_tokens"]) ?? 0)
        }
        if let choice = (object["choices"] as? [[String: Any]])?.first {
            let delta = choice["delta"] as? [String: Any] ?? [:]
            chunk.content = delta["content"] as? String
            chunk.toolCallDeltas = delta["tool_calls"] as? [[String: Any]] ?? []
            chunk.finishReason = choice["finish_reason"] as? String
        } else if object["choices"] == nil && chunk.usage == nil {
            if let message = errorMessage(Array(data.utf8)) {
                throw RPCError.withDetails(
                    .unavailable, "the provider failed during the stream: \(message)", reason: "PROVIDER_ERROR")
            }
            throw malformed("a stream item without choices")
        }
        return chunk
    }

    static func finishReason(_ text: String?, hasToolCalls: Bool) -> Agentplane_V1_FinishReason {
        switch text {
        case "length": .length
        case "tool_calls", "function_call": .toolCalls
        case "content_filter": .contentFilter
        default: hasToolCalls ? .toolCalls : .stop
        }
    }

    // MARK: JSON helpers

    static func toolCall(id: String, name: String, arguments: String) throws(RPCError) -> Agentplane_V1_ModelToolCall {
        var call = Agentplane_V1_ModelToolCall()
        call.id = id
        call.name = name
        let text = arguments.trimmingCharacters(in: .whitespacesAndNewlines)
        if !text.isEmpty {
            guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                throw malformed("tool call \"\(name)\" with arguments that are not a JSON object")
            }
            call.arguments = structValue(object)
        } else {
            call.arguments = Google_Protobuf_Struct()
        }
        return call
    }

    private static func parseObject(_ body: [UInt8]) throws(RPCError) -> [String: Any] {
        guard let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            throw malformed("a body that is not a JSON object")
        }
        return object
    }

    static func malformed(_ what: String) -> RPCError {
        RPCError.withDetails(
            .unavailable, "the provider sent a malformed response (\(what)); check base_url and the provider",
            reason: "PROVIDER_MALFORMED_RESPONSE")
    }

    static func serialized(_ object: Any) -> [UInt8] {
        Array((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8))
    }

    static func jsonObject(_ value: Google_Protobuf_Struct) -> [String: Any] {
        value.fields.mapValues(jsonValue)
    }

    static func jsonValue(_ value: Google_Protobuf_Value) -> Any {
        switch value.kind {
        case .numberValue(let number)?: number
        case .stringValue(let string)?: string
        case .boolValue(let bool)?: bool
        case .structValue(let object)?: jsonObject(object)
        case .listValue(let list)?: list.values.map(jsonValue)
        case .nullValue?, nil: NSNull()
        }
    }

    static func structValue(_ object: [String: Any]) -> Google_Protobuf_Struct {
        Google_Protobuf_Struct(fields: object.mapValues(protoValue))
    }

    static func protoValue(_ value: Any) -> Google_Protobuf_Value {
        switch value {
        case let string as String: return Google_Protobuf_Value(kind: .stringValue(string))
        case let number as NSNumber:
            if type(of: number) == type(of: NSNumber(value: true)) {
                return Google_Protobuf_Value(kind: .boolValue(number.boolValue))
            }
            return Google_Protobuf_Value(kind: .numberValue(number.doubleValue))
        case let object as [String: Any]: return Google_Protobuf_Value(kind: .structValue(structValue(object)))
        case let list as [Any]:
            return Google_Protobuf_Value(kind: .listValue(Google_Protobuf_ListValue(values: list.map(protoValue))))
        default: return Google_Protobuf_Value(kind: .nullValue(.nullValue))
        }
    }
}
