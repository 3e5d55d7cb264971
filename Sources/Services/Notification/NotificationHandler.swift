import Crypto
import Foundation
import Logging
import RPCCore
import RPCModels
import Runtime
import RuntimeHTTP
import RuntimePostgres
import RuntimeSecurity

/// NotificationService's RPCs: Notify records a delivery in the outbox (the dispatcher sends
/// it), GetDelivery and ListDeliveries report on them.
struct NotificationHandler: Agentplane_V1_NotificationService.ServiceProtocol {
    let environment: ServiceEnvironment
    let settings: NotificationSettings
    let dispatcher: Dispatcher
    let rateLimiter: RateLimiter
    /// Keys request fingerprints (see `ValidatedNotification.fingerprint`).
    let fingerprintKey: SymmetricKey

    /// The creation times a page token may carry, in microseconds since 1970: about ±1100
    /// years, inside PostgreSQL's timestamp range.
    static let cursorRange: ClosedRange<Int64> = -(1 << 55)...(1 << 55)

    /// Idempotency keys are honoured for a day, per common.proto.
    private static let keyLifetime = "24 hours"

    private struct KeyTaken: Error {}
    private struct RateLimited: Error {
        let wait: Duration
    }

    // MARK: Notify

    func notify(request: Agentplane_V1_NotifyRequest, context: ServerContext) async throws
        -> Agentplane_V1_NotifyResponse
    {
        let auth = try Self.caller(minimum: .builder)
        let tenant = auth.tenantID
        let notification = try ValidatedNotification(request, policy: environment.http.policy)
        let fingerprint = notification.fingerprint(key: fingerprintKey)
        // Checked before the rate limit, so a request that cannot be recorded does not count.
        let box = notification.target == nil ? nil : try environment.requireSecretBox()
        let id = UUID().uuidString.lowercased()
        var sealed: String?
        if let target = notification.target, let box {
            let json = String(decoding: try JSONEncoder().encode(target), as: UTF8.self)
            sealed = try box.sealString(json, context: Self.targetContext(tenant: tenant, delivery: id))
        }
        // One transaction: the delivery, its key (a key used already is a replay: rolled back, and
        // answered with the first call's delivery, without counting against the rate limit), then
        // the rate limit (over it: rolled back, nothing recorded).
        let created: Agentplane_V1_Delivery?
        do {
            created = try await environment.postgres.transaction(tenant: tenant) { session in
                let rows = try await session.query(
                    """
                    INSERT INTO notification.deliveries (id, tenant_id, channel, target_display, target_sealed,
                        title, body, severity, payload, conversation_id, run_id, idempotency_key, status, max_attempts,
                        next_attempt_at)
                    VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, $8, $9::bytea, $10, $11, $12, 'pending', $13, now())
                    RETURNING \(DeliveryRecord.columns)
                    """,
                    [
                        id, tenant, Int(notification.channel.rawValue), notification.targetDisplay, sealed,
                        notification.title, notification.text, Int(notification.severity.rawValue),
                        notification.payload?.serializedBytes(), notification.conversationID, notification.runID,
                        notification.idempotencyKey, settings.maxAttempts,
                    ])
                if !notification.idempotencyKey.isEmpty {
                    _ = try await session.query(
                        """
                        DELETE FROM notification.idempotency_keys
                        WHERE tenant_id = $1 AND key = $2 AND created_at <= now() - interval '\(Self.keyLifetime)'
                        """, tenant, notification.idempotencyKey)
                    let inserted = try await session.query(
                        """
                        INSERT INTO notification.idempotency_keys (tenant_id, key, fingerprint, delivery_id)
                        VALUES ($1, $2, $3, $4::uuid) ON CONFLICT DO NOTHING RETURNING delivery_id
                        """, tenant, notification.idempotencyKey, fingerprint, id)
                    // A call with the same key committed first: drop ours, answer with theirs.
                    if inserted.isEmpty { throw KeyTaken() }
                }
                if let wait = try await rateLimiter.admit(tenant: tenant) { throw RateLimited(wait: wait) }
                return try rows.first.map(DeliveryRecord.delivery(from:))
            }
        } catch let limited as RateLimited {
            throw RPCError.withDetails(
                .resourceExhausted,
                "the tenant's notification rate limit (\(settings.rateLimitPerMinute) per minute) is reached; "
                    + "retry later", reason: "RATE_LIMITED", retryAfter: limited.wait)
        } catch is KeyTaken {
            guard
                let replay = try await replay(
                    tenant: tenant, key: notification.idempotencyKey, fingerprint: fingerprint)
            else {
                throw RPCError(code: .aborted, message: "a concurrent call used the same idempotency_key; retry")
            }
            return try await respond(replay, replayed: true, wait: request.waitForFirstAttempt, tenant: tenant, context)
        }
        dispatcher.wake()
        // As inserted (pending, no attempt yet): read again only to wait for the first attempt.
        if let created, !request.waitForFirstAttempt {
            return Agentplane_V1_NotifyResponse(delivery: created, replayed: false)
        }
        return try await respond(id, replayed: false, wait: request.waitForFirstAttempt, tenant: tenant, context)
    }

