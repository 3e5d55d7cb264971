import FlowEngine
import Foundation
import Logging
import RPCCore
import RPCModels
import Runtime
import RuntimeSecurity
import Saturating

/// The gateway's RPCs: routing, limits, provider calls and usage for the calling tenant.
struct LLMGatewayHandler: Agentplane_V1_LLMGatewayService.ServiceProtocol {
    let environment: ServiceEnvironment
    let settings: LLMGatewaySettings
    let configs: ProviderConfigStore
    let usage: UsageStore
    let limiter: RateLimiter

    init(environment: ServiceEnvironment, settings: LLMGatewaySettings) {
        self.environment = environment
        self.settings = settings
        configs = ProviderConfigStore(
            postgres: environment.postgres, cache: ProviderConfigCache(ttl: settings.providerConfigCacheTTL))
        usage = UsageStore(postgres: environment.postgres, flushInterval: settings.usageFlushInterval)
        limiter = RateLimiter(redis: environment.redis)
    }

    /// The caller; the auth policy already checked its role for the method.
    private func caller() throws(RPCError) -> AuthContext {
        guard let auth = AuthContext.current else {
            throw RPCError(code: .unauthenticated, message: "this call requires credentials")
        }
        return auth
    }

    // MARK: Chat

    func chat(request: Agentplane_V1_ChatRequest, context: ServerContext) async throws -> Agentplane_V1_ChatResponse {
        let started = ContinuousClock.now
        let call = try await prepareChat(request, context: context)
        let reply: ProviderReply
        do {
            switch call.backend {
            case .builtin:
                reply = BuiltinChat.answer(request)
            case .remote(let provider):
                var reply0 = try await provider.chat(request, upstreamModel: call.route.upstreamModel)
                if reply0.usage == TokenCount(prompt: 0, completion: 0) {
                    reply0.usage = TokenCount(
                        prompt: call.estimatedPrompt, completion: TextFeatures.estimatedTokens(reply0.content))
                }
                reply = reply0
            }
        } catch {
            await finish(call, failed: true, tokens: TokenCount(prompt: 0, completion: 0))
            throw error
        }
        await finish(call, failed: false, tokens: reply.usage)
        var response = Agentplane_V1_ChatResponse()
        response.model = call.route.model
        response.upstreamModel = call.route.upstreamModel
        response.provider = call.providerKind
        response.message = Agentplane_V1_ChatMessage(
            role: .assistant, content: reply.content, toolCalls: reply.toolCalls, toolCallID: "")
        response.finishReason = reply.finishReason
        response.usage = reply.usage.message
        response.latency = Google_Protobuf_Duration(ContinuousClock.now - started)
        return response
    }

    func chatStream(
        request: Agentplane_V1_ChatStreamRequest, response: ResponseWriter<Agentplane_V1_ChatStreamResponse>,
        context: ServerContext
    ) async throws {
        let started = ContinuousClock.now
        guard let chat = request.chat else {
            throw RPCError.invalidField("chat", code: "MISSING", "set chat to the request's parameters")
        }
        let call = try await prepareChat(chat, context: context)
        let start = Agentplane_V1_ChatStreamStart(
            model: call.route.model, upstreamModel: call.route.upstreamModel, provider: call.providerKind)
        let outcome: StreamOutcome
        do {
            switch call.backend {
            case .builtin:
                let reply = BuiltinChat.answer(chat)
                try await response.write(Agentplane_V1_ChatStreamResponse(event: .start(start)))
                for piece in Self.pieces(of: reply.content) {
                    try await response.write(Agentplane_V1_ChatStreamResponse(event: .contentDelta(piece)))
                }
                for toolCall in reply.toolCalls {
                    try await response.write(Agentplane_V1_ChatStreamResponse(event: .toolCall(toolCall)))
                }
                outcome = StreamOutcome(finishReason: reply.finishReason, usage: reply.usage, content: reply.content)
            case .remote(let provider):
                outcome = try await provider.stream(chat, upstreamModel: call.route.upstreamModel) {
                    try await response.write(Agentplane_V1_ChatStreamResponse(event: .start(start)))
                } onEvent: { event in
                    switch event {
                    case .delta(let text):
                        try await response.write(Agentplane_V1_ChatStreamResponse(event: .contentDelta(text)))
                    case .toolCall(let toolCall):
                        try await response.write(Agentplane_V1_ChatStreamResponse(event: .toolCall(toolCall)))
                    }
                }
            }
        } catch {
            await finish(call, failed: true, tokens: TokenCount(prompt: 0, completion: 0))
            throw error
        }
        let tokens =
            outcome.usage
            ?? TokenCount(prompt: call.estimatedPrompt, completion: TextFeatures.estimatedTokens(outcome.content))
        await finish(call, failed: false, tokens: tokens)
        let end = Agentplane_V1_ChatStreamEnd(
            finishReason: outcome.finishReason, usage: tokens.message,
            latency: Google_Protobuf_Duration(ContinuousClock.now - started))
        try await response.write(Agentplane_V1_ChatStreamResponse(event: .end(end)))
    }

