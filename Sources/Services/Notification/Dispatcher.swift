import Crypto
import FlowEngine
import FlowEngineProto
import Foundation
import Logging
import RPCModels
import RuntimeHTTP
import RuntimePostgres
import RuntimeSecurity
import Saturating
import Synchronization

/// Sends pending deliveries from the outbox, across tenants, with retries.
///
/// A dispatcher claims a batch of due deliveries (`claim_due_deliveries()`, see migration 0003):
/// each gets the dispatcher's claim id and a lease (`NOTIFICATION_CLAIM_LEASE`), and the claim
/// commits at once. The endpoints are then called without holding a database connection or a
/// lock, each attempt bounded by its lease, and each outcome is recorded in a short transaction
/// of its own, only while the claim is still this dispatcher's. A dispatcher that stops releases
/// its claims; one that crashes leaves them to expire, after which another dispatcher retries.
///
/// Fairness: a tenant has at most `NOTIFICATION_TENANT_CONCURRENCY` attempts in flight (all
/// replicas together), and a batch is filled round-robin across tenants, those with fewer
/// attempts in flight first. So one tenant's slow endpoint occupies at most that many slots, and
/// another tenant's delivery waits at most until one attempt ends (one `NOTIFICATION_HTTP_TIMEOUT`).
final class Dispatcher: Sendable {
    private let postgres: PostgresPool
    private let http: OutboundHTTPClient
    private let secretBox: SecretBox?
    private let logger: Logger
    private let settings: NotificationSettings
    private let retry: RetryPolicy
    private let signal = WakeSignal()
    /// Attempts this replica is running.
    private let running = Mutex(0)

    /// What one attempt came to.
    enum Outcome: Sendable, Equatable {
        /// Accepted (2xx, or written to the log); the HTTP status, 0 for the log.
        case delivered(code: Int)
        /// Failed, may succeed later; after a wait the receiver asked for, if it did.
        case retry(error: String, code: Int, after: Duration?)
        /// Failed for good (4xx other than 408 and 429, a refused URL).
        case permanent(error: String, code: Int)
    }

    /// A delivery this dispatcher claimed: its claim id, and when the lease ends on this
    /// replica's clock (measured from before the claim, so never later than the database's).
    struct Claim: Sendable {
        var id: String
        var tenant: String
        /// Attempts recorded before this one.
        var attempts: Int
        var token: UUID
        var deadline: ContinuousClock.Instant
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

