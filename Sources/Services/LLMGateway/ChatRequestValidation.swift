import FlowEngine
import RPCCore
import RPCModels
import Runtime

/// The checks every chat request passes before it reaches a provider, each failure naming the
/// field and what to send instead.
enum ChatRequestValidation {
    static func validate(_ request: Agentplane_V1_ChatRequest) throws(RPCError) {
        if request.messages.isEmpty {
            throw RPCError.invalidField("messages", code: "EMPTY", "send at least one message")
        }
        for (index, message) in request.messages.enumerated() {
            let field = "messages[\(index)]"
            switch message.role {
            case .system, .user, .assistant, .tool:
                break
            default:
                throw RPCError.invalidField(
                    "\(field).role", code: "INVALID_ROLE", "set the role to SYSTEM, USER, ASSISTANT or TOOL")
            }
            if message.role == .tool && message.toolCallID.isEmpty {
                throw RPCError.invalidField(
                    "\(field).tool_call_id", code: "MISSING", "a TOOL message names the tool call it answers")
            }
            if message.content.contains("\u{0}") {
                throw RPCError.invalidField("\(field).content", code: "NUL", "content must not contain NUL characters")
            }
        }
        if !request.messages.contains(where: { !$0.content.isEmpty || !$0.toolCalls.isEmpty }) {
            throw RPCError.invalidField("messages", code: "EMPTY", "every message is empty; send some content")
        }
        if request.maxTokens < 0 {
            throw RPCError.invalidField("max_tokens", code: "NEGATIVE", "max_tokens must be 0 (default) or positive")
        }
        if let sampling = request.sampling {
            if !(0...2).contains(sampling.temperature) {
                throw RPCError.invalidField("sampling.temperature", code: "OUT_OF_RANGE", "temperature must be 0-2")
            }
            if !(0...1).contains(sampling.topP) {
                throw RPCError.invalidField("sampling.top_p", code: "OUT_OF_RANGE", "top_p must be 0-1 (0: default)")
            }
        }
        if request.stop.count > 4 {
            throw RPCError.invalidField("stop", code: "TOO_MANY", "at most 4 stop sequences")
        }
        var names: Set<String> = []
        for (index, tool) in request.tools.enumerated() {
            let valid =
                (1...64).contains(tool.name.utf8.count)
                && tool.name.unicodeScalars.allSatisfy {
                    ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_"
                        || $0 == "-"
                }
            if !valid {
                throw RPCError.invalidField(
                    "tools[\(index)].name", code: "INVALID", "a tool name is 1-64 of a-z, A-Z, 0-9, _ and -")
            }
            if !names.insert(tool.name).inserted {
                throw RPCError.invalidField(
                    "tools[\(index)].name", code: "DUPLICATE", "tool \"\(tool.name)\" is listed twice")
            }
        }
    }

    /// The prompt's estimated tokens (see `TextFeatures.estimatedTokens`).
    static func estimatedPromptTokens(_ request: Agentplane_V1_ChatRequest) -> Int {
        request.messages.reduce(0) { $0 + TextFeatures.estimatedTokens($1.content) + 4 }
    }
}
