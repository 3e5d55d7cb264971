import FlowEngine
import Foundation
import RPCModels

/// The request bodies each channel expects, built from a delivery. Every body is a pure
/// function of the delivery, so all attempts send the same bytes.
enum ChannelPayloads {
    /// Slack section texts are limited to 3000 characters, and a section holds at most 10 fields.
    private static let slackSectionLimit = 3000
    private static let slackFieldsPerSection = 10

    /// A Slack incoming-webhook message: `text` (the notification fallback) plus a coloured
    /// attachment with Block Kit blocks (title, text, payload fields, context).
    static func slack(_ message: OutboxMessage, channelName: String) -> [UInt8] {
        var blocks: [JSONValue] = []
        if !message.title.isEmpty {
            blocks.append(
                .object([
                    "type": .string("header"),
                    "text": .object(["type": .string("plain_text"), "text": .string(clip(message.title, to: 150))]),
                ]))
        }
        blocks.append(
            .object([
                "type": .string("section"),
                "text": .object(["type": .string("mrkdwn"), "text": .string(clip(message.text, to: slackSectionLimit))]
                ),
            ]))
        let fields = message.fields.map { field in
            JSONValue.object([
                "type": .string("mrkdwn"), "text": .string(clip("*\(field.name)*\n\(field.value)", to: 2000)),
            ])
        }
        for start in stride(from: 0, to: fields.count, by: slackFieldsPerSection) {
            let chunk = Array(fields[start..<min(start + slackFieldsPerSection, fields.count)])
            blocks.append(.object(["type": .string("section"), "fields": .array(chunk)]))
        }
        blocks.append(
            .object([
                "type": .string("context"),
                "elements": .array([
                    .object([
                        "type": .string("mrkdwn"),
                        "text": .string("Severity: \(message.severityName) · delivery \(message.deliveryID)"),
                    ])
                ]),
            ]))
        let fallback = message.title.isEmpty ? message.text : "\(message.title): \(message.text)"
        var body: [String: JSONValue] = [
            "text": .string(fallback),
            "attachments": .array([.object(["color": .string(slackColor(message.severity)), "blocks": .array(blocks)])]
            ),
        ]
        if !channelName.isEmpty { body["channel"] = .string(channelName) }
        return Array(JSONValue.object(body).jsonText.utf8)
    }

    /// A Microsoft Teams message carrying an Adaptive Card, the payload both Teams incoming
    /// webhooks and Power Automate "workflow" webhooks accept.
    static func teams(_ message: OutboxMessage) -> [UInt8] {
        var body: [JSONValue] = []
        if !message.title.isEmpty {
            body.append(
                .object([
                    "type": .string("TextBlock"), "text": .string(message.title), "weight": .string("Bolder"),
                    "size": .string("Medium"), "wrap": .bool(true), "color": .string(teamsColor(message.severity)),
                ]))
        }
        body.append(.object(["type": .string("TextBlock"), "text": .string(message.text), "wrap": .bool(true)]))
        let facts = message.fields.map { JSONValue.object(["title": .string($0.name), "value": .string($0.value)]) }
        if !facts.isEmpty { body.append(.object(["type": .string("FactSet"), "facts": .array(facts)])) }
        body.append(
            .object([
                "type": .string("TextBlock"), "text": .string("Severity: \(message.severityName)"),
                "isSubtle": .bool(true), "size": .string("Small"), "wrap": .bool(true),
            ]))
        let card: JSONValue = .object([
            "$schema": .string("http://adaptivecards.io/schemas/adaptive-card.json"),
            "type": .string("AdaptiveCard"), "version": .string("1.4"), "body": .array(body),
            "msteams": .object(["width": .string("Full")]),
        ])
        let envelope: JSONValue = .object([
            "type": .string("message"),
            "summary": .string(message.title.isEmpty ? clip(message.text, to: 200) : message.title),
            "attachments": .array([
                .object([
                    "contentType": .string("application/vnd.microsoft.card.adaptive"), "contentUrl": .null,
                    "content": card,
                ])
            ]),
        ])
        return Array(envelope.jsonText.utf8)
    }

    /// The generic webhook body: the notification as plain JSON.
    static func webhook(_ message: OutboxMessage) -> [UInt8] {
        let body: JSONValue = .object([
            "id": .string(message.deliveryID),
            "type": .string("notification"),
            "idempotency_key": .string(message.idempotencyKey),
            "title": .string(message.title),
            "text": .string(message.text),
            "severity": .string(message.severityName),
            "data": message.payload ?? .object([:]),
            "conversation_id": .string(message.conversationID),
            "run_id": .string(message.runID),
            "created_at": .string(timestamp(message.createdAt)),
        ])
        return Array(body.jsonText.utf8)
    }

    /// RFC 3339 in UTC with milliseconds.
    static func timestamp(_ date: Date) -> String {
        var style = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        style.timeZone = TimeZone(identifier: "UTC")!
        return date.formatted(style)
    }

    private static func slackColor(_ severity: Agentplane_V1_NotificationSeverity) -> String {
        switch severity {
        case .warning: "#DAA038"
        case .critical: "#D40E0D"
        default: "#2EB886"
        }
    }

    private static func teamsColor(_ severity: Agentplane_V1_NotificationSeverity) -> String {
        switch severity {
        case .warning: "Warning"
        case .critical: "Attention"
        default: "Default"
        }
    }

    private static func clip(_ text: String, to limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }
}