    /// The built-in answer cut into word-sized deltas (each keeps its following space), so a
    /// stream looks like one; concatenated they are the answer.
    static func pieces(of text: String) -> [String] {
        var pieces: [String] = []
        var current = ""
        for character in text {
            current.append(character)
            if character == " " {
                pieces.append(current)
                current = ""
            }
        }
        if !current.isEmpty { pieces.append(current) }
        return pieces
    }

    // MARK: Embed

    func embed(request: Agentplane_V1_EmbedRequest, context: ServerContext) async throws -> Agentplane_V1_EmbedResponse
    {
        let auth = try caller()
        if request.inputs.isEmpty {
            throw RPCError.invalidField("inputs", code: "EMPTY", "send at least one text to embed")
        }
        if request.inputs.count > 256 {
            throw RPCError.withDetails(
                .resourceExhausted, "\(request.inputs.count) inputs; send at most 256 per call",
                reason: "TOO_MANY_INPUTS")
        }
        for (index, input) in request.inputs.enumerated() where input.isEmpty {
            throw RPCError.invalidField("inputs[\(index)]", code: "EMPTY", "an input must not be empty")
        }
        let stored = try await configs.load(tenant: auth.tenantID)
        let route = try stored.config.route(for: request.model, capability: .embedding)
        guard route.canEmbed else {
            throw RPCError.invalidField(
                "model", code: "NOT_EMBEDDING",
                "model \"\(route.model)\" cannot embed; use one with capability EMBEDDING")
        }
        let limit = route.contextWindow > 0 ? Int(route.contextWindow) : 8192
        for (index, input) in request.inputs.enumerated() where TextFeatures.estimatedTokens(input) > limit {
            throw RPCError.withDetails(
                .resourceExhausted,
                "inputs[\(index)] is about \(TextFeatures.estimatedTokens(input)) tokens; model \"\(route.model)\" "
                    + "takes at most \(limit): split it",
                reason: "INPUT_TOO_LONG")
        }
        let estimated = request.inputs.reduce(0) { $0 + TextFeatures.estimatedTokens($1) }
        let call = try await admit(
            auth: auth, stored: stored, route: route, estimatedPrompt: estimated, context: context)
        var response = Agentplane_V1_EmbedResponse()
        response.model = route.model
        let tokens: TokenCount
        do {
            switch call.backend {
            case .builtin:
                let dimensions = route.embeddingDimensions > 0 ? Int(route.embeddingDimensions) : 384
                let embedder = HashedEmbedder(dimensions: dimensions)
                response.embeddings = request.inputs.map { Agentplane_V1_Embedding(values: embedder.embed($0)) }
                tokens = TokenCount(prompt: estimated, completion: 0)
            case .remote(let provider):
                let result = try await provider.embed(request.inputs, upstreamModel: route.upstreamModel)
                response.embeddings = result.vectors.map { Agentplane_V1_Embedding(values: $0) }
                tokens = TokenCount(prompt: result.tokens ?? estimated, completion: 0)
            }
        } catch {
            await finish(call, failed: true, tokens: TokenCount(prompt: 0, completion: 0))
            throw error
        }
        await finish(call, failed: false, tokens: tokens)
        response.dimensions = Int32(response.embeddings.first?.values.count ?? 0)
        response.usage = tokens.message
        return response
    }

