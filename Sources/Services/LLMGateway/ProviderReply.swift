import RPCModels

/// Prompt and completion tokens of one call.
struct TokenCount: Sendable, Equatable {
    var prompt: Int
    var completion: Int

    var message: Agentplane_V1_TokenUsage {
        Agentplane_V1_TokenUsage(
            promptTokens: Int64(prompt), completionTokens: Int64(completion), totalTokens: Int64(prompt + completion))
    }
}

/// A complete reply from a provider.
struct ProviderReply: Sendable {
    var content: String
    var toolCalls: [Agentplane_V1_ModelToolCall]
    var finishReason: Agentplane_V1_FinishReason
    var usage: TokenCount
}

/// One step of a streamed reply.
enum StreamEvent: Sendable {
    /// The next piece of text.
    case delta(String)
    /// A tool call whose arguments are complete.
    case toolCall(Agentplane_V1_ModelToolCall)
}

/// How a streamed reply ended.
struct StreamOutcome: Sendable {
    var finishReason: Agentplane_V1_FinishReason
    /// Nil when the provider did not report usage; the gateway then estimates it.
    var usage: TokenCount?
    var content: String
}
