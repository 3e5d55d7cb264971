import Foundation
import RPCCore
import RPCModels
import Runtime
import Saturating

/// One routed model: the id clients use and how the provider knows it.
struct ModelRouteRecord: Codable, Sendable, Equatable {
    var model: String
    var upstreamModel: String
    /// `ModelCapability` raw values.
    var capabilities: [Int32]
    var contextWindow: Int32
    var embeddingDimensions: Int32

    var canChat: Bool { capabilities.contains(Agentplane_V1_ModelCapability.chat.rawValue) }
    var canEmbed: Bool { capabilities.contains(Agentplane_V1_ModelCapability.embedding.rawValue) }
}

/// A tenant's provider configuration as stored (without the API key, which is sealed apart).
struct ProviderConfiguration: Codable, Sendable, Equatable {
    /// The id of the built-in model every tenant has, whatever its provider.
    static let builtinModel = "builtin"
    /// The built-in model's embedding size unless a route asks for another.
    static let builtinDimensions: Int32 = 384
    /// The built-in model's context window, in estimated tokens.
    static let builtinContextWindow: Int32 = 32768
    /// The provider timeout when none is set.
    static let defaultTimeout: Duration = .seconds(60)
    /// The longest `request_timeout` a tenant may set (longer ones are refused, and a stored
    /// one is clamped to it when used).
    static let maximumTimeout: Duration = .seconds(600)

    /// `ProviderKind` raw value.
    var provider: Int32
    var baseURL: String
    var routes: [ModelRouteRecord]
    var allowedModels: [String]
    var defaultChatModel: String
    var defaultEmbeddingModel: String
    var requestsPerMinute: Int32
    var tokensPerMinute: Int64
    var tokensPerDay: Int64
    var timeoutMilliseconds: Int64

    /// What a tenant that never set a configuration gets: the built-in provider only.
    static let builtinDefaults = ProviderConfiguration(
        provider: Agentplane_V1_ProviderKind.builtin.rawValue, baseURL: "", routes: [], allowedModels: [],
        defaultChatModel: builtinModel, defaultEmbeddingModel: builtinModel, requestsPerMinute: 0, tokensPerMinute: 0,
        tokensPerDay: 0, timeoutMilliseconds: 0)

    var kind: Agentplane_V1_ProviderKind { Agentplane_V1_ProviderKind(rawValue: provider) }

    var timeout: Duration {
        timeoutMilliseconds > 0 ? min(.milliseconds(timeoutMilliseconds), Self.maximumTimeout) : Self.defaultTimeout
    }

    /// The implicit built-in route, plus the tenant's own routes.
    var allRoutes: [ModelRouteRecord] {
        let builtin = ModelRouteRecord(
            model: Self.builtinModel, upstreamModel: Self.builtinModel,
            capabilities: [
                Agentplane_V1_ModelCapability.chat.rawValue, Agentplane_V1_ModelCapability.embedding.rawValue,
                Agentplane_V1_ModelCapability.tools.rawValue,
            ],
            contextWindow: Self.builtinContextWindow, embeddingDimensions: Self.builtinDimensions)
        return [builtin] + routes
    }

    /// Whether a route is served by the built-in provider (the implicit `builtin` model, or any
    /// route of a BUILTIN configuration).
    func isBuiltin(_ route: ModelRouteRecord) -> Bool {
        route.model == Self.builtinModel || kind == .builtin
    }

    func isAllowed(_ model: String) -> Bool {
        allowedModels.isEmpty || allowedModels.contains(model)
    }

    /// The route of `requested` (the default for `capability` when empty), checked against the
    /// allow-list: NOT_FOUND for an unknown id, PERMISSION_DENIED for one not allowed.
    func route(for requested: String, capability: Agentplane_V1_ModelCapability) throws(RPCError) -> ModelRouteRecord {
        let id = requested.isEmpty ? (capability == .embedding ? defaultEmbeddingModel : defaultChatModel) : requested
        guard let route = allRoutes.first(where: { $0.model == id }) else {
            let known = allRoutes.filter { isAllowed($0.model) }.map(\.model).joined(separator: ", ")
            throw RPCError.withDetails(
                .notFound, "model \"\(id)\" is not routed for this tenant; use one of: \(known) (see ListModels)",
                reason: "MODEL_NOT_FOUND")
        }
        guard isAllowed(id) else {
            throw RPCError.withDetails(
                .permissionDenied, "model \"\(id)\" is not in this tenant's allow-list; ask an admin to allow it",
                reason: "MODEL_NOT_ALLOWED")
        }
        return route
    }