    // MARK: Models and usage

    func listModels(
        request: Agentplane_V1_ListModelsRequest, context: ServerContext
    ) async throws -> Agentplane_V1_ListModelsResponse {
        let auth = try caller()
        let size = try Pagination.pageSize(request.pageSize)
        if case .UNRECOGNIZED(let value) = request.capability {
            throw RPCError.invalidField(
                "capability", code: "UNKNOWN", "capability \(value) is not CHAT, EMBEDDING or TOOLS")
        }
        let filters = "capability=\(request.capability.rawValue)"
        let after = try Pagination.cursor(from: request.pageToken, filters: filters)?.first
        let stored = try await configs.load(tenant: auth.tenantID)
        let config = stored.config
        let models = config.allRoutes
            .filter { config.isAllowed($0.model) }
            .filter { request.capability == .unspecified || $0.capabilities.contains(request.capability.rawValue) }
            .sorted { $0.model < $1.model }
            .filter { after == nil || $0.model > after! }
        var response = Agentplane_V1_ListModelsResponse()
        response.models = models.prefix(size).map { route in
            Agentplane_V1_Model(
                id: route.model, provider: config.isBuiltin(route) ? .builtin : config.kind,
                upstreamModel: route.upstreamModel,
                capabilities: route.capabilities.map(Agentplane_V1_ModelCapability.init(rawValue:)),
                contextWindow: route.contextWindow,
                embeddingDimensions: route.canEmbed && config.isBuiltin(route) && route.embeddingDimensions == 0
                    ? ProviderConfiguration.builtinDimensions : route.embeddingDimensions,
                isDefaultChat: route.model == config.defaultChatModel,
                isDefaultEmbedding: route.model == config.defaultEmbeddingModel)
        }
        if models.count > size, let last = response.models.last {
            response.nextPageToken = Pagination.token(cursor: [last.id], filters: filters)
        }
        return response
    }

    func getUsage(request: Agentplane_V1_GetUsageRequest, context: ServerContext) async throws
        -> Agentplane_V1_GetUsageResponse
    {
        let auth = try caller()
        let now = Date()
        let end = request.endTime?.date ?? now
        let start = request.startTime?.date ?? end.addingTimeInterval(-30 * 86400)
        if end < start {
            throw RPCError.invalidField("end_time", code: "BEFORE_START", "end_time must not be before start_time")
        }
        if end.timeIntervalSince(start) > 400 * 86400 {
            throw RPCError.invalidField("start_time", code: "RANGE_TOO_LONG", "the range may span at most 400 days")
        }
        let hourly: Bool
        switch request.granularity {
        case .hour: hourly = true
        case .day, .unspecified: hourly = false
        case .UNRECOGNIZED(let value):
            throw RPCError.invalidField("granularity", code: "UNKNOWN", "granularity \(value) is not HOUR or DAY")
        }
        let stored = try await configs.load(tenant: auth.tenantID)
        // This replica's calls not yet written are counted too.
        try await usage.flush(tenant: auth.tenantID)
        let report = try await usage.report(
            tenant: auth.tenantID, start: start, end: end, hourly: hourly,
            model: request.model.isEmpty ? nil : request.model)
        var response = Agentplane_V1_GetUsageResponse()
        response.buckets = report.buckets
        response.totalRequests = report.buckets.reduce(0) { Saturating.add($0, $1.requests) }
        let prompt = report.buckets.reduce(Int64(0)) { Saturating.add($0, $1.usage?.promptTokens ?? 0) }
        let completion = report.buckets.reduce(Int64(0)) { Saturating.add($0, $1.usage?.completionTokens ?? 0) }
        response.totalUsage = Agentplane_V1_TokenUsage(
            promptTokens: prompt, completionTokens: completion, totalTokens: Saturating.add(prompt, completion))
        let limits = EffectiveLimits(stored.config, settings: settings)
        response.limits = Agentplane_V1_RateLimits(
            requestsPerMinute: Int32(clamping: limits.requestsPerMinute),
            tokensPerMinute: Int64(limits.tokensPerMinute),
            tokensPerDay: Int64(limits.tokensPerDay))
        response.tokensUsedToday = report.today
        return response
    }

