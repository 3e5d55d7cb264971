import Foundation
import Logging
import RPCCore
import RPCModels
import Runtime
import RuntimeHTTP
import Saturating

/// Which HTTP API a remote provider speaks.
enum ProviderDialect: Sendable {
    /// OpenAI's `/chat/completions` (SSE streaming) and `/embeddings`: OpenAI, Ollama's /v1,
    /// vLLM, llama.cpp's server.
    case openAI
    /// Ollama's native `/api/chat` (newline-delimited JSON streaming) and `/api/embed`.
    case ollama
}

/// Calls a remote provider through the outbound client, retrying what is worth retrying and
/// turning every failure into the status the contract names.
struct RemoteProvider: Sendable {
    let http: OutboundHTTPClient
    let dialect: ProviderDialect
    /// For OpenAI, ends in the API version (e.g. `…/v1`), and `chat/completions` and
    /// `embeddings` are appended; for Ollama, the server root, and `api/chat` and `api/embed`.
    let baseURL: URL
    let apiKey: String?
    let retry: RetryPolicy
    /// When the whole call, retries included, must be done.
    let deadline: ContinuousClock.Instant
    /// Whether the deadline is the caller's (gRPC) rather than the tenant's provider timeout.
    let deadlineIsCallers: Bool
    let logger: Logger

    /// A reply to a chat request, in one piece.
    func chat(_ request: Agentplane_V1_ChatRequest, upstreamModel: String) async throws -> ProviderReply {
        let body =
            dialect == .openAI
            ? OpenAIWireFormat.chatBody(request, upstreamModel: upstreamModel, stream: false)
            : OllamaWireFormat.chatBody(request, upstreamModel: upstreamModel, stream: false)
        let response = try await withRetries { timeout in
            try await http.execute(outbound(chatPath, body: body, timeout: timeout))
        } status: {
            ($0.status, $0.headers, $0.body)
        }
        return dialect == .openAI
            ? try OpenAIWireFormat.chatReply(response.body) : try OllamaWireFormat.chatReply(response.body)
    }

    /// Embeddings of `inputs`, in order, and the tokens the provider reported.
    func embed(_ inputs: [String], upstreamModel: String) async throws -> (vectors: [[Float]], tokens: Int?) {
        let body =
            dialect == .openAI
            ? OpenAIWireFormat.embeddingsBody(inputs, upstreamModel: upstreamModel)
            : OllamaWireFormat.embedBody(inputs, upstreamModel: upstreamModel)
        let response = try await withRetries { timeout in
            try await http.execute(
                outbound(dialect == .openAI ? "embeddings" : "api/embed", body: body, timeout: timeout))
        } status: {
            ($0.status, $0.headers, $0.body)
        }
        return dialect == .openAI
            ? try OpenAIWireFormat.embeddings(response.body, count: inputs.count)
            : try OllamaWireFormat.embeddings(response.body, count: inputs.count)
    }