    /// The configuration as the API shows it.
    func message(apiKeySet: Bool, revision: Int64, updatedBy: String, updatedAt: Date?) -> Agentplane_V1_ProviderConfig
    {
        var config = Agentplane_V1_ProviderConfig()
        config.provider = kind
        config.baseURL = baseURL
        config.apiKeySet = apiKeySet
        config.routes = routes.map {
            Agentplane_V1_ModelRoute(
                model: $0.model, upstreamModel: $0.upstreamModel,
                capabilities: $0.capabilities.map(Agentplane_V1_ModelCapability.init(rawValue:)),
                contextWindow: $0.contextWindow, embeddingDimensions: $0.embeddingDimensions)
        }
        config.allowedModels = allowedModels
        config.defaultChatModel = defaultChatModel
        config.defaultEmbeddingModel = defaultEmbeddingModel
        config.limits = Agentplane_V1_RateLimits(
            requestsPerMinute: requestsPerMinute, tokensPerMinute: tokensPerMinute, tokensPerDay: tokensPerDay)
        config.requestTimeout = Google_Protobuf_Duration(timeout)
        config.revision = revision
        config.updatedBy = updatedBy
        config.updatedAt = updatedAt.map { Google_Protobuf_Timestamp(date: $0) }
        return config
    }

