import Foundation
public import Runtime
import RuntimeConfig
import RuntimePostgres
import RuntimeSecurity

/// The KB search service (`kb-search`): documents split into chunks, embedded through the LLM
/// gateway and searched lexically, by vector or both, per tenant.
public enum KBSearchService {
    /// The service as `ServiceHost` runs it.
    public static var definition: ServiceDefinition {
        definition(embedder: nil)
    }

    /// The service with another source of embeddings (nil: the LLM gateway), for benchmarks.
    public static func definition(embedder: (any Embedder)?) -> ServiceDefinition {
        ServiceDefinition(
            name: "kb-search", schema: "kb", migrations: migrations, authPolicy: authPolicy,
            readSettings: { reader in KBSearchSettings(reading: &reader) },
            assemble: { environment in
                let settings = environment.settings(as: KBSearchSettings.self)
                let tuning = TenantVectorIndex.Tuning(
                    threshold: settings.annThreshold, m: settings.annM, efConstruction: settings.annEfConstruction,
                    efSearch: settings.annEfSearch)
                let store = KBStore(pool: environment.postgres)
                let registry = VectorIndexRegistry(
                    tuning: tuning, maxChunks: settings.cacheMaxChunks, logger: environment.logger)
                let handler = KnowledgeBaseHandler(
                    store: store,
                    embedder: embedder
                        ?? GatewayEmbedder(
                            peers: environment.peers, model: settings.embeddingModel,
                            batchSize: settings.embedBatchSize),
                    vectors: registry, settings: settings,
                    rateLimiter: SearchRateLimiter(
                        redis: environment.redis, perMinute: settings.searchRateLimit, logger: environment.logger),
                    logger: environment.logger)
                let synchronizer = IndexSynchronizer(
                    store: store, registry: registry, threshold: settings.annThreshold,
                    interval: settings.syncInterval, preload: settings.preload, logger: environment.logger)
                return ServiceAssembly(services: [handler], backgroundTasks: [{ await synchronizer.run() }])
            })
    }

    /// Search and Stats: member; IndexDocument and DeleteDocument: admin; service tokens everywhere.
    static var authPolicy: AuthPolicy {
        let service = "/agentplane.v1.KnowledgeBaseService/"
        return AuthPolicy(
            minimumRoles: [service + "IndexDocument": .admin, service + "DeleteDocument": .admin],
            defaultMinimumRole: .member, acceptServiceEverywhere: true)
    }

    /// The `kb` schema's migrations.
    static var migrations: [Migration] {
        guard let url = Bundle.module.url(forResource: "Migrations", withExtension: nil) else { return [] }
        return (try? Migration.load(from: url)) ?? []
    }
}
