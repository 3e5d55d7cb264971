import Foundation
import Notification
import RPCCore
import RPCModels
import ServiceTestSupport
import Testing

extension NotificationServiceTests {
    @Test("Finished deliveries past NOTIFICATION_RETENTION are purged; pending ones are kept")
    func retentionPurgesFinishedDeliveries() async throws {
        let receiver = try await WebhookReceiver.start { _ in .init(status: 500) }
        let tenant = uniqueTenant()
        let builder = try await bearer(role: .builder, tenant: tenant)
        let environment = ["NOTIFICATION_RETENTION": "1s", "NOTIFICATION_MAX_ATTEMPTS": "100"]
        let before = try await NotificationFixture.start(environment)
        var log = Agentplane_V1_NotifyRequest()
        log.channel = .log
        log.text = "short-lived"
        log.waitForFirstAttempt = true
        let finished = try #require(try await before.client.notify(log, metadata: builder).delivery)
        #expect(finished.status == .delivered)
        let retrying = try #require(
            try await before.client.notify(notifyRequest(.webhook, url: receiver.url("/hook")), metadata: builder)
                .delivery)
        try await Task.sleep(for: .milliseconds(1200))
        try await before.stop()

        // The clean-up runs when a replica starts, then every 10 minutes.
        let after = try await NotificationFixture.start(environment)
        let admin = try await bearer(role: .admin, tenant: tenant)
        let deadline = ContinuousClock.now + .seconds(5)
        var purged = false
        while !purged, ContinuousClock.now < deadline {
            let listed = try await after.client.listDeliveries(.init(), metadata: admin).deliveries.map(\.id)
            purged = !listed.contains(finished.id)
            if !purged { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(purged)
        #expect(
            await statusCode { _ = try await after.client.getDelivery(.init(deliveryID: finished.id), metadata: admin) }
                == .notFound)
        let kept = try await after.client.getDelivery(.init(deliveryID: retrying.id), metadata: admin).delivery
        #expect(kept?.status == .pending)

        receiver.answer { _ in .init(status: 200) }
        let done = try await after.waitFor(retrying.id, tenant: tenant)
        #expect(done.status == .delivered)
        try await after.stop()
        await receiver.stop()
    }
}
