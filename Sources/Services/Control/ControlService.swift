import Foundation
import RPCModels
public import Runtime
import RuntimeHTTP
import RuntimePostgres
import RuntimeSecurity

/// The control plane: tenants, users, sign-in, API keys, agents, tools, conversations and documents.
public enum ControlService {
    /// What `ServiceHost` runs: schema `control`, its migrations, the Auth, Tenant, User, Agent,
    /// Tool, Conversation and Document services, the API key verifier, the start-up bootstrap
    /// of the first tenant, the sweep that restarts documents' lost indexing, and the one that
    /// deletes conversations past their tenant's retention.
    public static var definition: ServiceDefinition {
        ServiceDefinition(
            name: "control", schema: "control", migrations: migrations, authPolicy: authPolicy,
            readSettings: { reader in ControlSettings.read(&reader) },
            assemble: { environment in
                let settings = environment.settings(as: ControlSettings.self)
                let context = ControlContext(
                    postgres: environment.postgres, redis: environment.redis, tokens: environment.tokens,
                    revocations: environment.revocations, settings: settings,
                    events: DomainEvents(redis: environment.redis, logger: environment.logger),
                    logger: environment.logger,
                    passwordHashing: PasswordHashingGate(
                        maximumConcurrent: settings.passwordHashConcurrency, maximumQueued: settings.passwordHashQueue))
                try await bootstrap(settings, context: context)
                let indexer = DocumentIndexer(context: context, peers: environment.peers)
                let resolution = AgentResolution(
                    toolReferences: TextKeyedCache(capacity: context.settings.flowCacheBytes))
                let addresses = ClientAddressResolver(
                    trustedProxies: Set(settings.trustedProxies.compactMap(IPAddress.init)),
                    verifier: environment.verifier)
                let lookups = CredentialLookupLimiter(
                    redis: environment.redis, limit: settings.credentialFailuresPerAddress,
                    window: settings.credentialFailureWindow, logger: environment.logger)
                return ServiceAssembly(
                    services: [
                        AuthHandler(
                            context: context, limiter: LoginRateLimiter(redis: environment.redis, settings: settings),
                            lookups: lookups, addresses: addresses),
                        TenantHandler(context: context), UserHandler(context: context),
                        AgentHandler(context: context, peers: environment.peers, resolution: resolution),
                        ToolHandler(
                            context: context, secretBox: environment.secretBox,
                            executor: ToolExecutor(peers: environment.peers, http: environment.http)),
                        ConversationHandler(context: context, peers: environment.peers, resolution: resolution),
                        DocumentHandler(context: context, peers: environment.peers, indexer: indexer),
                    ],
                    backgroundTasks: [
                        { await indexer.run() }, { await ConversationRetention(context: context).run() },
                    ],
                    apiKeyVerifier: ControlAPIKeyVerifier(
                        pool: environment.postgres, lookups: lookups, addresses: addresses))
            })
    }

    /// Minimum roles per the contract's comments; handlers check the finer rules (self or admin,
    /// owner-only grants).
    static var authPolicy: AuthPolicy {
        let user = "/agentplane.v1.UserService/"
        let agent = "/agentplane.v1.AgentService/"
        let tool = "/agentplane.v1.ToolService/"
        let document = "/agentplane.v1.DocumentService/"
        return AuthPolicy(
            publicMethods: AuthPolicy.standardPublicMethods.union(["/agentplane.v1.TenantService/CreateTenant"]),
            minimumRoles: [
                "/agentplane.v1.TenantService/UpdateTenantSettings": .admin,
                user + "CreateUser": .admin, user + "ListUsers": .admin, user + "UpdateUserRoles": .admin,
                user + "DeleteUser": .admin, user + "ResetPassword": .admin, user + "CreateApiKey": .builder,
                agent + "CreateAgent": .builder, agent + "UpdateAgent": .builder, agent + "RollbackAgent": .builder,
                agent + "DeleteAgent": .builder, agent + "ValidateFlow": .builder,
                tool + "CreateTool": .builder, tool + "UpdateTool": .builder, tool + "DeleteTool": .builder,
                tool + "ExecuteTool": .builder,
                "/agentplane.v1.ConversationService/AppendMessage": .service,
                document + "UploadDocument": .builder, document + "DeleteDocument": .builder,
            ],
            defaultMinimumRole: .member,
            serviceMethods: [
                "/agentplane.v1.AuthService/WhoAmI", "/agentplane.v1.TenantService/GetTenant",
                agent + "GetAgent", agent + "ListAgents", agent + "ListAgentVersions",
                tool + "GetTool", tool + "ListTools", tool + "ExecuteTool", tool + "ListToolKinds",
                "/agentplane.v1.ConversationService/GetConversation",
                "/agentplane.v1.ConversationService/ListConversations",
                "/agentplane.v1.ConversationService/ListMessages",
                document + "GetDocument", document + "ListDocuments", document + "DownloadDocument",
            ])
    }

    /// Creates BOOTSTRAP_TENANT_SLUG and its owner unless the slug exists (idempotent).
    static func bootstrap(_ settings: ControlSettings, context: ControlContext) async throws {
        guard let slug = settings.bootstrapTenantSlug, let email = settings.bootstrapOwnerEmail,
            let password = settings.bootstrapOwnerPassword
        else { return }
        if try await context.tenants({ try await $0.tenant(slug: slug) }) != nil { return }
        var request = Agentplane_V1_CreateTenantRequest()
        request.slug = slug
        request.ownerEmail = email
        request.ownerPassword = password.reveal()
        let (tenant, owner) = try await TenantProvisioning.create(request, postgres: context.postgres, existing: .keep)
        if owner != nil {
            context.logger.info("bootstrap tenant created", metadata: ["tenant": "\(tenant.id)", "slug": "\(slug)"])
        }
    }

    /// The schema's migrations, shipped as resources of this module.
    static var migrations: [Migration] {
        guard let folder = Bundle.module.url(forResource: "Migrations", withExtension: nil) else {
            preconditionFailure("the Control module's Migrations resource is missing")
        }
        do {
            return try Migration.load(from: folder)
        } catch {
            preconditionFailure("cannot load the control migrations: \(error)")
        }
    }
}
