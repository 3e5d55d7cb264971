import Crypto
import FlowEngine
import FlowEngineProto
import Foundation
import Logging
import RPCModels
import RuntimeHTTP
import RuntimePostgres
import RuntimeSecurity

/// Sends pending deliveries from the outbox, across tenants, with retries.
///
/// Each attempt runs inside one transaction that claims the delivery with `FOR UPDATE SKIP
/// LOCKED` (through `claim_due_delivery()`, see the migration) and records the attempt's
/// outcome before it commits. The row lock lasts exactly as long as the attempt, so replicas
/// never send one delivery at the same time, and a replica that dies mid-attempt releases it
/// at once (its connection closes, the transaction rolls back, another replica retries).
final class Dispatcher: Sendable {
    private let postgres: PostgresPool
    private let http: OutboundHTTPClient
    private let secretBox: SecretBox?
    private let logger: Logger
    private let settings: NotificationSettings
    private let retry: RetryPolicy
    private let signal = WakeSignal()

    /// What one attempt came to.
    enum Outcome: Sendable, Equatable {
        /// Accepted (2xx, or written to the log); the HTTP status, 0 for the log.
        case delivered(code: Int)
        /// Failed, may succeed later; after a wait the receiver asked for, if it did.
        case retry(error: String, code: Int, after: Duration?)
        /// Failed for good (4xx other than 408 and 429, a refused URL).
        case permanent(error: String, code: Int)
    }

    init(
        postgres: PostgresPool, http: OutboundHTTPClient, secretBox: SecretBox?, logger: Logger,
        settings: NotificationSettings
    ) {
        self.postgres = postgres
        self.http = http
        self.secretBox = secretBox
        self.logger = logger
        self.settings = settings
        self.retry = RetryPolicy(
            base: settings.backoffBase, maximum: settings.backoffMax, retryAfterMaximum: settings.retryAfterMax)
    }

    /// Starts an attempt soon: Notify calls this after recording a delivery.
    func wake() { signal.wake() }

    /// How often finished deliveries past their retention are deleted.
    private static let purgeInterval = Duration.seconds(600)