    /// Streams a reply: `onStart` once the provider accepted the request, then every event.
    /// Retries happen only before the provider's response started; cancelling the calling task
    /// cancels the upstream request.
    func stream(
        _ request: Agentplane_V1_ChatRequest, upstreamModel: String, onStart: () async throws -> Void,
        onEvent: (StreamEvent) async throws -> Void
    ) async throws -> StreamOutcome {
        let body =
            dialect == .openAI
            ? OpenAIWireFormat.chatBody(request, upstreamModel: upstreamModel, stream: true)
            : OllamaWireFormat.chatBody(request, upstreamModel: upstreamModel, stream: true)
        let response = try await withRetries { timeout in
            let response = try await http.stream(outbound(chatPath, body: body, timeout: timeout))
            if (200..<300).contains(response.status) { return (response, [UInt8]()) }
            // An error's body is small; read it for the provider's message.
            var errorBody: [UInt8] = []
            for try await chunk in response.body where errorBody.count < 64 * 1024 { errorBody += chunk }
            return (response, errorBody)
        } status: {
            ($0.0.status, $0.0.headers, $0.1)
        }.0
        try await onStart()
        if dialect == .ollama { return try await relayLines(response.body, onEvent: onEvent) }
        var parser = ServerSentEventParser()
        var tools = OpenAIWireFormat.ToolCallAccumulator()
        var outcome = StreamOutcome(finishReason: .unspecified, usage: nil, content: "")
        var done = false
        func handle(_ data: String) async throws {
            if data.trimmingCharacters(in: .whitespaces) == "[DONE]" {
                done = true
                return
            }
            let chunk = try OpenAIWireFormat.streamChunk(data)
            if let usage = chunk.usage { outcome.usage = usage }
            if let content = chunk.content, !content.isEmpty {
                outcome.content += content
                try await onEvent(.delta(content))
            }
            for delta in chunk.toolCallDeltas { tools.add(delta) }
            if let reason = chunk.finishReason {
                outcome.finishReason = OpenAIWireFormat.finishReason(reason, hasToolCalls: !tools.isEmpty)
                for call in try tools.drain() { try await onEvent(.toolCall(call)) }
            }
        }
        do {
            for try await bytes in response.body {
                for data in parser.feed(bytes) where !done { try await handle(data) }
                if done { break }
            }
            if !done, let data = parser.finish() { try await handle(data) }
        } catch let error as OutboundHTTPError {
            throw mapTransport(error, afterStart: true)
        }
        for call in try tools.drain() { try await onEvent(.toolCall(call)) }
        guard done || outcome.finishReason != .unspecified else {
            throw RPCError.withDetails(
                .unavailable, "the provider ended the stream before it finished (no [DONE])",
                reason: "PROVIDER_STREAM_TRUNCATED")
        }
        if outcome.finishReason == .unspecified { outcome.finishReason = .stop }
        return outcome
    }

    /// Relays an Ollama stream: one JSON object per line, the last with `done: true`.
    private func relayLines(
        _ body: AsyncThrowingStream<[UInt8], any Error>, onEvent: (StreamEvent) async throws -> Void
    ) async throws -> StreamOutcome {
        var splitter = LineSplitter()
        var outcome = StreamOutcome(finishReason: .unspecified, usage: nil, content: "")
        var done = false
        var calls = 0
        func handle(_ line: [UInt8]) async throws {
            let chunk = try OllamaWireFormat.chunk(line, callOffset: calls)
            if !chunk.content.isEmpty {
                outcome.content += chunk.content
                try await onEvent(.delta(chunk.content))
            }
            for call in chunk.toolCalls { try await onEvent(.toolCall(call)) }
            calls += chunk.toolCalls.count
            if chunk.done {
                done = true
                outcome.usage = chunk.usage
                outcome.finishReason = calls > 0 ? .toolCalls : chunk.finishReason
            }
        }
        do {
            for try await bytes in body {
                for line in splitter.feed(bytes) where !done { try await handle(line) }
                if done { break }
            }
            if !done, let line = splitter.finish() { try await handle(line) }
        } catch let error as OutboundHTTPError {
            throw mapTransport(error, afterStart: true)
        }
        guard done else {
            throw RPCError.withDetails(
                .unavailable, "the provider ended the stream before it finished (no done: true)",
                reason: "PROVIDER_STREAM_TRUNCATED")
        }
        return outcome
    }

    // MARK: Requests and retries

    private var chatPath: String { dialect == .openAI ? "chat/completions" : "api/chat" }

    private func outbound(_ path: String, body: [UInt8], timeout: Duration) -> OutboundRequest {
        var headers: OutboundHeaders = ["content-type": "application/json", "accept": "application/json"]
        if let apiKey { headers.add(name: "authorization", value: "Bearer \(apiKey)", secret: true) }
        return OutboundRequest(
            method: .post, url: baseURL.appendingPathComponent(path), headers: headers, body: body, timeout: timeout)
    }

