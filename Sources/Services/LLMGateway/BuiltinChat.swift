import FlowEngine
import Foundation
import RPCModels
import Saturating

/// The built-in provider's chat: an extractive, deterministic answer built only from the
/// messages it is given, always labelled so nobody mistakes it for a language model. The rule
/// is documented in docs/LLM_GATEWAY.md; the execution engine relies on it.
enum BuiltinChat {
    /// The label every built-in answer starts with.
    static let label = "[builtin model]"
    /// How many sentences an answer quotes at most.
    static let maximumSentences = 3

    /// A complete answer to `request`.
    static func answer(_ request: Agentplane_V1_ChatRequest) -> ProviderReply {
        let messages = request.messages
        let lastUserIndex = messages.lastIndex { $0.role == .user }
        let query = lastUserIndex.map { messages[$0].content } ?? messages.last?.content ?? ""
        let queryWords = TextFeatures.contentWords(query)
        let promptTokens = ChatRequestValidation.estimatedPromptTokens(request)

        if !request.tools.isEmpty {
            let tool = chooseTool(request.tools, queryWords: queryWords)
            var call = Agentplane_V1_ModelToolCall()
            call.id = "builtin-call-1"
            call.name = tool.name
            call.arguments = Google_Protobuf_Struct(fields: ["input": Google_Protobuf_Value(kind: .stringValue(query))])
            return ProviderReply(
                content: "", toolCalls: [call], finishReason: .toolCalls,
                usage: TokenCount(prompt: promptTokens, completion: TextFeatures.estimatedTokens(tool.name)))
        }

        var text = "\(label) " + extract(messages: messages, lastUserIndex: lastUserIndex, queryWords: queryWords)
        if request.jsonOutput {
            text = #"{"answer":"\#(jsonEscaped(text))"}"#
        }
        var finish = Agentplane_V1_FinishReason.stop
        for stop in request.stop where !stop.isEmpty {
            if let range = text.range(of: stop) { text = String(text[..<range.lowerBound]) }
        }
        if request.maxTokens > 0 && TextFeatures.estimatedTokens(text) > Int(request.maxTokens) && !request.jsonOutput {
            text = String(decoding: text.utf8.prefix(Saturating.multiply(Int(request.maxTokens), 4)), as: UTF8.self)
            finish = .length
        }
        return ProviderReply(
            content: text, toolCalls: [], finishReason: finish,
            usage: TokenCount(prompt: promptTokens, completion: TextFeatures.estimatedTokens(text)))
    }

    /// The tool whose name and description share the most distinct content words with the last
    /// user message (name parts split at `_`, `-` and case-insensitively); ties: the first listed.
    static func chooseTool(_ tools: [Agentplane_V1_ModelToolSpec], queryWords: Set<String>)
        -> Agentplane_V1_ModelToolSpec
    {
        var best = tools[0]
        var bestScore = -1
        for tool in tools {
            let words = TextFeatures.contentWords(tool.name + " " + tool.description)
            let score = words.intersection(queryWords).count
            if score > bestScore {
                best = tool
                bestScore = score
            }
        }
        return best
    }

    /// Up to three sentences of the context with the most distinct content words in common with
    /// the query, in their original order.
    static func extract(messages: [Agentplane_V1_ChatMessage], lastUserIndex: Int?, queryWords: Set<String>) -> String {
        var candidates: [String] = []
        for (index, message) in messages.enumerated() {
            switch message.role {
            case .system, .user, .tool:
                var sentences = TextFeatures.sentences(message.content)
                // The question itself is the last sentence of the last user message; what comes
                // before it in that message (pasted context) counts as context.
                if index == lastUserIndex { sentences = Array(sentences.dropLast()) }
                candidates += sentences
            default:
                continue
            }
        }
        let scored = candidates.enumerated().map {
            (offset: $0.offset, score: TextFeatures.contentWords($0.element).intersection(queryWords).count)
        }
        let chosen = scored.filter { $0.score > 0 }
            .sorted { $0.score != $1.score ? $0.score > $1.score : $0.offset < $1.offset }
            .prefix(maximumSentences).map(\.offset).sorted()
        if chosen.isEmpty { return "No relevant information was found in the provided messages." }
        return chosen.map { candidates[$0] }.joined(separator: " ")
    }

    private static func jsonEscaped(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case let c where c.value < 0x20: out += String(format: "\\u%04x", c.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}
