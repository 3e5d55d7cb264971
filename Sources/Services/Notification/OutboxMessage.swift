import FlowEngine
import Foundation
import RPCModels

/// What a delivery carries, as the dispatcher renders it for its channel.
struct OutboxMessage: Sendable {
    var deliveryID: String
    var channel: Agentplane_V1_ChannelKind
    var title: String
    var text: String
    var severity: Agentplane_V1_NotificationSeverity
    var payload: JSONValue?
    var conversationID: String
    var runID: String
    var idempotencyKey: String
    var createdAt: Date

    /// The severity's name as webhooks and logs show it.
    var severityName: String {
        switch severity {
        case .warning: "warning"
        case .critical: "critical"
        default: "info"
        }
    }

    /// The payload's top-level fields in key order, as (name, text) pairs for Slack and Teams.
    var fields: [(name: String, value: String)] {
        guard case .object(let members)? = payload else { return [] }
        return members.keys.sorted().map { ($0, members[$0]!.stringValue ?? members[$0]!.jsonText) }
    }
}

/// Where a delivery goes: the request's target, sealed in the outbox while the delivery is
/// pending because the URL and signing secret are credentials.
struct DeliveryTarget: Codable, Sendable, Equatable {
    var url: String
    var signingSecret: String
    var channelName: String
    var headers: [String: String]
}
