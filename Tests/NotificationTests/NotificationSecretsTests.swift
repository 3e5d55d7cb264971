import Foundation
import Notification
import RPCModels
import RuntimePostgres
import ServiceTestSupport
import Testing

extension NotificationServiceTests {
    @Test("The target is sealed at rest while pending, erased once delivered, and shown only redacted")
    func targetSealedAtRest() async throws {
        let receiver = try await WebhookReceiver.start { _ in .init(status: 500) }
        let fixture = try await NotificationFixture.start()
        let tenant = uniqueTenant()
        let secret = "whsec-very-secret-value"
        let path = "/hooks/token-abcdef123456"
        let response = try await fixture.client.notify(
            notifyRequest(.webhook, url: receiver.url(path), secret: secret),
            metadata: try await bearer(role: .builder, tenant: tenant))
        let id = try #require(response.delivery?.id)
        #expect(response.delivery?.targetDisplay == "127.0.0.1:\(receiver.port)/hooks/…3456")
        _ = try await fixture.waitFor(id, tenant: tenant) { $0.attempts >= 1 }

        // Read the outbox as the database owner, as an attacker with a dump would.
        let owner = PostgresPool(configuration: .init(connectionString: testDatabaseURL, maximumConnections: 1))
        func sealedTarget() async throws -> String? {
            try await owner.query("SELECT target_sealed FROM notification.deliveries WHERE id = $1::uuid", id)
                .first?["target_sealed"]
        }
        let sealed = try #require(try await sealedTarget())
        #expect(!sealed.contains(secret))
        #expect(!sealed.contains("token-abcdef123456"))
        #expect(!(String(data: Data(base64Encoded: sealed) ?? Data(), encoding: .utf8) ?? "").contains(secret))

        receiver.answer { _ in .init(status: 200) }
        let delivery = try await fixture.waitFor(id, tenant: tenant)
        #expect(delivery.status == .delivered)
        #expect(try await sealedTarget() == nil)
        owner.close()
        try await fixture.stop()
        await receiver.stop()
    }
}
