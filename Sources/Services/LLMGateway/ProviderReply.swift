import Foundation
import RPCModels
import Saturating

/// Prompt and completion tokens of one call.
struct TokenCount: Sendable, Equatable {
    var prompt: Int
    var completion: Int

    /// The most tokens a provider may report for one call; larger (hostile) counts are clamped.
    static let maximumReported = 1_000_000_000_000

    var total: Int { Saturating.add(prompt, completion) }

    var message: Agentplane_V1_TokenUsage {
        Agentplane_V1_TokenUsage(
            promptTokens: Int64(prompt), completionTokens: Int64(completion), totalTokens: Int64(total))
    }

    /// A count a provider reported (a JSON number), clamped to `0...maximumReported`; nil when
    /// absent or not a finite number. A provider is reached at a URL a tenant chose, so its
    /// numbers are outside input like any other.
    static func reported(_ value: Any?) -> Int? {
        ProviderNumber.int(value, in: 0...maximumReported)
    }
}

/// Integers read from a provider's JSON, converted without trapping.
enum ProviderNumber {
    /// `value` as an integer clamped into `range`; nil when it is not a finite number.
    static func int(_ value: Any?, in range: ClosedRange<Int>) -> Int? {
        guard let number = value as? NSNumber else { return nil }
        let double = number.doubleValue
        guard double.isFinite else { return nil }
        if double <= Double(range.lowerBound) { return range.lowerBound }
        if double >= Double(range.upperBound) { return range.upperBound }
        return Int(double.rounded(.towardZero))
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
