import Foundation

/// The offline model, following the LLM gateway's documented builtin rule (docs/LLM_GATEWAY.md) so
/// flows behave the same in tests as against the gateway's `builtin` model.
public struct BuiltinModelClient: ModelClient {
    /// Creates the client.
    public init() {}

    /// Answers by the builtin rule: with tools, the tool whose name and description share the most
    /// content words with the query (ties: the first); otherwise up to 3 quoted matching sentences.
    public func chat(_ request: ChatRequest, onDelta: @escaping @Sendable (String) -> Void) async throws
        -> ChatResult
    {
        let promptTokens = request.messages.reduce(0) { $0 + TextFeatures.estimatedTokens($1.content) + 4 }
        let lastUser = request.messages.lastIndex { $0.role == .user } ?? request.messages.indices.last
        let query = lastUser.map { request.messages[$0].content } ?? ""
        if !request.tools.isEmpty {
            let chosen = Self.choose(request.tools, query: query)
            return ChatResult(text: "", toolCall: chosen.name, promptTokens: promptTokens, completionTokens: 1)
        }
        let answer = Self.answer(request.messages, lastUser: lastUser, query: query)
        for delta in Self.deltas(answer) {
            try Task.checkCancellation()
            onDelta(delta)
        }
        return ChatResult(
            text: answer, promptTokens: promptTokens, completionTokens: TextFeatures.estimatedTokens(answer))
    }

    /// The tool sharing the most distinct content words with the query; ties go to the first.
    static func choose(_ tools: [ChatToolChoice], query: String) -> ChatToolChoice {
        let words = TextFeatures.contentWords(query)
        var best = tools[0]
        var bestScore = -1
        for tool in tools {
            let score = TextFeatures.contentWords(tool.name + " " + tool.description).intersection(words).count
            if score > bestScore {
                best = tool
                bestScore = score
            }
        }
        return best
    }

    static func answer(_ messages: [ChatMessage], lastUser: Int?, query: String) -> String {
        let words = TextFeatures.contentWords(query)
        var candidates: [(sentence: String, score: Int)] = []
        for (index, message) in messages.enumerated() where message.role != .assistant {
            var sentences = TextFeatures.sentences(message.content)
            if index == lastUser { sentences = Array(sentences.dropLast()) }
            for sentence in sentences {
                candidates.append((sentence, TextFeatures.contentWords(sentence).intersection(words).count))
            }
        }
        let best = candidates.indices.filter { candidates[$0].score > 0 }
            .sorted {
                candidates[$0].score != candidates[$1].score ? candidates[$0].score > candidates[$1].score : $0 < $1
            }
            .prefix(3).sorted()
        guard !best.isEmpty else {
            return "[builtin model] No relevant information was found in the provided messages."
        }
        return "[builtin model] " + best.map { candidates[$0].sentence }.joined(separator: " ")
    }

    /// Word-sized pieces, each keeping its following spaces; concatenated they are `text`.
    static func deltas(_ text: String) -> [String] {
        var pieces: [String] = []
        var current = ""
        var inSpace = false
        for character in text {
            if character.isWhitespace {
                inSpace = true
            } else if inSpace {
                pieces.append(current)
                current = ""
                inSpace = false
            }
            current.append(character)
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces
    }
}