    // MARK: Provider configuration

    func setProviderConfig(
        request: Agentplane_V1_SetProviderConfigRequest, context: ServerContext
    ) async throws -> Agentplane_V1_SetProviderConfigResponse {
        let auth = try AuthContext.require(minimum: .admin)
        let config = try ProviderConfiguration.validated(request)
        if !request.apiKey.isEmpty { _ = try environment.requireSecretBox() }
        let environment = environment
        let stored = try await configs.save(
            tenant: auth.tenantID, user: auth.effectiveUserID, config: config, request: request
        ) { () throws(RPCError) in try environment.requireSecretBox() }
        environment.logger.info(
            "provider configuration changed",
            metadata: ["revision": "\(stored.revision)", "provider": "\(config.kind)"])
        return Agentplane_V1_SetProviderConfigResponse(config: stored.message)
    }

    func getProviderConfig(
        request: Agentplane_V1_GetProviderConfigRequest, context: ServerContext
    ) async throws -> Agentplane_V1_GetProviderConfigResponse {
        let auth = try AuthContext.require(minimum: .admin)
        return Agentplane_V1_GetProviderConfigResponse(
            config: try await configs.load(tenant: auth.tenantID, fresh: true).message)
    }

    // MARK: Admission, backends and accounting

    /// Who serves an admitted call.
    enum Backend: Sendable {
        case builtin
        case remote(RemoteProvider)
    }

    /// A call that passed validation, routing and the rate limit.
    struct AdmittedCall: Sendable {
        var tenant: String
        var route: ModelRouteRecord
        var providerKind: Agentplane_V1_ProviderKind
        var backend: Backend
        var limits: EffectiveLimits
        var estimatedPrompt: Int
    }

    private func prepareChat(_ request: Agentplane_V1_ChatRequest, context: ServerContext) async throws -> AdmittedCall
    {
        let auth = try caller()
        try ChatRequestValidation.validate(request)
        let stored = try await configs.load(tenant: auth.tenantID)
        let route = try stored.config.route(for: request.model, capability: .chat)
        guard route.canChat else {
            throw RPCError.invalidField(
                "model", code: "NOT_CHAT", "model \"\(route.model)\" cannot chat; use one with capability CHAT")
        }
        if !request.tools.isEmpty && !route.capabilities.contains(Agentplane_V1_ModelCapability.tools.rawValue) {
            throw RPCError.invalidField(
                "tools", code: "TOOLS_UNSUPPORTED", "model \"\(route.model)\" is not routed with capability TOOLS")
        }
        let estimated = ChatRequestValidation.estimatedPromptTokens(request)
        if route.contextWindow > 0 && estimated > Int(route.contextWindow) {
            throw RPCError.withDetails(
                .resourceExhausted,
                "the prompt is about \(estimated) tokens; model \"\(route.model)\" takes at most "
                    + "\(route.contextWindow): "
                    + "shorten the messages",
                reason: "CONTEXT_WINDOW_EXCEEDED")
        }
        return try await admit(auth: auth, stored: stored, route: route, estimatedPrompt: estimated, context: context)
    }