    /// Runs `attempt` until it gives a 2xx response, retrying 408, 429, 5xx and connection
    /// failures while the deadline allows; throws the status the contract names otherwise.
    private func withRetries<Response>(
        _ attempt: (Duration) async throws -> Response,
        status: (Response) -> (Int, OutboundHeaders, [UInt8])
    ) async throws -> Response {
        var retries = 0
        while true {
            let remaining = ContinuousClock.now.duration(to: deadline)
            guard remaining > .zero else { throw deadlineExceeded() }
            let failure: (error: RPCError, retryAfter: Duration?)
            do {
                let response = try await attempt(remaining)
                let (code, headers, body) = status(response)
                if (200..<300).contains(code) { return response }
                let retryAfter =
                    RetryPolicy.parseRetryAfterMilliseconds(headers.first(name: "retry-after-ms"))
                    ?? RetryPolicy.parseRetryAfter(headers.first(name: "retry-after"))
                let message = OpenAIWireFormat.errorMessage(body).map { ": \($0)" } ?? ""
                guard code == 408 || code == 429 || code >= 500 else {
                    throw Self.finalStatus(code, message: message)
                }
                failure = (upstreamUnavailable(code, message: message, retryAfter: retryAfter), retryAfter)
            } catch let error as OutboundHTTPError {
                let mapped = mapTransport(error, afterStart: false)
                guard error.code == .connection else { throw mapped }
                failure = (mapped, nil)
            }
            retries += 1
            guard retries <= retry.maximumRetries else { throw failure.error }
            // A provider asking for a longer pause than we wait gets it: the caller learns when
            // to come back (retry_after) instead of being retried too early.
            if let asked = failure.retryAfter, asked > retry.maximumDelay { throw failure.error }
            let wait = retry.delay(retry: retries, retryAfter: failure.retryAfter)
            guard ContinuousClock.now + wait < deadline else { throw failure.error }
            logger.info(
                "retrying the provider",
                metadata: ["retry": "\(retries)", "wait": "\(wait)", "error": "\(failure.error)"])
            try await Task.sleep(for: wait)
        }
    }

    private func upstreamUnavailable(_ code: Int, message: String, retryAfter: Duration?) -> RPCError {
        var error = RPCError.withDetails(
            .unavailable,
            code == 429
                ? "the provider is rate limiting this tenant (HTTP 429)\(message); retry later"
                : "the provider failed (HTTP \(code))\(message); retry later",
            reason: code == 429 ? "PROVIDER_RATE_LIMITED" : "PROVIDER_UNAVAILABLE", retryAfter: retryAfter)
        if let retryAfter {
            error.metadata.addString(String(retryAfter.milliseconds), forKey: "retry-after-ms")
        }
        return error
    }

    /// The status of a provider's answer that retrying will not fix.
    static func finalStatus(_ code: Int, message: String) -> RPCError {
        switch code {
        case 400, 413, 422:
            RPCError.withDetails(
                .invalidArgument, "the provider rejected the request (HTTP \(code))\(message)",
                reason: "PROVIDER_REJECTED_REQUEST")
        case 401, 403:
            RPCError.withDetails(
                .failedPrecondition,
                "the provider refused the credentials (HTTP \(code))\(message); "
                    + "set a valid api_key with SetProviderConfig",
                reason: "PROVIDER_AUTH_FAILED")
        case 404:
            RPCError.withDetails(
                .failedPrecondition,
                "the provider answered 404\(message); check base_url and the route's upstream_model",
                reason: "PROVIDER_NOT_FOUND")
        default:
            RPCError.withDetails(
                .unavailable, "the provider answered HTTP \(code)\(message)", reason: "PROVIDER_UNAVAILABLE")
        }
    }

    private func mapTransport(_ error: OutboundHTTPError, afterStart: Bool) -> RPCError {
        switch error.code {
        case .timeout:
            return deadlineExceeded()
        case .policy:
            return RPCError.withDetails(
                .failedPrecondition, "the provider's base_url may not be called: \(error.message)",
                reason: "PROVIDER_URL_REFUSED")
        default:
            let when = afterStart ? " during the stream" : ""
            return RPCError.withDetails(
                .unavailable, "the provider is unreachable\(when) (\(error.code)); retry later",
                reason: "PROVIDER_UNAVAILABLE")
        }
    }

    private func deadlineExceeded() -> RPCError {
        RPCError.withDetails(
            .deadlineExceeded,
            deadlineIsCallers
                ? "the provider did not answer before the call's deadline"
                : "the provider did not answer within the tenant's request_timeout",
            reason: "PROVIDER_TIMEOUT")
    }
}

extension Duration {
    /// Whole milliseconds, rounded down (saturating: never traps, whatever the duration).
    var milliseconds: Int64 { saturatingMilliseconds }
}
