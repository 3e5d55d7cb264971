import RPCModels
import RuntimePostgres

/// Reading deliveries from the outbox as the API shows them.
enum DeliveryRecord {
    /// The columns `delivery(from:)` reads, for `SELECT … FROM notification.deliveries`.
    static let columns = """
        id::text AS id, channel, target_display, title, severity, status, attempts, max_attempts, last_error,
        last_response_code, idempotency_key, conversation_id, run_id,
        (extract(epoch FROM created_at) * 1000000)::int8 AS created_us,
        (extract(epoch FROM last_attempt_at) * 1000000)::int8 AS last_attempt_us,
        (extract(epoch FROM next_attempt_at) * 1000000)::int8 AS next_attempt_us,
        (extract(epoch FROM delivered_at) * 1000000)::int8 AS delivered_us
        """

    /// A row as the API's `Delivery`.
    static func delivery(from row: PostgresRow) throws -> Agentplane_V1_Delivery {
        var delivery = Agentplane_V1_Delivery()
        delivery.id = try row.decode("id")
        delivery.channel = Agentplane_V1_ChannelKind(rawValue: Int32(try row.decode("channel", as: Int.self)))
        delivery.targetDisplay = try row.decode("target_display")
        delivery.title = try row.decode("title")
        delivery.severity = Agentplane_V1_NotificationSeverity(
            rawValue: Int32(try row.decode("severity", as: Int.self)))
        delivery.status = status(try row.decode("status"))
        delivery.attempts = Int32(try row.decode("attempts", as: Int.self))
        delivery.maxAttempts = Int32(try row.decode("max_attempts", as: Int.self))
        delivery.lastError = try row.decode("last_error")
        delivery.lastResponseCode = Int32(try row.decode("last_response_code", as: Int.self))
        delivery.idempotencyKey = try row.decode("idempotency_key")
        delivery.conversationID = try row.decode("conversation_id")
        delivery.runID = try row.decode("run_id")
        delivery.createdAt = timestamp(row["created_us"])
        delivery.lastAttemptAt = timestamp(row["last_attempt_us"])
        if delivery.status == .pending { delivery.nextAttemptAt = timestamp(row["next_attempt_us"]) }
        if delivery.status == .delivered { delivery.deliveredAt = timestamp(row["delivered_us"]) }
        return delivery
    }

    /// The API's status for the column's text.
    static func status(_ text: String) -> Agentplane_V1_DeliveryStatus {
        switch text {
        case "pending": .pending
        case "delivered": .delivered
        case "failed": .failed
        default: .unspecified
        }
    }

    /// The column's text for a status filter.
    static func statusText(_ status: Agentplane_V1_DeliveryStatus) -> String? {
        switch status {
        case .pending: "pending"
        case .delivered: "delivered"
        case .failed: "failed"
        default: nil
        }
    }

    /// Microseconds since 1970 as a protobuf timestamp; nil for NULL.
    static func timestamp(_ microseconds: String?) -> Google_Protobuf_Timestamp? {
        guard let microseconds, let value = Int64(microseconds) else { return nil }
        let seconds = value >= 0 ? value / 1_000_000 : (value - 999_999) / 1_000_000
        return Google_Protobuf_Timestamp(seconds: seconds, nanos: Int32((value - seconds * 1_000_000) * 1000))
    }
}
