import Foundation
import Notification
import RPCCore
import RPCModels
import ServiceTestSupport
import Testing

extension NotificationServiceTests {
    @Test("Failed attempts are retried with backoff until the receiver accepts; the key stays constant")
    func retriesThenSuccess() async throws {
        let receiver = try await WebhookReceiver.start { previous in
            previous < 2 ? .init(status: 500, body: "try later") : .init(status: 200)
        }
        let fixture = try await NotificationFixture.start()
        let tenant = uniqueTenant()
        let response = try await fixture.client.notify(
            notifyRequest(.webhook, url: receiver.url("/hook"), secret: "s"),
            metadata: try await bearer(role: .builder, tenant: tenant))
        let id = try #require(response.delivery?.id)
        #expect(response.delivery?.status == .pending)
        let delivery = try await fixture.waitFor(id, tenant: tenant)
        #expect(delivery.status == .delivered)
        #expect(delivery.attempts == 3)
        #expect(delivery.lastResponseCode == 200)
        #expect(delivery.lastError == "HTTP 500: try later")
        #expect(delivery.nextAttemptAt == nil)
        let requests = receiver.requests(for: id)
        #expect(requests.map(\.answeredStatus) == [500, 500, 200])
        #expect(Set(requests.map(\.body)).count == 1)
        #expect(requests.map { $0.headers["x-agentplane-attempt"] ?? "" } == ["1", "2", "3"])
        try await fixture.stop()
        await receiver.stop()
    }

    @Test("A 429 with Retry-After is retried no sooner than the receiver asked")
    func retryAfterHonoured() async throws {
        let receiver = try await WebhookReceiver.start { previous in
            previous == 0 ? .init(status: 429, headers: [("Retry-After", "1")]) : .init(status: 200)
        }
        let fixture = try await NotificationFixture.start()
        let tenant = uniqueTenant()
        let response = try await fixture.client.notify(
            notifyRequest(.slack, url: receiver.url("/services/a/b/c"), wait: true),
            metadata: try await bearer(role: .builder, tenant: tenant))
        let first = try #require(response.delivery)
        #expect(first.status == .pending)
        #expect(first.attempts == 1)
        #expect(first.lastResponseCode == 429)
        let next = try #require(first.nextAttemptAt).date.timeIntervalSince(try #require(first.lastAttemptAt).date)
        #expect(next >= 0.95)
        let delivery = try await fixture.waitFor(first.id, tenant: tenant)
        #expect(delivery.status == .delivered)
        let requests = receiver.requests(for: first.id)
        #expect(requests.count == 2)
        if requests.count == 2 {
            // The configured backoff is 50 ms: only Retry-After explains a wait of a second.
            #expect(requests[1].receivedAt.timeIntervalSince(requests[0].receivedAt) >= 0.95)
        }
        try await fixture.stop()
        await receiver.stop()
    }

    @Test("After the last allowed attempt the delivery is failed, showing the last error")
    func deadAfterMaxAttempts() async throws {
        let receiver = try await WebhookReceiver.start { _ in .init(status: 503, body: "down for maintenance") }
        let fixture = try await NotificationFixture.start()
        let tenant = uniqueTenant()
        let response = try await fixture.client.notify(
            notifyRequest(.teams, url: receiver.url("/teams")),
            metadata: try await bearer(role: .builder, tenant: tenant))
        let id = try #require(response.delivery?.id)
        #expect(response.delivery?.maxAttempts == 4)
        let delivery = try await fixture.waitFor(id, tenant: tenant)
        #expect(delivery.status == .failed)
        #expect(delivery.attempts == 4)
        #expect(delivery.lastResponseCode == 503)
        #expect(delivery.lastError == "HTTP 503: down for maintenance")
        #expect(delivery.nextAttemptAt == nil)
        #expect(delivery.deliveredAt == nil)
        try await Task.sleep(for: .milliseconds(300))
        #expect(receiver.requests(for: id).count == 4)
        try await fixture.stop()
        await receiver.stop()
    }