    /// A configuration from SetProviderConfig, validated: every problem is reported at once.
    static func validated(_ request: Agentplane_V1_SetProviderConfigRequest) throws(RPCError) -> ProviderConfiguration {
        var violations: [Agentplane_V1_FieldViolation] = []
        func violation(_ field: String, _ code: String, _ explanation: String) {
            violations.append(Agentplane_V1_FieldViolation(field: field, code: code, explanation: explanation))
        }
        var kind = request.provider
        if kind == .unspecified { kind = .builtin }
        if case .UNRECOGNIZED(let value) = kind {
            violation("provider", "UNKNOWN_PROVIDER", "provider \(value) is not BUILTIN, OPENAI_COMPATIBLE or OLLAMA")
        }
        let baseURL = request.baseURL.trimmingCharacters(in: .whitespaces)
        if kind == .builtin {
            if !baseURL.isEmpty { violation("base_url", "NOT_ALLOWED", "the built-in provider takes no base_url") }
        } else if baseURL.isEmpty {
            violation("base_url", "MISSING", "a remote provider needs base_url, e.g. https://api.openai.com/v1")
        } else if let url = URL(string: baseURL), let scheme = url.scheme?.lowercased(), url.host != nil,
            ["http", "https"].contains(scheme), url.query == nil, url.user == nil
        {
            // Well formed; whether the host may be reached is the outbound policy's call, per request.
        } else {
            violation("base_url", "MALFORMED", "base_url must be an http(s) URL without query or credentials")
        }
        if !request.apiKey.isEmpty && request.clearAPIKey {
            violation("clear_api_key", "CONFLICT", "clear_api_key deletes the key; send it with an empty api_key")
        }
        if request.apiKey.count > 4096 { violation("api_key", "TOO_LONG", "api_key is longer than 4096 characters") }

        var routes: [ModelRouteRecord] = []
        var seen: Set<String> = [builtinModel]
        for (index, route) in request.routes.enumerated() {
            let field = "routes[\(index)]"
            let model = route.model.trimmingCharacters(in: .whitespaces)
            if model.isEmpty || model.count > 200 {
                violation("\(field).model", "INVALID", "a route needs a model id of 1-200 characters")
                continue
            }
            if model == builtinModel {
                violation("\(field).model", "RESERVED", "\"builtin\" is always routed to the built-in provider")
                continue
            }
            if !seen.insert(model).inserted {
                violation("\(field).model", "DUPLICATE", "model \"\(model)\" is routed twice")
                continue
            }
            var capabilities = route.capabilities.filter { $0 != .unspecified }.map(\.rawValue)
            if capabilities.isEmpty { capabilities = [Agentplane_V1_ModelCapability.chat.rawValue] }
            if route.capabilities.contains(where: { if case .UNRECOGNIZED = $0 { true } else { false } }) {
                violation("\(field).capabilities", "UNKNOWN_CAPABILITY", "use CHAT, EMBEDDING or TOOLS")
            }
            if route.contextWindow < 0 || route.embeddingDimensions < 0 || route.embeddingDimensions > 65536 {
                violation(field, "OUT_OF_RANGE", "context_window and embedding_dimensions must be 0 or positive")
            }
            var upstream = route.upstreamModel.trimmingCharacters(in: .whitespaces)
            if upstream.isEmpty { upstream = kind == .builtin ? builtinModel : model }
            if kind == .builtin && upstream != builtinModel {
                violation("\(field).upstream_model", "NOT_BUILTIN", "the built-in provider serves only \"builtin\"")
            }
            if kind == .builtin && route.embeddingDimensions != 0 && !(16...4096).contains(route.embeddingDimensions) {
                violation(
                    "\(field).embedding_dimensions", "OUT_OF_RANGE", "built-in embeddings have 16-4096 dimensions")
            }
            routes.append(
                ModelRouteRecord(
                    model: model, upstreamModel: upstream, capabilities: capabilities,
                    contextWindow: route.contextWindow, embeddingDimensions: route.embeddingDimensions))
        }
        let allowed = request.allowedModels.map { $0.trimmingCharacters(in: .whitespaces) }
        for (index, model) in allowed.enumerated() where !seen.contains(model) {
            violation("allowed_models[\(index)]", "UNKNOWN_MODEL", "\"\(model)\" is neither \"builtin\" nor a route")
        }
        var config = ProviderConfiguration(
            provider: kind.rawValue, baseURL: baseURL, routes: routes, allowedModels: allowed,
            defaultChatModel: request.defaultChatModel, defaultEmbeddingModel: request.defaultEmbeddingModel,
            requestsPerMinute: request.limits?.requestsPerMinute ?? 0,
            tokensPerMinute: request.limits?.tokensPerMinute ?? 0, tokensPerDay: request.limits?.tokensPerDay ?? 0,
            timeoutMilliseconds: 0)
        if config.defaultChatModel.isEmpty {
            config.defaultChatModel = routes.first { $0.canChat && config.isAllowed($0.model) }?.model ?? builtinModel
        }
        if config.defaultEmbeddingModel.isEmpty {
            config.defaultEmbeddingModel =
                routes.first { $0.canEmbed && config.isAllowed($0.model) }?.model ?? builtinModel
        }
        let all = config.allRoutes
        for (field, id, capability) in [
            ("default_chat_model", config.defaultChatModel, Agentplane_V1_ModelCapability.chat),
            ("default_embedding_model", config.defaultEmbeddingModel, .embedding),
        ] {
            guard let route = all.first(where: { $0.model == id }) else {
                violation(field, "UNKNOWN_MODEL", "\"\(id)\" is neither \"builtin\" nor one of the routes")
                continue
            }
            if !route.capabilities.contains(capability.rawValue) {
                violation(field, "WRONG_CAPABILITY", "\"\(id)\" is not routed with capability \(capability)")
            }
            if !config.isAllowed(id) { violation(field, "NOT_ALLOWED", "\"\(id)\" is not in allowed_models") }
        }
        if let limits = request.limits,
            limits.requestsPerMinute < 0 || limits.tokensPerMinute < 0 || limits.tokensPerDay < 0
        {
            violation("limits", "NEGATIVE", "limits must be 0 (the platform default) or positive")
        }
        if let timeout = request.requestTimeout?.duration {
            if timeout < .zero || timeout > maximumTimeout {
                violation("request_timeout", "OUT_OF_RANGE", "request_timeout must be between 0 (60 s) and 600 s")
            } else {
                config.timeoutMilliseconds = timeout.saturatingMilliseconds
            }
        }
        if !violations.isEmpty {
            let summary = violations.map { "\($0.field): \($0.explanation)" }.joined(separator: "; ")
            throw RPCError.withDetails(.invalidArgument, summary, reason: "INVALID_ARGUMENT", violations: violations)
        }
        return config
    }
}
