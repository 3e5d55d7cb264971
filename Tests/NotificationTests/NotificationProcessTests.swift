import Foundation
import RPCCore
import RPCHTTP2
import RPCModels
import ServiceTestSupport
import TestSupport
import Testing

/// The `notification` executable killed (SIGKILL, not a graceful stop) in the middle of
/// retries and started again. It runs on a database of its own, so its dispatcher never
/// touches deliveries of the in-process suite.
@Suite("Notification service as a process")
struct NotificationProcessTests {
    private func startProcess(environment: [String: String]) throws -> ChildProcess {
        try ChildProcess(
            [repositoryRoot.appendingPathComponent(".build/debug/notification").path], environment: environment,
            captureStandardError: true, readsOutput: false)
    }

    private func waitUntilServing(_ client: Agentplane_V1_NotificationService.Client, tenant: String) async throws {
        for _ in 0..<300 {
            let metadata = try await bearer(role: .admin, tenant: tenant)
            if (try? await client.listDeliveries(.init(), metadata: metadata, options: .init(timeout: .seconds(1))))
                != nil
            {
                return
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        Issue.record("the notification process did not start serving")
    }

    @Test("Killed in the middle of retries and started again, the delivery completes exactly once")
    func killedMidRetriesCompletesOnce() async throws {
        let receiver = try await WebhookReceiver.start { _ in .init(status: 500, body: "still broken") }
        defer { Task { await receiver.stop() } }
        let port = testServerPort(spread: 2)
        var environment = notificationEnvironment().merging(minimalServiceEnvironment(port: port, adminPort: port + 1))
        { $1 }
        environment["DATABASE_URL"] = try await isolatedDatabaseURL(named: "agentplane_notification_process_tests")
        environment["NOTIFICATION_MAX_ATTEMPTS"] = "8"
        let tenant = uniqueTenant()
        let transport = HTTP2ClientTransport(host: "127.0.0.1", port: port)
        defer { Task { await transport.close() } }
        let client = Agentplane_V1_NotificationService.Client(RPCClient(transport: transport))

        let first = try startProcess(environment: environment)
        defer { first.stop() }
        try await waitUntilServing(client, tenant: tenant)
        let response = try await client.notify(
            notifyRequest(.webhook, url: receiver.url("/hook"), secret: "k", key: "crash-once"),
            metadata: try await bearer(role: .builder, tenant: tenant))
        let id = try #require(response.delivery?.id)
        // Let it fail twice, then crash it.
        for _ in 0..<200 where receiver.requests(for: id).count < 2 { try await Task.sleep(for: .milliseconds(25)) }
        #expect(receiver.requests(for: id).count >= 2)
        first.signal(SIGKILL)
        _ = try await first.waitForExit(timeout: .seconds(5))

        receiver.answer { _ in .init(status: 200) }
        let second = try startProcess(environment: environment)
        defer { second.stop() }
        try await waitUntilServing(client, tenant: tenant)
        var delivery = Agentplane_V1_Delivery()
        for _ in 0..<400 {
            delivery = try #require(
                try await client.getDelivery(
                    .init(deliveryID: id), metadata: try await bearer(role: .admin, tenant: tenant)
                )
                .delivery)
            if delivery.status != .pending { break }
            try await Task.sleep(for: .milliseconds(25))
        }
        #expect(delivery.status == .delivered, "\(second.standardError.suffix(1500))")
        try await Task.sleep(for: .milliseconds(300))
        let requests = receiver.requests(for: id)
        #expect(requests.filter { $0.answeredStatus == 200 }.count == 1)
        #expect(Set(requests.map(\.idempotencyKey)) == [id])
        #expect(Set(requests.map(\.body)).count == 1)
        second.signal(SIGTERM)
        #expect(try await second.waitForExit(timeout: .seconds(20)) == 0)
    }
}