    /// Builds the backend (a remote provider needs its key and URL), then takes the rate limit.
    private func admit(
        auth: AuthContext, stored: StoredProviderConfig, route: ModelRouteRecord, estimatedPrompt: Int,
        context: ServerContext
    ) async throws -> AdmittedCall {
        let config = stored.config
        let backend = try backend(for: stored, route: route, tenant: auth.tenantID, context: context)
        let call = AdmittedCall(
            tenant: auth.tenantID, route: route, providerKind: config.isBuiltin(route) ? .builtin : config.kind,
            backend: backend, limits: EffectiveLimits(config, settings: settings), estimatedPrompt: estimatedPrompt)
        do {
            try await limiter.acquire(tenant: auth.tenantID, tokens: estimatedPrompt, limits: call.limits)
        } catch let error as RPCError {
            await record(call, failed: true, tokens: TokenCount(prompt: 0, completion: 0))
            throw error
        }
        return call
    }

    private func backend(
        for stored: StoredProviderConfig, route: ModelRouteRecord, tenant: String, context: ServerContext
    ) throws -> Backend {
        let config = stored.config
        if config.isBuiltin(route) { return .builtin }
        var apiKey: String?
        if let sealed = stored.sealedAPIKey {
            // The key goes only to the origin it was saved for (rows written before origins were
            // recorded, or changed behind the store's back, are refused: nothing is sent).
            guard let bound = stored.apiKeyOrigin else { throw ProviderConfigStore.keyNotBound }
            guard bound == ProviderConfigStore.origin(of: config) else {
                environment.logger.warning("provider key bound to another origin; not sent")
                throw RPCError.withDetails(
                    .failedPrecondition,
                    "the stored API key was saved for another origin than base_url's; send it again with "
                        + "SetProviderConfig",
                    reason: "PROVIDER_KEY_ORIGIN_MISMATCH")
            }
            let box = try environment.requireSecretBox()
            do {
                apiKey = try box.openString(
                    sealed, context: ProviderConfigStore.keyContext(tenant: tenant, origin: bound))
            } catch {
                throw RPCError.withDetails(
                    .failedPrecondition,
                    "the stored API key cannot be decrypted (\(error.code)); set it again with SetProviderConfig",
                    reason: "PROVIDER_KEY_UNREADABLE")
            }
        }
        if config.kind == .openaiCompatible && apiKey == nil {
            throw RPCError.withDetails(
                .failedPrecondition,
                "the OpenAI-compatible provider has no API key; set api_key with SetProviderConfig",
                reason: "PROVIDER_KEY_MISSING")
        }
        guard let url = URL(string: config.baseURL) else {
            throw RPCError.withDetails(
                .failedPrecondition, "the provider's base_url is not a URL; fix it with SetProviderConfig",
                reason: "PROVIDER_URL_INVALID")
        }
        var deadline = ContinuousClock.now + config.timeout.clamped(to: .zero...ProviderConfiguration.maximumTimeout)
        var callers = false
        if let callDeadline = context.deadline, callDeadline < deadline {
            deadline = callDeadline
            callers = true
        }
        return .remote(
            RemoteProvider(
                http: environment.http, dialect: config.kind == .ollama ? .ollama : .openAI, baseURL: url,
                apiKey: apiKey,
                retry: RetryPolicy(
                    maximumRetries: settings.maximumRetries, baseDelay: settings.retryBaseDelay,
                    maximumDelay: settings.retryMaximumDelay),
                deadline: deadline, deadlineIsCallers: callers, logger: environment.logger))
    }

    /// Settles the token bucket with what the call really used, and records its usage.
    private func finish(_ call: AdmittedCall, failed: Bool, tokens: TokenCount) async {
        let correction = Saturating.add(tokens.total, failed ? 0 : -call.estimatedPrompt)
        do {
            try await limiter.charge(
                tenant: call.tenant, tokens: failed ? 0 : correction, limits: call.limits)
        } catch {
            environment.logger.warning("cannot settle the token bucket", metadata: ["error": "\(error)"])
        }
        await record(call, failed: failed, tokens: tokens)
    }

    private func record(_ call: AdmittedCall, failed: Bool, tokens: TokenCount) async {
        do {
            try await usage.record(tenant: call.tenant, model: call.route.model, failed: failed, tokens: tokens)
        } catch {
            environment.logger.warning("cannot record usage", metadata: ["error": "\(error)"])
        }
    }
}