    /// The delivery an earlier call with `key` created, or nil; FAILED_PRECONDITION when that
    /// call was a different request.
    private func replay(tenant: String, key: String, fingerprint: String) async throws -> String? {
        let rows = try await environment.postgres.transaction(tenant: tenant) { session in
            try await session.query(
                """
                SELECT fingerprint, delivery_id::text AS delivery_id FROM notification.idempotency_keys
                WHERE tenant_id = $1 AND key = $2 AND created_at > now() - interval '\(Self.keyLifetime)'
                """, tenant, key)
        }
        guard let row = rows.first else { return nil }
        guard try row.decode("fingerprint", as: String.self) == fingerprint else {
            throw RPCError.withDetails(
                .failedPrecondition,
                "idempotency_key \"\(key)\" was used with a different request; use a new key for a new notification",
                reason: "IDEMPOTENCY_KEY_REUSED")
        }
        return try row.decode("delivery_id", as: String.self)
    }

    private func respond(
        _ id: String, replayed: Bool, wait: Bool, tenant: String, _ context: ServerContext
    ) async throws -> Agentplane_V1_NotifyResponse {
        var delivery = try await fetch(id: id, tenant: tenant)
        if wait, let found = delivery, found.status == .pending, found.attempts == 0 {
            delivery = try await waitForFirstAttempt(id: id, tenant: tenant, context)
        }
        guard let delivery else {
            throw RPCError(code: .notFound, message: "delivery \(ClientInput.excerpt(id)) vanished")
        }
        return Agentplane_V1_NotifyResponse(delivery: delivery, replayed: replayed)
    }

