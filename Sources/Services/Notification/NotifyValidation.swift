import Crypto
import FlowEngine
import FlowEngineProto
import Foundation
import RPCCore
import RPCModels
import Runtime
import RuntimeHTTP

/// A Notify request checked and normalised: what the outbox records.
struct ValidatedNotification: Sendable {
    var channel: Agentplane_V1_ChannelKind
    var target: DeliveryTarget?
    var targetDisplay: String
    var title: String
    var text: String
    var severity: Agentplane_V1_NotificationSeverity
    var payload: Google_Protobuf_Struct?
    var payloadJSON: JSONValue?
    var conversationID: String
    var runID: String
    var idempotencyKey: String

    /// Text and payload limit (64 KiB each), per the contract.
    static let maximumBytes = 64 * 1024
    /// Headers a request may not set itself: the transport's and the ones receivers verify.
    static let reservedHeaders: Set<String> = [
        "content-type", "content-length", "host", "idempotency-key", "user-agent", "transfer-encoding", "connection",
    ]

    /// Checks `request`: INVALID_ARGUMENT or RESOURCE_EXHAUSTED naming what to fix.
    init(_ request: Agentplane_V1_NotifyRequest, policy: OutboundURLPolicy) throws(RPCError) {
        guard request.idempotencyKey.count <= 128 else {
            throw RPCError.invalidField(
                "idempotency_key", code: "TOO_LONG", "idempotency_key has at most 128 characters")
        }
        idempotencyKey = request.idempotencyKey
        switch request.channel {
        case .slack, .teams, .webhook, .log: channel = request.channel
        default:
            throw RPCError.invalidField(
                "channel", code: "UNSPECIFIED", "set channel to CHANNEL_KIND_SLACK, _TEAMS, _WEBHOOK or _LOG")
        }
        guard !request.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw RPCError.invalidField("text", code: "EMPTY", "text must not be empty")
        }
        guard request.text.utf8.count <= Self.maximumBytes else {
            throw RPCError.withDetails(
                .resourceExhausted, "text is over 64 KiB (\(request.text.utf8.count) bytes); shorten it",
                reason: "TOO_LARGE")
        }
        text = request.text
        guard request.title.count <= 1000 else {
            throw RPCError.invalidField("title", code: "TOO_LONG", "title has at most 1000 characters")
        }
        title = request.title
        switch request.severity {
        case .unspecified: severity = .info
        case .info, .warning, .critical: severity = request.severity
        case .UNRECOGNIZED(let value):
            throw RPCError.invalidField("severity", code: "UNKNOWN", "severity \(value) is not a NotificationSeverity")
        }
        payload = request.payload
        payloadJSON = request.payload.map { .object(ProtoJSON.members($0)) }
        if let payloadJSON, payloadJSON.jsonText.utf8.count > Self.maximumBytes {
            throw RPCError.withDetails(
                .resourceExhausted, "payload is over 64 KiB as JSON; send less data", reason: "TOO_LARGE")
        }
        for (field, value) in [("conversation_id", request.conversationID), ("run_id", request.runID)]
        where value.count > 200 {
            throw RPCError.invalidField(field, code: "TOO_LONG", "\(field) has at most 200 characters")
        }
        conversationID = request.conversationID
        runID = request.runID
        if channel == .log {
            target = nil
            targetDisplay = "log"
            return
        }
        let requested = request.target ?? Agentplane_V1_NotificationTarget()
        let (target, display) = try Self.checkedTarget(requested, channel: channel, policy: policy)
        self.target = target
        targetDisplay = display
    }

    private static func checkedTarget(
        _ target: Agentplane_V1_NotificationTarget, channel: Agentplane_V1_ChannelKind, policy: OutboundURLPolicy
    ) throws(RPCError) -> (DeliveryTarget, String) {
        let text = target.url.trimmingCharacters(in: .whitespaces)
        guard !text.isEmpty else {
            throw RPCError.invalidField("target.url", code: "MISSING_FIELD", "target.url is required for this channel")
        }
        guard text.count <= 2048, let url = URL(string: text), url.scheme != nil, url.host != nil else {
            throw RPCError.invalidField("target.url", code: "MALFORMED", "target.url is not an absolute http(s) URL")
        }
        do {
            try policy.checkSyntax(url)
        } catch {
            throw RPCError.invalidField("target.url", code: "REFUSED", error.description)
        }
        var headers: [String: String] = [:]
        if channel == .webhook {
            guard target.headers.count <= 20 else {
                throw RPCError.invalidField("target.headers", code: "TOO_MANY", "at most 20 extra headers")
            }
            for (name, value) in target.headers {
                let lowered = name.lowercased()
                let tokenCharacters = CharacterSet(charactersIn: "!#$%&'*+-.^_`|~").union(.alphanumerics)
                guard !name.isEmpty, name.unicodeScalars.allSatisfy({ $0.isASCII && tokenCharacters.contains($0) })
                else {
                    throw RPCError.invalidField(
                        "target.headers", code: "MALFORMED", "header name \"\(name)\" is not a valid HTTP token")
                }
                guard !reservedHeaders.contains(lowered), !lowered.hasPrefix("x-agentplane-") else {
                    throw RPCError.invalidField(
                        "target.headers", code: "RESERVED", "header \"\(name)\" is set by the service itself")
                }
                guard !value.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }), value.utf8.count <= 4096
                else {
                    throw RPCError.invalidField(
                        "target.headers", code: "MALFORMED",
                        "header \"\(name)\" has a value with line breaks or over 4 KiB")
                }
                headers[name] = value
            }
        }
        let sealed = DeliveryTarget(
            url: text, signingSecret: channel == .webhook ? target.signingSecret : "",
            channelName: channel == .slack ? target.channelName : "", headers: headers)
        return (sealed, TargetDisplay.of(url))
    }

    /// A keyed digest of everything that defines the notification, to tell a retry (same
    /// request) from a reused key (another request). Keyed, because the request holds the
    /// target URL and signing secret, which must not be guessable from a stored hash.
    func fingerprint(key: SymmetricKey) -> String {
        let canonical: JSONValue = .object([
            "channel": .number(Double(channel.rawValue)),
            "url": .string(target?.url ?? ""),
            "signing_secret": .string(target?.signingSecret ?? ""),
            "channel_name": .string(target?.channelName ?? ""),
            "headers": .object((target?.headers ?? [:]).mapValues { .string($0) }),
            "title": .string(title),
            "text": .string(text),
            "severity": .number(Double(severity.rawValue)),
            "payload": payloadJSON ?? .null,
            "conversation_id": .string(conversationID),
            "run_id": .string(runID),
        ])
        let digest = HMAC<SHA256>.authenticationCode(for: Array(canonical.jsonText.utf8), using: key)
        return digest.map { String(format: "%02x", $0) }.joined()
    }
}
