import Crypto
import Foundation
import Notification
import RPCCore
import RPCModels
import ServiceTestSupport
import Testing

/// Every notification test, one at a time: each starts dispatchers that claim due deliveries of
/// any tenant, so two tests running at once could send each other's deliveries with their own
/// retry settings.
@Suite("Notification service", .serialized)
struct NotificationServiceTests {}

extension NotificationServiceTests {
    @Test("Slack gets an incoming-webhook message with text, channel, blocks and fields")
    func slackPayloadShape() async throws {
        let receiver = try await WebhookReceiver.start()
        let fixture = try await NotificationFixture.start()
        let tenant = uniqueTenant()
        var request = notifyRequest(.slack, url: receiver.url("/services/T0001/B0002/abcdefgh3fA9"), wait: true)
        request.target?.channelName = "#support"
        request.severity = .critical
        request.payload = payload(["ticket": "T-42", "count": 3])
        let response = try await fixture.client.notify(
            request, metadata: try await bearer(role: .builder, tenant: tenant))
        let delivery = try #require(response.delivery)
        #expect(delivery.status == .delivered)
        #expect(delivery.attempts == 1)
        #expect(delivery.lastResponseCode == 200)
        #expect(delivery.deliveredAt != nil)
        #expect(delivery.targetDisplay == "127.0.0.1:\(receiver.port)/services/T0…/…3fA9")
        #expect(!response.replayed)

        let sent = try #require(receiver.requests(for: delivery.id).first)
        #expect(sent.method == "POST")
        #expect(sent.uri == "/services/T0001/B0002/abcdefgh3fA9")
        #expect(sent.headers["content-type"] == "application/json")
        let body = sent.json
        #expect(body["text"] as? String == "Alert: Disk almost full")
        #expect(body["channel"] as? String == "#support")
        let attachment = try #require((body["attachments"] as? [[String: Any]])?.first)
        #expect(attachment["color"] as? String == "#D40E0D")
        let blocks = try #require(attachment["blocks"] as? [[String: Any]])
        #expect(blocks.first?["type"] as? String == "header")
        #expect((blocks.first?["text"] as? [String: Any])?["text"] as? String == "Alert")
        #expect((blocks[1]["text"] as? [String: Any])?["text"] as? String == "Disk almost full")
        let fields = try #require(blocks[2]["fields"] as? [[String: Any]])
        #expect(fields.compactMap { $0["text"] as? String } == ["*count*\n3", "*ticket*\nT-42"])
        try await fixture.stop()
        await receiver.stop()
    }

    @Test("Teams gets a message carrying an Adaptive Card with title, text and facts")
    func teamsPayloadShape() async throws {
        let receiver = try await WebhookReceiver.start { _ in .init(status: 202) }
        let fixture = try await NotificationFixture.start()
        let tenant = uniqueTenant()
        var request = notifyRequest(.teams, url: receiver.url("/workflows/abc/triggers/manual"), wait: true)
        request.severity = .warning
        request.payload = payload(["run": "r-1"])
        let response = try await fixture.client.notify(request, metadata: try await serviceBearer(tenant: tenant))
        let delivery = try #require(response.delivery)
        #expect(delivery.status == .delivered)
        #expect(delivery.lastResponseCode == 202)

        let body = try #require(receiver.requests(for: delivery.id).first).json
        #expect(body["type"] as? String == "message")
        let attachment = try #require((body["attachments"] as? [[String: Any]])?.first)
        #expect(attachment["contentType"] as? String == "application/vnd.microsoft.card.adaptive")
        let card = try #require(attachment["content"] as? [String: Any])
        #expect(card["type"] as? String == "AdaptiveCard")
        let elements = try #require(card["body"] as? [[String: Any]])
        #expect(elements[0]["text"] as? String == "Alert")
        #expect(elements[0]["color"] as? String == "Warning")
        #expect(elements[1]["text"] as? String == "Disk almost full")
        let facts = try #require(elements[2]["facts"] as? [[String: Any]])
        #expect(facts.first?["title"] as? String == "run")
        #expect(facts.first?["value"] as? String == "r-1")
        try await fixture.stop()
        await receiver.stop()
    }

    @Test("A generic webhook is signed: HMAC-SHA256 over timestamp and body verifies")
    func webhookSignature() async throws {
        let receiver = try await WebhookReceiver.start()
        let fixture = try await NotificationFixture.start()
        let tenant = uniqueTenant()
        let secret = "whsec-0123456789"
        var request = notifyRequest(.webhook, url: receiver.url("/hooks/in"), secret: secret, key: "k-1", wait: true)
        request.target?.headers = ["X-Team": "ops"]
        request.runID = "run-7"
        request.payload = payload(["ok": true])
        let response = try await fixture.client.notify(
            request, metadata: try await bearer(role: .owner, tenant: tenant))
        let delivery = try #require(response.delivery)
        #expect(delivery.status == .delivered)
        #expect(delivery.idempotencyKey == "k-1")
        #expect(delivery.runID == "run-7")

        let sent = try #require(receiver.requests(for: delivery.id).first)
        #expect(sent.headers["x-team"] == "ops")
        #expect(sent.headers["x-agentplane-delivery"] == delivery.id)
        let header = try #require(sent.headers["x-agentplane-signature"])
        let parts = Dictionary(
            uniqueKeysWithValues: header.split(separator: ",").map {
                let pair = $0.split(separator: "=", maxSplits: 1)
                return (String(pair[0]), String(pair[1]))
            })
        let timestamp = try #require(parts["t"])
        let expected = HMAC<SHA256>.authenticationCode(
            for: Array("\(timestamp).".utf8) + sent.body, using: SymmetricKey(data: Array(secret.utf8))
        ).map { String(format: "%02x", $0) }.joined()
        #expect(parts["v1"] == expected)
        #expect(abs(Double(timestamp)! - Date().timeIntervalSince1970) < 60)
        // A receiver with another secret must not verify it.
        let forged = HMAC<SHA256>.authenticationCode(
            for: Array("\(timestamp).".utf8) + sent.body, using: SymmetricKey(data: Array("other".utf8))
        ).map { String(format: "%02x", $0) }.joined()
        #expect(parts["v1"] != forged)

        let body = sent.json
        #expect(body["id"] as? String == delivery.id)
        #expect(body["text"] as? String == "Disk almost full")
        #expect(body["severity"] as? String == "info")
        #expect(body["idempotency_key"] as? String == "k-1")
        #expect(body["run_id"] as? String == "run-7")
        #expect((body["data"] as? [String: Any])?["ok"] as? Bool == true)
        try await fixture.stop()
        await receiver.stop()
    }

    @Test("The log channel needs no target and is delivered to the service log")
    func logChannel() async throws {
        let fixture = try await NotificationFixture.start(["SECRET_BOX_KEYS": ""])
        let tenant = uniqueTenant()
        var request = Agentplane_V1_NotifyRequest()
        request.channel = .log
        request.text = "offline default"
        request.waitForFirstAttempt = true
        let delivery = try #require(
            try await fixture.client.notify(request, metadata: try await bearer(role: .builder, tenant: tenant))
                .delivery)
        #expect(delivery.status == .delivered)
        #expect(delivery.targetDisplay == "log")
        #expect(delivery.attempts == 1)
        #expect(delivery.lastResponseCode == 0)
        try await fixture.stop()
    }
}
