import Foundation
public import Runtime
import RuntimePostgres
import RuntimeSecurity

/// The execution service: runs agents' flows as durable state graphs.
public enum ExecutionService {
    /// What `ServiceHost` runs: schema `execution`, the ExecutionService handlers, and the
    /// background task that continues runs orphaned by a crashed or restarted replica. Every RPC
    /// takes service tokens (the control plane) or builders and above.
    public static var definition: ServiceDefinition {
        ServiceDefinition(
            name: "execution", schema: "execution", migrations: migrations,
            authPolicy: AuthPolicy(defaultMinimumRole: .builder, acceptServiceEverywhere: true),
            readSettings: { reader in ExecutionSettings.read(&reader) },
            assemble: { environment in
                let settings = environment.settings(as: ExecutionSettings.self)
                let coordinator = RunCoordinator(
                    runs: RunStore(pool: environment.postgres),
                    state: RunStateStore(redis: environment.redis, settings: settings), settings: settings,
                    peers: environment.peers, logger: environment.logger)
                let handler = ExecutionHandler(coordinator: coordinator)
                return ServiceAssembly(
                    services: [handler], backgroundTasks: [{ try await coordinator.recoveryLoop() }])
            })
    }

    /// The schema's migrations, shipped as resources of this module.
    static var migrations: [Migration] {
        guard let folder = Bundle.module.url(forResource: "Migrations", withExtension: nil) else {
            preconditionFailure("the Execution module's Migrations resource is missing")
        }
        do {
            return try Migration.load(from: folder)
        } catch {
            preconditionFailure("cannot load the execution migrations: \(error)")
        }
    }
}
