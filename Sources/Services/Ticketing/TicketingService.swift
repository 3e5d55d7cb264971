import Foundation
public import Runtime
import RuntimePostgres
import RuntimeSecurity

/// The ticketing service: tickets in the built-in store or in a tenant's Zammad.
public enum TicketingService {
    /// What `ServiceHost` runs: schema `ticketing`, its migrations, and the TicketingService
    /// handlers. Other services (the control plane) call it with service tokens.
    public static var definition: ServiceDefinition {
        ServiceDefinition(
            name: "ticketing", schema: "ticketing", migrations: migrations,
            authPolicy: AuthPolicy(defaultMinimumRole: .member, acceptServiceEverywhere: true),
            readSettings: { reader in TicketingSettings.read(&reader) },
            assemble: { environment in
                let settings = environment.settings(as: TicketingSettings.self)
                let handler = TicketingHandler(
                    store: TicketStore(pool: environment.postgres, settings: settings),
                    zammad: ZammadClient(http: environment.http, timeout: settings.zammadTimeout))
                return ServiceAssembly(services: [handler])
            })
    }

    /// The schema's migrations, shipped as resources of this module.
    static var migrations: [Migration] {
        guard let folder = Bundle.module.url(forResource: "Migrations", withExtension: nil) else {
            preconditionFailure("the Ticketing module's Migrations resource is missing")
        }
        do {
            return try Migration.load(from: folder)
        } catch {
            preconditionFailure("cannot load the ticketing migrations: \(error)")
        }
    }
}