    /// Polls the outbox until the first attempt (by any replica) is recorded, or until shortly
    /// before the call's deadline (without one: the HTTP timeout plus a margin).
    private func waitForFirstAttempt(
        id: String, tenant: String, _ context: ServerContext
    ) async throws -> Agentplane_V1_Delivery? {
        let budget = min(
            context.timeRemaining.map { $0 - .milliseconds(250) } ?? settings.httpTimeout + .seconds(5), .seconds(120))
        let deadline = ContinuousClock.now + budget
        var pause = Duration.milliseconds(20)
        var delivery = try await fetch(id: id, tenant: tenant)
        while let current = delivery, current.status == .pending, current.attempts == 0,
            ContinuousClock.now + pause < deadline
        {
            try await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(200))
            delivery = try await fetch(id: id, tenant: tenant)
        }
        return delivery
    }

    // MARK: Reading

    func getDelivery(
        request: Agentplane_V1_GetDeliveryRequest, context: ServerContext
    ) async throws -> Agentplane_V1_GetDeliveryResponse {
        let auth = try Self.caller(minimum: .admin)
        guard !request.deliveryID.isEmpty else {
            throw RPCError.invalidField("delivery_id", code: "MISSING_FIELD", "delivery_id is required")
        }
        guard let delivery = try await fetch(id: request.deliveryID, tenant: auth.tenantID) else {
            throw RPCError(code: .notFound, message: "no delivery \(ClientInput.excerpt(request.deliveryID))")
        }
        return Agentplane_V1_GetDeliveryResponse(delivery: delivery)
    }

    func listDeliveries(
        request: Agentplane_V1_ListDeliveriesRequest, context: ServerContext
    ) async throws -> Agentplane_V1_ListDeliveriesResponse {
        let auth = try Self.caller(minimum: .admin)
        let size = try Pagination.pageSize(request.pageSize)
        var status: String?
        if request.status != .unspecified {
            guard let text = DeliveryRecord.statusText(request.status) else {
                throw RPCError.invalidField("status", code: "UNKNOWN", "status is not a DeliveryStatus")
            }
            status = text
        }
        var channel: Int?
        switch request.channel {
        case .unspecified: break
        case .slack, .teams, .webhook, .log: channel = Int(request.channel.rawValue)
        case .UNRECOGNIZED: throw RPCError.invalidField("channel", code: "UNKNOWN", "channel is not a ChannelKind")
        }
        let filters = "status=\(request.status.rawValue)|channel=\(request.channel.rawValue)|run=\(request.runID)"
        var after: (microseconds: Int64, id: String)?
        if let cursor = try Pagination.cursor(from: request.pageToken, filters: filters) {
            // A token is the client's to forge: a time PostgreSQL cannot hold would fail the query.
            guard cursor.count == 2, let microseconds = Int64(cursor[0]), Self.cursorRange.contains(microseconds),
                UUID(uuidString: cursor[1]) != nil
            else {
                throw RPCError.invalidField(
                    "page_token", code: "MALFORMED", "page_token is not one this service issued")
            }
            after = (microseconds, cursor[1])
        }
        let tenant = auth.tenantID
        let rows = try await environment.postgres.transaction(tenant: tenant) { session in
            try await session.query(
                """
                SELECT \(DeliveryRecord.columns) FROM notification.deliveries
                WHERE tenant_id = $1 AND ($2::text IS NULL OR status = $2) AND ($3::int IS NULL OR channel = $3)
                    AND ($4 = '' OR run_id = $4)
                    AND ($5::int8 IS NULL OR (created_at, id)
                        < (timestamptz 'epoch' + $5::int8 * interval '1 microsecond', $6::uuid))
                ORDER BY created_at DESC, id DESC
                LIMIT $7
                """, [tenant, status, channel, request.runID, after?.microseconds, after?.id, size + 1])
        }
        var response = Agentplane_V1_ListDeliveriesResponse()
        for row in rows.prefix(size) { response.deliveries.append(try DeliveryRecord.delivery(from: row)) }
        if rows.count > size, let last = rows.prefix(size).last, let created = last["created_us"],
            let id = last["id"]
        {
            response.nextPageToken = Pagination.token(cursor: [created, id], filters: filters)
        }
        return response
    }

    private func fetch(id: String, tenant: String) async throws -> Agentplane_V1_Delivery? {
        // Not a UUID: no such delivery (never a syntax error that would tell ids apart).
        guard UUID(uuidString: id) != nil else { return nil }
        let rows = try await environment.postgres.transaction(tenant: tenant) { session in
            try await session.query(
                "SELECT \(DeliveryRecord.columns) FROM notification.deliveries WHERE id = $1::uuid AND tenant_id = $2",
                id, tenant)
        }
        return try rows.first.map(DeliveryRecord.delivery(from:))
    }

    // MARK: Helpers

    /// The caller: a service token, or a person with at least `minimum` (the auth policy
    /// checked this already; checked again so the handler is safe on its own).
    private static func caller(minimum: Role) throws(RPCError) -> AuthContext {
        guard let auth = AuthContext.current else {
            throw RPCError(code: .unauthenticated, message: "this call requires credentials")
        }
        if auth.role == .service { return auth }
        return try AuthContext.require(minimum: minimum)
    }

    /// The secret box context of a delivery's target: bound to its tenant and id, so a sealed
    /// target cannot be moved to another row.
    static func targetContext(tenant: String, delivery: String) -> String {
        "notification/\(tenant)/delivery/\(delivery)/target"
    }
}