    /// Runs the claiming loop, its attempts, and the retention clean-up, until cancelled; then
    /// waits for the attempts in flight to end (a cancelled attempt releases its claim).
    func run() async {
        await withDiscardingTaskGroup { group in
            if settings.retention > .zero {
                group.addTask { await self.purgeRegularly() }
            }
            while !Task.isCancelled {
                let generation = signal.generation
                let free = settings.dispatchConcurrency - running.withLock { $0 }
                if free > 0 {
                    do {
                        for claim in try await claim(upTo: free) {
                            running.withLock { $0 += 1 }
                            group.addTask {
                                await self.attempt(claim)
                                self.running.withLock { $0 -= 1 }
                                // A slot is free: claim again (another tenant's turn, perhaps).
                                self.signal.wake()
                            }
                        }
                    } catch is CancellationError {
                        break
                    } catch {
                        logger.error("claiming notification deliveries failed", metadata: ["error": "\(error)"])
                    }
                }
                await signal.wait(since: generation, upTo: settings.pollInterval)
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
        let rows = try await postgres.query(
            "SELECT notification.purge_finished_deliveries($1::int8) AS removed",
            settings.retention.saturatingMilliseconds)
        return try rows.first?.decode("removed", as: Int.self) ?? 0
    }

    // MARK: Claims

    /// Claims up to `batch` due deliveries (fairly across tenants) and commits the claims.
    func claim(upTo batch: Int) async throws -> [Claim] {
        let token = UUID()
        let deadline = ContinuousClock.now + settings.claimLease
        let rows = try await postgres.query(
            """
            SELECT id::text AS id, tenant_id, attempts
            FROM notification.claim_due_deliveries($1::uuid, $2::int4, $3::int4, $4::int8)
            """, token.uuidString, batch, settings.tenantConcurrency, settings.claimLease.saturatingMilliseconds)
        return try rows.map { row in
            Claim(
                id: try row.decode("id"), tenant: try row.decode("tenant_id"), attempts: try row.decode("attempts"),
                token: token, deadline: deadline)
        }
    }

    /// Gives a claim back without counting an attempt (the dispatcher is stopping, or could not
    /// read the delivery). Runs even when the calling task is cancelled.
    private func release(_ claim: Claim) async {
        let postgres = self.postgres
        let done = Task {
            try await postgres.transaction(tenant: claim.tenant) { session in
                _ = try await session.query(
                    """
                    UPDATE notification.deliveries SET claim_id = NULL, claimed_until = NULL
                    WHERE id = $1::uuid AND tenant_id = $2 AND claim_id = $3::uuid
                    """, claim.id, claim.tenant, claim.token.uuidString)
            }
        }
        do {
            try await done.value
        } catch {
            logger.warning(
                "releasing a notification claim failed; it expires with its lease",
                metadata: ["delivery_id": "\(claim.id)", "error": "\(error)"])
        }
    }

    /// One attempt of a claimed delivery: read it, send it (no connection held), record it.
    func attempt(_ claim: Claim) async {
        let row: PostgresRow?
        do {
            row = try await postgres.transaction(tenant: claim.tenant) { session in
                try await session.query(
                    """
                    SELECT channel, target_sealed, title, body, severity, payload, conversation_id, run_id,
                        idempotency_key, attempts, max_attempts,
                        (extract(epoch FROM created_at) * 1000000)::int8 AS created_us
                    FROM notification.deliveries
                    WHERE id = $1::uuid AND tenant_id = $2 AND status = 'pending' AND claim_id = $3::uuid
                    """, claim.id, claim.tenant, claim.token.uuidString
                ).first
            }
        } catch {
            if !(error is CancellationError) {
                logger.error(
                    "reading a claimed delivery failed", metadata: ["delivery_id": "\(claim.id)", "error": "\(error)"])
            }
            await release(claim)
            return
        }
        guard let row else { return }
        let number = claim.attempts + 1
        let outcome: Outcome
        do {
            let maxAttempts: Int = try row.decode("max_attempts")
            do {
                outcome = try await attempt(row, claim: claim, number: number)
            } catch let error as PostgresError where error.code == .decoding {
                // A row that cannot be read would be claimed again and again: give it up.
                outcome = .permanent(error: "the delivery cannot be read: \(error.message)", code: 0)
            }
            // Recorded even when the dispatcher is stopping: the attempt happened.
            let recorded = try await Task {
                try await self.record(outcome, claim: claim, attempt: number, maxAttempts: maxAttempts)
            }.value
            logger.log(
                level: recorded ? Self.level(of: outcome) : .warning,
                recorded ? "notification attempt" : "notification attempt not recorded: the claim had expired",
                metadata: [
                    "delivery_id": "\(claim.id)", "tenant_id": "\(claim.tenant)", "attempt": "\(number)",
                    "outcome": "\(outcome)",
                ])
        } catch is CancellationError {
            // Cut off by a stop: not counted, and free for another dispatcher at once.
            await release(claim)
        } catch is LeaseEnded {
            await release(claim)
        } catch {
            // The attempt was made but not recorded (the database failed): the claim is left to
            // expire, and then counts as an interrupted attempt, rather than sent again at once.
            logger.error(
                "recording a notification attempt failed; it counts when its claim expires",
                metadata: ["delivery_id": "\(claim.id)", "error": "\(error)"])
        }
    }

    /// The claim's lease has too little time left for an attempt (the claim waited too long).
    private struct LeaseEnded: Error {}

    // MARK: One attempt

    private func attempt(_ row: PostgresRow, claim: Claim, number: Int) async throws -> Outcome {
        let id = claim.id
        let tenant = claim.tenant
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
        // The attempt ends within the claim's lease, so no other dispatcher sends it meanwhile.
        let timeout = min(settings.httpTimeout, claim.deadline - ContinuousClock.now)
        guard timeout > .zero else { throw LeaseEnded() }
        return try await send(message, to: target, attempt: number, timeout: timeout)
    }

    /// One HTTP POST of the channel's body, classified.
    func send(
        _ message: OutboxMessage, to target: DeliveryTarget, attempt: Int, timeout: Duration
    ) async throws -> Outcome {
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
                    method: .post, url: url, headers: headers, body: body, timeout: timeout,
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

    /// Writes an attempt's outcome in a transaction of its own, and ends the claim. `WHERE
    /// status = 'pending'` makes a finished delivery final, and the claim id that only this
    /// claim's outcome is written; false when the claim had expired and was taken over.
    private func record(_ outcome: Outcome, claim: Claim, attempt: Int, maxAttempts: Int) async throws -> Bool {
        let id = claim.id
        let token = claim.token.uuidString
        let rows = try await postgres.transaction(tenant: claim.tenant) { session -> [PostgresRow] in
            switch outcome {
            case .delivered(let code):
                return try await session.query(
                    """
                    UPDATE notification.deliveries
                    SET status = 'delivered', attempts = attempts + 1, last_response_code = $2,
                        last_attempt_at = clock_timestamp(), delivered_at = clock_timestamp(), next_attempt_at = NULL,
                        target_sealed = NULL, claim_id = NULL, claimed_until = NULL
                    WHERE id = $1::uuid AND status = 'pending' AND claim_id = $3::uuid
                    RETURNING id
                    """, id, code, token)
            case .retry(let error, let code, let after) where attempt < maxAttempts:
                // Capped (ten years) so that no configured wait overflows PostgreSQL's timestamps.
                let wait = min(after ?? retry.backoff(afterAttempt: attempt), .seconds(RetryPolicy.longestDateWait))
                return try await session.query(
                    """
                    UPDATE notification.deliveries SET attempts = attempts + 1, last_error = $2,
                        last_response_code = $3, last_attempt_at = clock_timestamp(),
                        next_attempt_at = clock_timestamp() + $4::int8 * interval '1 millisecond',
                        claim_id = NULL, claimed_until = NULL
                    WHERE id = $1::uuid AND status = 'pending' AND claim_id = $5::uuid
                    RETURNING id
                    """, id, Self.clipped(error), code, wait.saturatingMilliseconds, token)
            case .retry(let error, let code, _), .permanent(let error, let code):
                return try await session.query(
                    """
                    UPDATE notification.deliveries SET status = 'failed', attempts = attempts + 1, last_error = $2,
                        last_response_code = $3, last_attempt_at = clock_timestamp(), next_attempt_at = NULL,
                        target_sealed = NULL, claim_id = NULL, claimed_until = NULL
                    WHERE id = $1::uuid AND status = 'pending' AND claim_id = $4::uuid
                    RETURNING id
                    """, id, Self.clipped(error), code, token)
            }
        }
        return !rows.isEmpty
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
