import Foundation
import Notification
import RPCCore
import RPCModels
import Runtime
import RuntimeConfig
import ServiceTestSupport
import Testing

extension NotificationServiceTests {
    private func logRequest(_ text: String, key: String = "", runID: String = "") -> Agentplane_V1_NotifyRequest {
        var request = Agentplane_V1_NotifyRequest()
        request.channel = .log
        request.text = text
        request.idempotencyKey = key
        request.runID = runID
        return request
    }

    @Test("Another tenant gets NOT_FOUND for a delivery and never sees it in lists")
    func tenantIsolation() async throws {
        let fixture = try await NotificationFixture.start()
        let tenantA = uniqueTenant()
        let tenantB = uniqueTenant()
        let created = try await fixture.client.notify(
            logRequest("for A"), metadata: try await bearer(role: .builder, tenant: tenantA))
        let id = try #require(created.delivery?.id)
        let adminB = try await bearer(role: .owner, tenant: tenantB)
        #expect(
            await statusCode { _ = try await fixture.client.getDelivery(.init(deliveryID: id), metadata: adminB) }
                == .notFound)
        #expect(
            await statusCode {
                _ = try await fixture.client.getDelivery(.init(deliveryID: "not-a-uuid"), metadata: adminB)
            } == .notFound)
        let listB = try await fixture.client.listDeliveries(.init(), metadata: adminB)
        #expect(listB.deliveries.isEmpty)
        let listA = try await fixture.client.listDeliveries(
            .init(), metadata: try await bearer(role: .admin, tenant: tenantA))
        #expect(listA.deliveries.map(\.id) == [id])
        try await fixture.stop()
    }

    @Test("Notify is idempotent by key: same request replays, another request is FAILED_PRECONDITION")
    func idempotentNotify() async throws {
        let receiver = try await WebhookReceiver.start()
        let fixture = try await NotificationFixture.start()
        let tenant = uniqueTenant()
        let builder = try await bearer(role: .builder, tenant: tenant)
        let request = notifyRequest(.webhook, url: receiver.url("/hook"), secret: "s", key: "order-17")
        let first = try await fixture.client.notify(request, metadata: builder)
        let second = try await fixture.client.notify(request, metadata: builder)
        #expect(!first.replayed)
        #expect(second.replayed)
        #expect(first.delivery?.id == second.delivery?.id)
        var changed = request
        changed.text = "something else"
        #expect(
            await statusCode { _ = try await fixture.client.notify(changed, metadata: builder) } == .failedPrecondition)
        var otherSecret = request
        otherSecret.target?.signingSecret = "other"
        #expect(
            await statusCode { _ = try await fixture.client.notify(otherSecret, metadata: builder) }
                == .failedPrecondition)
        // The same key in another tenant is another delivery.
        let elsewhere = try await fixture.client.notify(
            request, metadata: try await bearer(role: .builder, tenant: uniqueTenant()))
        #expect(!elsewhere.replayed)
        #expect(elsewhere.delivery?.id != first.delivery?.id)

        let id = try #require(first.delivery?.id)
        _ = try await fixture.waitFor(id, tenant: tenant)
        try await Task.sleep(for: .milliseconds(200))
        #expect(receiver.requests(for: id).count == 1)
        try await fixture.stop()
        await receiver.stop()
    }

    @Test("Roles: Notify needs builder, reading needs admin, service tokens may do both")
    func roles() async throws {
        let fixture = try await NotificationFixture.start()
        let tenant = uniqueTenant()
        #expect(
            await statusCode {
                _ = try await fixture.client.notify(
                    self.logRequest("x"), metadata: try await bearer(role: .member, tenant: tenant))
            } == .permissionDenied)
        #expect(await statusCode { _ = try await fixture.client.notify(self.logRequest("x")) } == .unauthenticated)
        let created = try await fixture.client.notify(
            logRequest("by service"), metadata: try await serviceBearer(tenant: tenant))
        let id = try #require(created.delivery?.id)
        #expect(
            await statusCode {
                _ = try await fixture.client.getDelivery(
                    .init(deliveryID: id), metadata: try await bearer(role: .builder, tenant: tenant))
            } == .permissionDenied)
        #expect(
            await statusCode {
                _ = try await fixture.client.listDeliveries(
                    .init(), metadata: try await bearer(role: .builder, tenant: tenant))
            } == .permissionDenied)
        let read = try await fixture.client.getDelivery(
            .init(deliveryID: id), metadata: try await serviceBearer(tenant: tenant))
        #expect(read.delivery?.id == id)
        try await fixture.stop()
    }

    @Test("Bad input answers INVALID_ARGUMENT, oversized input RESOURCE_EXHAUSTED")
    func badInput() async throws {
        let fixture = try await NotificationFixture.start()
        let builder = try await bearer(role: .builder, tenant: uniqueTenant())
        func code(_ request: Agentplane_V1_NotifyRequest) async -> Status.Code? {
            await statusCode { _ = try await fixture.client.notify(request, metadata: builder) }
        }
        var unspecified = logRequest("x")
        unspecified.channel = .unspecified
        #expect(await code(unspecified) == .invalidArgument)
        #expect(await code(logRequest("  ")) == .invalidArgument)
        #expect(await code(notifyRequest(.slack, url: "")) == .invalidArgument)
        #expect(await code(notifyRequest(.slack, url: "not a url")) == .invalidArgument)
        #expect(await code(notifyRequest(.webhook, url: "ftp://example.com/x")) == .invalidArgument)
        // Plain http only to allow-listed hosts.
        #expect(await code(notifyRequest(.webhook, url: "http://example.com/x")) == .invalidArgument)
        var reserved = notifyRequest(.webhook, url: "https://example.com/x")
        reserved.target?.headers = ["Idempotency-Key": "mine"]
        #expect(await code(reserved) == .invalidArgument)
        #expect(await code(logRequest("x", key: String(repeating: "k", count: 129))) == .invalidArgument)
        #expect(await code(logRequest(String(repeating: "a", count: 64 * 1024 + 1))) == .resourceExhausted)
        var bigPayload = logRequest("x")
        bigPayload.payload = payload(["blob": String(repeating: "b", count: 70 * 1024)])
        #expect(await code(bigPayload) == .resourceExhausted)
        do {
            _ = try await fixture.client.notify(notifyRequest(.slack, url: ""), metadata: builder)
        } catch let error as RPCError {
            #expect(error.details?.violations.first?.field == "target.url")
        }
        try await fixture.stop()
    }

    @Test("Without SECRET_BOX_KEYS, HTTP channels are FAILED_PRECONDITION and the log channel still works")
    func secretBoxRequired() async throws {
        let fixture = try await NotificationFixture.start(["SECRET_BOX_KEYS": ""])
        let builder = try await bearer(role: .builder, tenant: uniqueTenant())
        #expect(
            await statusCode {
                _ = try await fixture.client.notify(
                    notifyRequest(.slack, url: "https://hooks.slack.com/services/a/b/c"), metadata: builder)
            } == .failedPrecondition)
        _ = try await fixture.client.notify(logRequest("fine"), metadata: builder)
        try await fixture.stop()
    }

    @Test("ListDeliveries pages newest first, filters, and refuses foreign page tokens")
    func listPaginationAndFilters() async throws {
        let fixture = try await NotificationFixture.start()
        let tenant = uniqueTenant()
        let builder = try await bearer(role: .builder, tenant: tenant)
        let admin = try await bearer(role: .admin, tenant: tenant)
        var ids: [String] = []
        for index in 0..<5 {
            let response = try await fixture.client.notify(
                logRequest("n\(index)", runID: index < 3 ? "run-a" : "run-b"), metadata: builder)
            ids.append(try #require(response.delivery?.id))
        }
        let page1 = try await fixture.client.listDeliveries(.init(pageSize: 2), metadata: admin)
        #expect(page1.deliveries.map(\.id) == [ids[4], ids[3]])
        #expect(!page1.nextPageToken.isEmpty)
        let page2 = try await fixture.client.listDeliveries(
            .init(pageSize: 2, pageToken: page1.nextPageToken), metadata: admin)
        #expect(page2.deliveries.map(\.id) == [ids[2], ids[1]])
        let page3 = try await fixture.client.listDeliveries(
            .init(pageSize: 2, pageToken: page2.nextPageToken), metadata: admin)
        #expect(page3.deliveries.map(\.id) == [ids[0]])
        #expect(page3.nextPageToken.isEmpty)

        let runA = try await fixture.client.listDeliveries(.init(runID: "run-a"), metadata: admin)
        #expect(runA.deliveries.map(\.id) == [ids[2], ids[1], ids[0]])
        let slack = try await fixture.client.listDeliveries(.init(channel: .slack), metadata: admin)
        #expect(slack.deliveries.isEmpty)
        for id in ids { _ = try await fixture.waitFor(id, tenant: tenant) }
        let delivered = try await fixture.client.listDeliveries(.init(status: .delivered), metadata: admin)
        #expect(delivered.deliveries.count == 5)
        let failed = try await fixture.client.listDeliveries(.init(status: .failed), metadata: admin)
        #expect(failed.deliveries.isEmpty)

        #expect(
            await statusCode {
                _ = try await fixture.client.listDeliveries(
                    .init(pageSize: 2, pageToken: page1.nextPageToken, runID: "run-a"), metadata: admin)
            } == .invalidArgument)
        #expect(
            await statusCode {
                _ = try await fixture.client.listDeliveries(.init(pageToken: "garbage!"), metadata: admin)
            } == .invalidArgument)
        #expect(
            await statusCode { _ = try await fixture.client.listDeliveries(.init(pageSize: -1), metadata: admin) }
                == .invalidArgument)
        try await fixture.stop()
    }

    @Test("A forged page token carrying a time PostgreSQL cannot hold is INVALID_ARGUMENT, at and past the bound")
    func forgedPageTokenTime() async throws {
        let fixture = try await NotificationFixture.start()
        let admin = try await bearer(role: .admin, tenant: uniqueTenant())
        let filters = "status=0|channel=0|run="
        let id = UUID().uuidString.lowercased()
        func list(_ microseconds: Int64) async -> Status.Code? {
            let token = Pagination.token(cursor: [String(microseconds), id], filters: filters)
            return await statusCode {
                _ = try await fixture.client.listDeliveries(.init(pageToken: token), metadata: admin)
            }
        }
        #expect(await list(1 << 55) == nil)
        #expect(await list(-(1 << 55)) == nil)
        #expect(await list((1 << 55) + 1) == .invalidArgument)
        #expect(await list(.max) == .invalidArgument)
        #expect(await list(.min) == .invalidArgument)
        try await fixture.stop()
    }

    @Test("Over the tenant's rate limit Notify answers RESOURCE_EXHAUSTED with a retry delay")
    func rateLimit() async throws {
        let fixture = try await NotificationFixture.start(["NOTIFICATION_RATE_LIMIT": "2"])
        let tenant = uniqueTenant()
        let builder = try await bearer(role: .builder, tenant: tenant)
        _ = try await fixture.client.notify(logRequest("1", key: "a"), metadata: builder)
        _ = try await fixture.client.notify(logRequest("2"), metadata: builder)
        // A replay is not a new notification: it does not count.
        let replay = try await fixture.client.notify(logRequest("1", key: "a"), metadata: builder)
        #expect(replay.replayed)
        do {
            _ = try await fixture.client.notify(logRequest("3"), metadata: builder)
            Issue.record("the third notification was accepted")
        } catch let error as RPCError {
            #expect(error.code == .resourceExhausted)
            #expect(error.details?.reason == "RATE_LIMITED")
            #expect((error.details?.retryAfter?.seconds ?? 0) > 0)
        }
        // The refused one left nothing behind (it is checked in the transaction that would record it).
        let admin = try await bearer(role: .admin, tenant: tenant)
        #expect(try await fixture.client.listDeliveries(.init(), metadata: admin).deliveries.count == 2)
        // Other tenants have their own budget.
        _ = try await fixture.client.notify(
            logRequest("elsewhere"), metadata: try await bearer(role: .builder, tenant: uniqueTenant()))
        try await fixture.stop()
    }

    @Test("Bad configuration keys are reported at start-up")
    func badSettings() async throws {
        var reader = ConfigReader(
            environment: ["NOTIFICATION_MAX_ATTEMPTS": "0", "NOTIFICATION_BACKOFF_BASE": "soon"], arguments: [])
        _ = NotificationSettings.read(&reader)
        #expect(Set(reader.problems.map(\.key)) == ["NOTIFICATION_MAX_ATTEMPTS", "NOTIFICATION_BACKOFF_BASE"])
    }
}