    @Test("A 4xx answer (other than 408 and 429) fails the delivery at once")
    func permanentClientError() async throws {
        let receiver = try await WebhookReceiver.start { _ in .init(status: 404, body: "no_service") }
        let fixture = try await NotificationFixture.start()
        let tenant = uniqueTenant()
        let delivery = try #require(
            try await fixture.client.notify(
                notifyRequest(.slack, url: receiver.url("/services/x/y/z"), wait: true),
                metadata: try await bearer(role: .builder, tenant: tenant)
            ).delivery)
        #expect(delivery.status == .failed)
        #expect(delivery.attempts == 1)
        #expect(delivery.lastError == "HTTP 404: no_service")
        try await Task.sleep(for: .milliseconds(200))
        #expect(receiver.requests(for: delivery.id).count == 1)
        try await fixture.stop()
        await receiver.stop()
    }

    @Test("A redirect is not followed: the delivery fails, naming where it points")
    func redirectNotFollowed() async throws {
        let receiver = try await WebhookReceiver.start { _ in
            .init(status: 302, headers: [("Location", "http://127.0.0.1:1/elsewhere")])
        }
        let fixture = try await NotificationFixture.start()
        let tenant = uniqueTenant()
        let delivery = try #require(
            try await fixture.client.notify(
                notifyRequest(.webhook, url: receiver.url("/moved"), secret: "s", wait: true),
                metadata: try await bearer(role: .builder, tenant: tenant)
            ).delivery)
        #expect(delivery.status == .failed)
        #expect(delivery.attempts == 1)
        #expect(delivery.lastResponseCode == 302)
        #expect(delivery.lastError == "HTTP 302: the endpoint redirects to 127.0.0.1; configure the final URL")
        try await fixture.stop()
        await receiver.stop()
    }

    @Test("Two service instances on one database never send one delivery concurrently, nor twice")
    func twoDispatchers() async throws {
        let receiver = try await WebhookReceiver.start { previous in
            .init(status: previous == 0 ? 500 : 200, delay: .milliseconds(150))
        }
        let first = try await NotificationFixture.start(["NOTIFICATION_DISPATCH_CONCURRENCY": "3"])
        let second = try await NotificationFixture.start(["NOTIFICATION_DISPATCH_CONCURRENCY": "3"])
        let tenant = uniqueTenant()
        var ids: [String] = []
        for index in 0..<8 {
            let instance = index.isMultiple(of: 2) ? first : second
            let response = try await instance.client.notify(
                notifyRequest(.webhook, url: receiver.url("/hook"), text: "n\(index)"),
                metadata: try await bearer(role: .builder, tenant: tenant))
            ids.append(try #require(response.delivery?.id))
        }
        for id in ids {
            let delivery = try await first.waitFor(id, tenant: tenant, timeout: .seconds(20))
            #expect(delivery.status == .delivered)
            #expect(delivery.attempts == 2)
        }
        for id in ids {
            #expect(receiver.requests(for: id).map(\.answeredStatus) == [500, 200])
        }
        #expect(receiver.maximumInFlight == 1)
        try await first.stop()
        try await second.stop()
        await receiver.stop()
    }

    @Test("Stopped in the middle of retries and started again, the delivery completes once")
    func killAndRestart() async throws {
        let receiver = try await WebhookReceiver.start { _ in .init(status: 500, body: "still broken") }
        let tenant = uniqueTenant()
        let before = try await NotificationFixture.start()
        let response = try await before.client.notify(
            notifyRequest(.webhook, url: receiver.url("/hook"), secret: "k", key: "once"),
            metadata: try await bearer(role: .builder, tenant: tenant))
        let id = try #require(response.delivery?.id)
        let failing = try await before.waitFor(id, tenant: tenant) { $0.attempts >= 2 }
        #expect(failing.status == .pending)
        try await before.stop()
        let attemptsWhileStopped = receiver.requests(for: id).count

        receiver.answer { _ in .init(status: 200) }
        try await Task.sleep(for: .milliseconds(300))
        #expect(receiver.requests(for: id).count == attemptsWhileStopped)

        let after = try await NotificationFixture.start()
        let delivery = try await after.waitFor(id, tenant: tenant)
        #expect(delivery.status == .delivered)
        try await Task.sleep(for: .milliseconds(300))
        let requests = receiver.requests(for: id)
        #expect(requests.filter { $0.answeredStatus == 200 }.count == 1)
        // An attempt cut off by the stop reached the receiver but was not recorded; none is counted twice.
        #expect(requests.count >= Int(delivery.attempts))
        #expect(Set(requests.map(\.idempotencyKey)) == [id])
        #expect(Set(requests.map(\.body)).count == 1)
        // A retry of the original call after the restart still answers with the same delivery.
        let replay = try await after.client.notify(
            notifyRequest(.webhook, url: receiver.url("/hook"), secret: "k", key: "once"),
            metadata: try await bearer(role: .builder, tenant: tenant))
        #expect(replay.replayed)
        #expect(replay.delivery?.id == id)
        #expect(replay.delivery?.status == .delivered)
        try await after.stop()
        await receiver.stop()
    }
}
