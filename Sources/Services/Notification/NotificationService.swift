import Crypto
import Foundation
public import Runtime
import RuntimePostgres
import RuntimeSecurity

/// The notification service: Slack, Microsoft Teams, signed generic webhooks and the log,
/// through a durable outbox in PostgreSQL with retries (see docs/NOTIFICATION.md).
public enum NotificationService {
    /// The service as the host runs it: schema `notification`, Notify for builders and above,
    /// GetDelivery and ListDeliveries for admins and above, service tokens everywhere, and the
    /// dispatcher as background work.
    public static var definition: ServiceDefinition {
        let methods = "/" + "agentplane.v1.NotificationService" + "/"
        return ServiceDefinition(
            name: "notification", schema: "notification", migrations: migrations,
            authPolicy: AuthPolicy(
                minimumRoles: [
                    methods + "Notify": .builder, methods + "GetDelivery": .admin, methods + "ListDeliveries": .admin,
                ], defaultMinimumRole: .admin, acceptServiceEverywhere: true),
            readSettings: { reader in NotificationSettings.read(&reader) },
            assemble: { environment in
                let settings = environment.settings(as: NotificationSettings.self)
                let dispatcher = Dispatcher(
                    postgres: environment.postgres, http: environment.http, secretBox: environment.secretBox,
                    logger: environment.logger, settings: settings)
                let handler = NotificationHandler(
                    environment: environment, settings: settings, dispatcher: dispatcher,
                    rateLimiter: RateLimiter(redis: environment.redis, limitPerMinute: settings.rateLimitPerMinute),
                    fingerprintKey: fingerprintKey(environment.configuration.jwtSecret.revealBytes()))
                return ServiceAssembly(services: [handler], backgroundTasks: [{ await dispatcher.run() }])
            })
    }

    /// The schema's migrations, shipped as resources of this module.
    static var migrations: [Migration] {
        guard let folder = Bundle.module.url(forResource: "Migrations", withExtension: nil) else {
            preconditionFailure("the notification migrations are missing from the bundle")
        }
        do {
            return try Migration.load(from: folder)
        } catch {
            preconditionFailure("cannot load the notification migrations: \(error)")
        }
    }

    /// A key for request fingerprints derived from the platform secret, so stored fingerprints
    /// reveal nothing about the targets and secrets they cover.
    static func fingerprintKey(_ secret: [UInt8]) -> SymmetricKey {
        HKDF<SHA256>.deriveKey(
            inputKeyMaterial: SymmetricKey(data: secret), info: Array("agentplane.notification.idempotency".utf8),
            outputByteCount: 32)
    }
}
