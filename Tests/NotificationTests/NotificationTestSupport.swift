import Foundation
import Notification
import RPCCore
import RPCModels
import RuntimeSecurity
import ServiceTestSupport
import Testing

/// The environment notification tests run with: loopback allowed, a secret box, and short
/// backoffs so retries take milliseconds.
func notificationEnvironment(_ extra: [String: String] = [:]) -> [String: String] {
    let key = Data(repeating: 7, count: 32).base64EncodedString()
    return [
        "OUTBOUND_ALLOW_HOSTS": "127.0.0.1,localhost",
        "SECRET_BOX_KEYS": "test:\(key)",
        "NOTIFICATION_BACKOFF_BASE": "50ms",
        "NOTIFICATION_BACKOFF_MAX": "200ms",
        "NOTIFICATION_POLL_INTERVAL": "50ms",
        "NOTIFICATION_MAX_ATTEMPTS": "4",
        "NOTIFICATION_HTTP_TIMEOUT": "5s",
        // Longer than the HTTP timeout, as it must be; short, so a crashed claim is retried soon.
        "NOTIFICATION_CLAIM_LEASE": "6s",
    ].merging(extra) { $1 }
}

/// A tenant id no other test uses.
func uniqueTenant() -> String { "tenant-notify-\(UUID().uuidString.prefix(8).lowercased())" }

/// A running notification service and a client of it.
struct NotificationFixture {
    let harness: ServiceTestHarness
    let client: Agentplane_V1_NotificationService.Client

    static func start(_ extra: [String: String] = [:]) async throws -> NotificationFixture {
        let harness = try await ServiceTestHarness.start(
            NotificationService.definition, environment: notificationEnvironment(extra))
        return NotificationFixture(harness: harness, client: Agentplane_V1_NotificationService.Client(harness.client))
    }

    func stop() async throws { try await harness.stop() }

    /// Polls GetDelivery until `done` holds (10 s at most); returns the last state seen.
    func waitFor(
        _ id: String, tenant: String, timeout: Duration = .seconds(10),
        until done: (Agentplane_V1_Delivery) -> Bool = { $0.status != .pending }
    ) async throws -> Agentplane_V1_Delivery {
        let deadline = ContinuousClock.now + timeout
        while true {
            let delivery = try await client.getDelivery(
                .init(deliveryID: id), metadata: try await bearer(role: .admin, tenant: tenant)
            ).delivery!
            if done(delivery) || ContinuousClock.now > deadline { return delivery }
            try await Task.sleep(for: .milliseconds(25))
        }
    }
}

/// A Notify request to one of the receiver's paths.
func notifyRequest(
    _ channel: Agentplane_V1_ChannelKind, url: String, text: String = "Disk almost full", title: String = "Alert",
    secret: String = "", key: String = "", wait: Bool = false
) -> Agentplane_V1_NotifyRequest {
    var request = Agentplane_V1_NotifyRequest()
    request.channel = channel
    request.target = Agentplane_V1_NotificationTarget(url: url, signingSecret: secret)
    request.text = text
    request.title = title
    request.idempotencyKey = key
    request.waitForFirstAttempt = wait
    return request
}

/// The status code of a failed call (nil when it succeeded).
func statusCode(_ body: () async throws -> Void) async -> Status.Code? {
    do {
        try await body()
        return nil
    } catch let error as RPCError {
        return error.code
    } catch {
        Issue.record("unexpected error \(error)")
        return nil
    }
}

/// A `google.protobuf.Struct` from string and number fields.
func payload(_ fields: [String: Any]) -> Google_Protobuf_Struct {
    var result = Google_Protobuf_Struct()
    for (key, value) in fields {
        switch value {
        case let text as String: result.fields[key] = Google_Protobuf_Value(kind: .stringValue(text))
        case let number as Int: result.fields[key] = Google_Protobuf_Value(kind: .numberValue(Double(number)))
        case let flag as Bool: result.fields[key] = Google_Protobuf_Value(kind: .boolValue(flag))
        default: break
        }
    }
    return result
}
