import Foundation
public import Runtime
import RuntimeConfig
public import RuntimePostgres
public import RuntimeSecurity

/// The LLM gateway: chat (unary and streaming) and embeddings for every tenant, routed to the
/// built-in offline provider or an OpenAI-compatible API, with per-tenant limits and usage.
public enum LLMGatewayService {
    /// The gRPC service's path prefix.
    static let prefix = "/agentplane.v1.LLMGatewayService/"

    /// Who may call what (llm.proto): Chat, ChatStream, Embed, ListModels need member or a
    /// service token; GetUsage admin or a service token; the provider configuration admin.
    public static var authPolicy: AuthPolicy {
        AuthPolicy(
            minimumRoles: [
                prefix + "GetUsage": .admin, prefix + "SetProviderConfig": .admin,
                prefix + "GetProviderConfig": .admin,
            ],
            serviceMethods: [
                prefix + "Chat", prefix + "ChatStream", prefix + "Embed", prefix + "ListModels", prefix + "GetUsage",
            ])
    }

    /// The service as the host runs it.
    public static var definition: ServiceDefinition {
        ServiceDefinition(
            name: "llm-gateway", schema: "llm", migrations: migrations, authPolicy: authPolicy,
            readSettings: { reader in LLMGatewaySettings.read(from: &reader) },
            assemble: { environment in
                let settings = environment.settings(as: LLMGatewaySettings.self)
                let handler = LLMGatewayHandler(environment: environment, settings: settings)
                return ServiceAssembly(
                    services: [handler], backgroundTasks: [{ await handler.usage.run(logger: environment.logger) }])
            })
    }

    /// The schema's migrations, from the bundled `Migrations` folder.
    public static var migrations: [Migration] {
        guard let folder = Bundle.module.url(forResource: "Migrations", withExtension: nil),
            let migrations = try? Migration.load(from: folder)
        else { preconditionFailure("the LLM gateway's Migrations resource is missing or unreadable") }
        return migrations
    }
}
