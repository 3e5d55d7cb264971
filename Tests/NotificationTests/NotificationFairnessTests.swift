import Foundation
import Notification
import RPCCore
import RPCModels
import ServiceTestSupport
import Testing

extension NotificationServiceTests {
    @Test("A tenant whose endpoint stalls holds at most its share of attempts; another tenant's delivery goes out")
    func stalledTenantDoesNotDelayOthers() async throws {
        // Tenant A's endpoint never answers within the attempt's timeout; B's answers at once.
        let stalled = try await WebhookReceiver.start { _ in .init(status: 200, delay: .seconds(8)) }
        let prompt = try await WebhookReceiver.start()
        let timeout = Duration.seconds(3)
        let fixture = try await NotificationFixture.start([
            "NOTIFICATION_HTTP_TIMEOUT": "3s", "NOTIFICATION_CLAIM_LEASE": "5s",
            "NOTIFICATION_TENANT_CONCURRENCY": "3", "NOTIFICATION_MAX_ATTEMPTS": "20",
        ])
        let tenantA = uniqueTenant()
        let tenantB = uniqueTenant()
        let builderA = try await bearer(role: .builder, tenant: tenantA)
        var slow: [String] = []
        for index in 0..<20 {
            let response = try await fixture.client.notify(
                notifyRequest(.webhook, url: stalled.url("/a"), text: "a\(index)"), metadata: builderA)
            slow.append(try #require(response.delivery?.id))
        }
        // Wait until A's attempts are in flight (and stalled) before B notifies.
        let started = ContinuousClock.now + .seconds(5)
        while stalled.concurrent < 3, ContinuousClock.now < started { try await Task.sleep(for: .milliseconds(20)) }
        #expect(stalled.concurrent == 3)

        let b = try await fixture.client.notify(
            notifyRequest(.webhook, url: prompt.url("/b"), text: "b"),
            metadata: try await bearer(role: .builder, tenant: tenantB))
        let id = try #require(b.delivery?.id)
        // Within about one attempt's timeout, whatever A's backlog.
        let delivery = try await fixture.waitFor(id, tenant: tenantB, timeout: timeout + .seconds(2))
        #expect(delivery.status == .delivered)
        #expect(prompt.requests(for: id).count == 1)
        // Meanwhile A had its limit of attempts in flight, and no more. (Counted while its first
        // attempts still stall: the receiver counts a request until it answers, not until the
        // dispatcher gives up on it.)
        #expect(stalled.maximumConcurrent == 3)

        // Let A's deliveries finish, so no later test inherits them.
        stalled.answer { _ in .init(status: 200) }
        for id in slow {
            let finished = try await fixture.waitFor(id, tenant: tenantA, timeout: .seconds(20))
            #expect(finished.status == .delivered)
        }
        try await fixture.stop()
        await stalled.stop()
        await prompt.stop()
    }

    @Test("NOTIFICATION_TENANT_CONCURRENCY bounds one tenant's attempts in flight: reached, never passed")
    func tenantConcurrencyBound() async throws {
        let slow = try await WebhookReceiver.start { _ in .init(status: 200, delay: .milliseconds(400)) }
        let fixture = try await NotificationFixture.start([
            "NOTIFICATION_DISPATCH_CONCURRENCY": "8", "NOTIFICATION_TENANT_CONCURRENCY": "2",
        ])
        let tenant = uniqueTenant()
        let builder = try await bearer(role: .builder, tenant: tenant)
        var ids: [String] = []
        for index in 0..<6 {
            let response = try await fixture.client.notify(
                notifyRequest(.webhook, url: slow.url("/t"), text: "t\(index)"), metadata: builder)
            ids.append(try #require(response.delivery?.id))
        }
        for id in ids { #expect(try await fixture.waitFor(id, tenant: tenant).status == .delivered) }
        #expect(slow.maximumConcurrent == 2)
        try await fixture.stop()
        await slow.stop()
    }

    @Test("NOTIFICATION_DISPATCH_CONCURRENCY bounds one replica's attempts in flight, across tenants")
    func replicaConcurrencyBound() async throws {
        let slow = try await WebhookReceiver.start { _ in .init(status: 200, delay: .milliseconds(400)) }
        let fixture = try await NotificationFixture.start([
            "NOTIFICATION_DISPATCH_CONCURRENCY": "2", "NOTIFICATION_TENANT_CONCURRENCY": "5",
        ])
        var sent: [(id: String, tenant: String)] = []
        for index in 0..<6 {
            let tenant = uniqueTenant()
            let response = try await fixture.client.notify(
                notifyRequest(.webhook, url: slow.url("/r"), text: "r\(index)"),
                metadata: try await bearer(role: .builder, tenant: tenant))
            sent.append((try #require(response.delivery?.id), tenant))
        }
        for (id, tenant) in sent {
            #expect(try await fixture.waitFor(id, tenant: tenant).status == .delivered)
        }
        // At the limit, never past it.
        #expect(slow.maximumConcurrent == 2)
        try await fixture.stop()
        await slow.stop()
    }
}