    /// Runs the workers, and the retention clean-up, until cancelled.
    func run() async {
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<settings.dispatchConcurrency {
                group.addTask { await self.work() }
            }
            if settings.retention > .zero {
                group.addTask { await self.purgeRegularly() }
            }
        }
    }

    private func purgeRegularly() async {
        while !Task.isCancelled {
            do {
                let removed = try await purge()
                if removed > 0 { logger.info("purged finished deliveries", metadata: ["count": "\(removed)"]) }
            } catch is CancellationError {
                return
            } catch {
                logger.error("purging finished deliveries failed", metadata: ["error": "\(error)"])
            }
            try? await Task.sleep(for: Self.purgeInterval)
        }
    }

    /// Deletes finished deliveries older than the retention (every tenant's); returns how many.
    func purge() async throws -> Int {
        let retention = settings.retention.components
        let milliseconds = retention.seconds * 1000 + retention.attoseconds / 1_000_000_000_000_000
        let rows = try await postgres.query(
            "SELECT notification.purge_finished_deliveries($1::int8) AS removed", Int64(milliseconds))
        return try rows.first?.decode("removed", as: Int.self) ?? 0
    }

    private func work() async {
        while !Task.isCancelled {
            let generation = signal.generation
            var attempted = false
            do {
                attempted = try await attemptNextDue()
            } catch is CancellationError {
                return
            } catch {
                logger.error("notification dispatch failed", metadata: ["error": "\(error)"])
            }
            if !attempted { await signal.wait(since: generation, upTo: settings.pollInterval) }
        }
    }

    /// Claims one due delivery and attempts it; false when none is due.
    func attemptNextDue() async throws -> Bool {
        try await postgres.transaction { session in
            let claimed = try await session.query(
                "SELECT id::text AS id, tenant_id FROM notification.claim_due_delivery()")
            guard let claim = claimed.first else { return false }
            let id: String = try claim.decode("id")
            let tenant: String = try claim.decode("tenant_id")
            // From here on the row is read and written as the tenant's, under row-level security.
            _ = try await session.query("SELECT set_config('app.tenant_id', $1, true)", tenant)
            let rows = try await session.query(
                """
                SELECT channel, target_sealed, title, body, severity, payload, conversation_id, run_id,
                    idempotency_key, attempts, max_attempts,
                    (extract(epoch FROM created_at) * 1000000)::int8 AS created_us
                FROM notification.deliveries WHERE id = $1::uuid AND tenant_id = $2 AND status = 'pending'
                """, id, tenant)
            guard let row = rows.first else { return true }
            let attempts: Int = try row.decode("attempts")
            let maxAttempts: Int = try row.decode("max_attempts")
            let outcome: Outcome
            do {
                outcome = try await attempt(row, id: id, tenant: tenant, number: attempts + 1)
            } catch let error as PostgresError where error.code == .decoding {
                // A row that cannot be read would be claimed first again and again: give it up.
                outcome = .permanent(error: "the delivery cannot be read: \(error.message)", code: 0)
            }
            try await record(outcome, id: id, session: session, attempt: attempts + 1, maxAttempts: maxAttempts)
            logger.log(
                level: Self.level(of: outcome), "notification attempt",
                metadata: [
                    "delivery_id": "\(id)", "tenant_id": "\(tenant)", "attempt": "\(attempts + 1)",
                    "outcome": "\(outcome)",
                ])
            return true
        }
    }

    // MARK: One attempt

    private func attempt(_ row: PostgresRow, id: String, tenant: String, number: Int) async throws -> Outcome {
        var payload: JSONValue?
        if let bytes = row["payload"].flatMap([UInt8].init(postgresText:)) {
            payload = (try? Google_Protobuf_Struct(serializedBytes: bytes)).map { .object(ProtoJSON.members($0)) }
        }
        let createdMicroseconds = Double(try row.decode("created_us", as: Int64.self))
        let message = OutboxMessage(
            deliveryID: id,
            channel: Agentplane_V1_ChannelKind(rawValue: Int32(try row.decode("channel", as: Int.self))),
            title: try row.decode("title"), text: try row.decode("body"),
            severity: Agentplane_V1_NotificationSeverity(rawValue: Int32(try row.decode("severity", as: Int.self))),
            payload: payload, conversationID: try row.decode("conversation_id"), runID: try row.decode("run_id"),
            idempotencyKey: try row.decode("idempotency_key"),
            createdAt: Date(timeIntervalSince1970: createdMicroseconds / 1_000_000))
        if message.channel == .log {
            writeToLog(message, tenant: tenant)
            return .delivered(code: 0)
        }
        guard let sealed = row["target_sealed"] else {
            return .permanent(error: "the delivery has no target", code: 0)
        }
        guard let secretBox else {
            return .retry(
                error: "SECRET_BOX_KEYS is not set on this replica; cannot open the target", code: 0, after: nil)
        }
        let target: DeliveryTarget
        do {
            let json = try secretBox.openString(
                sealed, context: NotificationHandler.targetContext(tenant: tenant, delivery: id))
            target = try JSONDecoder().decode(DeliveryTarget.self, from: Data(json.utf8))
        } catch {
            return .permanent(
                error: "the target cannot be decrypted (were SECRET_BOX_KEYS changed?): \(error)", code: 0)
        }
        return try await send(message, to: target, attempt: number)
    }

    /// One HTTP POST of the channel's body, classified.
    func send(_ message: OutboxMessage, to target: DeliveryTarget, attempt: Int) async throws -> Outcome {
        guard let url = URL(string: target.url) else {
            return .permanent(error: "the target URL is malformed", code: 0)
        }
        var headers: OutboundHeaders = [
            "Content-Type": "application/json", "User-Agent": "agentplane-notification/1",
            // Constant across attempts: receivers de-duplicate on it.
            "Idempotency-Key": message.deliveryID, "X-Agentplane-Delivery": message.deliveryID,
            "X-Agentplane-Attempt": String(attempt),
        ]
        let body: [UInt8]
        switch message.channel {
        case .slack: body = ChannelPayloads.slack(message, channelName: target.channelName)
        case .teams: body = ChannelPayloads.teams(message)
        default:
            body = ChannelPayloads.webhook(message)
            for (name, value) in target.headers.sorted(by: { $0.key < $1.key }) {
                headers.add(name: name, value: value)
            }
            if !target.signingSecret.isEmpty {
                headers.add(
                    name: "X-Agentplane-Signature",
                    value: Self.signature(body: body, secret: target.signingSecret, at: Date()))
            }
        }
        let response: OutboundResponse
        do {
            response = try await http.execute(
                OutboundRequest(
                    method: .post, url: url, headers: headers, body: body, timeout: settings.httpTimeout,
                    maximumResponseBytes: 1 << 20, followsRedirects: false))
        } catch let error as OutboundHTTPError {
            if error.code == .policy, let reason = error.urlError?.reason {
                if case .unresolvable = reason { return .retry(error: error.description, code: 0, after: nil) }
                return .permanent(error: error.description, code: 0)
            }
            return .retry(error: error.description, code: 0, after: nil)
        }
        let status = response.status
        if (200..<300).contains(status) { return .delivered(code: status) }
        if (300..<400).contains(status) {
            // Not followed: a redirected POST may turn into a GET, or carry the signature and
            // extra headers to another origin. Slack and Teams never redirect.
            let host = response.headers.first(name: "location").flatMap { URL(string: $0)?.host } ?? "elsewhere"
            return .permanent(
                error: "HTTP \(status): the endpoint redirects to \(host); configure the final URL", code: status)
        }
        let error = "HTTP \(status)" + Self.snippet(response.body)
        if (400..<500).contains(status), status != 408, status != 429 {
            return .permanent(error: error, code: status)
        }
        let after = status == 429 || status == 503 ? retry.retryAfter(response.headers.first(name: "retry-after")) : nil
        return .retry(error: error, code: status, after: after)
    }

    /// `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`, as documented in notification.proto.
    static func signature(body: [UInt8], secret: String, at date: Date) -> String {
        let timestamp = String(Int64(date.timeIntervalSince1970))
        let signed = Array("\(timestamp).".utf8) + body
        let code = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: Array(secret.utf8)))
        return "t=\(timestamp),v1=" + code.map { String(format: "%02x", $0) }.joined()
    }

    private func writeToLog(_ message: OutboxMessage, tenant: String) {
        let level: Logger.Level =
            switch message.severity {
            case .warning: .warning
            case .critical: .critical
            default: .info
            }
        var metadata: Logger.Metadata = [
            "delivery_id": "\(message.deliveryID)", "tenant_id": "\(tenant)", "title": "\(message.title)",
            "text": "\(message.text)", "severity": "\(message.severityName)",
        ]
        if let payload = message.payload { metadata["data"] = "\(payload.jsonText)" }
        if !message.runID.isEmpty { metadata["run_id"] = "\(message.runID)" }
        if !message.conversationID.isEmpty { metadata["conversation_id"] = "\(message.conversationID)" }
        logger.log(level: level, "notification", metadata: metadata)
    }

    // MARK: Recording

    /// Writes an attempt's outcome; `WHERE status = 'pending'` makes a finished delivery final.
    private func record(
        _ outcome: Outcome, id: String, session: PostgresSession, attempt: Int, maxAttempts: Int
    ) async throws {
        switch outcome {
        case .delivered(let code):
            _ = try await session.query(
                """
                UPDATE notification.deliveries
                SET status = 'delivered', attempts = attempts + 1, last_response_code = $2,
                    last_attempt_at = clock_timestamp(), delivered_at = clock_timestamp(), next_attempt_at = NULL,
                    target_sealed = NULL
                WHERE id = $1::uuid AND status = 'pending'
                """, id, code)
        case .retry(let error, let code, let after) where attempt < maxAttempts:
            let wait = after ?? retry.backoff(afterAttempt: attempt)
            let milliseconds = wait.components.seconds * 1000 + wait.components.attoseconds / 1_000_000_000_000_000
            _ = try await session.query(
                """
                UPDATE notification.deliveries SET attempts = attempts + 1, last_error = $2, last_response_code = $3,
                    last_attempt_at = clock_timestamp(),
                    next_attempt_at = clock_timestamp() + $4::int8 * interval '1 millisecond'
                WHERE id = $1::uuid AND status = 'pending'
                """, id, Self.clipped(error), code, milliseconds)
        case .retry(let error, let code, _), .permanent(let error, let code):
            _ = try await session.query(
                """
                UPDATE notification.deliveries SET status = 'failed', attempts = attempts + 1, last_error = $2,
                    last_response_code = $3, last_attempt_at = clock_timestamp(), next_attempt_at = NULL,
                    target_sealed = NULL
                WHERE id = $1::uuid AND status = 'pending'
                """, id, Self.clipped(error), code)
        }
    }

    private static func level(of outcome: Outcome) -> Logger.Level {
        switch outcome {
        case .delivered: .info
        case .retry: .notice
        case .permanent: .warning
        }
    }

    /// `: <start of the body>` for an error message, printable characters only.
    private static func snippet(_ body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(200), as: UTF8.self)
            .map { $0.isNewline || $0.asciiValue.map { $0 < 0x20 } == true ? " " : String($0) }.joined()
            .trimmingCharacters(in: .whitespaces)
        return text.isEmpty ? "" : ": " + text
    }

    private static func clipped(_ error: String) -> String {
        error.count <= 1000 ? error : String(error.prefix(999)) + "…"
    }
}
