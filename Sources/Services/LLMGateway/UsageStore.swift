import Foundation
import Logging
import RPCModels
import RuntimePostgres
import Saturating
import Synchronization

/// Usage counters in `llm.usage_hourly`: requests, failures and tokens per tenant, model and hour
/// (days are sums of hours).
///
/// Calls add to counters kept in memory, written every `LLM_USAGE_FLUSH_INTERVAL` (one transaction
/// per tenant) and when the service stops; GetUsage writes its tenant's first, so it counts every
/// call this replica answered. A counter that cannot be written is kept for the next round. With
/// an interval of 0 each call writes its own.
final class UsageStore: Sendable {
    private struct Key: Hashable {
        let tenant: String
        let model: String
        /// The hour's start, in seconds since 1970.
        let hour: Int64
    }

    private struct Counts {
        var requests: Int64 = 0
        var failed: Int64 = 0
        var prompt: Int64 = 0
        var completion: Int64 = 0

        mutating func add(_ other: Counts) {
            requests = Saturating.add(requests, other.requests)
            failed = Saturating.add(failed, other.failed)
            prompt = Saturating.add(prompt, other.prompt)
            completion = Saturating.add(completion, other.completion)
        }
    }

    let postgres: PostgresPool
    let flushInterval: Duration
    private let pending = Mutex<[Key: Counts]>([:])

    init(postgres: PostgresPool, flushInterval: Duration) {
        self.postgres = postgres
        self.flushInterval = flushInterval
    }

    /// Adds one request's outcome to the current hour's counters.
    func record(tenant: String, model: String, failed: Bool, tokens: TokenCount) async throws {
        let hour = Int64(Date().timeIntervalSince1970 / 3600) * 3600
        let key = Key(tenant: tenant, model: model, hour: hour)
        let counts = Counts(
            requests: 1, failed: failed ? 1 : 0, prompt: Int64(tokens.prompt), completion: Int64(tokens.completion))
        guard flushInterval > .zero else {
            try await write([(key, counts)], tenant: tenant)
            return
        }
        pending.withLock { $0[key, default: Counts()].add(counts) }
    }

    /// Writes the counters kept so far (only `tenant`'s, when given); those that fail stay kept
    /// and the first error is thrown.
    func flush(tenant: String? = nil) async throws {
        let taken = pending.withLock { pending -> [Key: Counts] in
            guard let tenant else {
                defer { pending.removeAll() }
                return pending
            }
            let mine = pending.filter { $0.key.tenant == tenant }
            for key in mine.keys { pending[key] = nil }
            return mine
        }
        var firstError: (any Error)?
        for (tenant, entries) in Dictionary(grouping: taken, by: \.key.tenant) {
            do {
                try await write(entries.map { ($0.key, $0.value) }, tenant: tenant)
            } catch {
                firstError = firstError ?? error
                pending.withLock { pending in
                    for (key, counts) in entries { pending[key, default: Counts()].add(counts) }
                }
            }
        }
        if let firstError { throw firstError }
    }

    /// Writes the counters every interval until cancelled, then once more.
    func run(logger: Logger) async {
        guard flushInterval > .zero else { return }
        while (try? await Task.sleep(for: flushInterval)) != nil {
            do { try await flush() } catch {
                logger.warning("cannot write usage counters; kept for the next round", metadata: ["error": "\(error)"])
            }
        }
        do { try await flush() } catch {
            logger.error("usage counters lost at shutdown", metadata: ["error": "\(error)"])
        }
    }

    private static let upsert = """
        INSERT INTO llm.usage_hourly (tenant_id, model, hour, requests, failed_requests, prompt_tokens,
            completion_tokens)
        VALUES ($1, $2, to_timestamp($3::int8), $4, $5, $6, $7)
        ON CONFLICT (tenant_id, hour, model) DO UPDATE SET
            requests = usage_hourly.requests + EXCLUDED.requests,
            failed_requests = usage_hourly.failed_requests + EXCLUDED.failed_requests,
            prompt_tokens = usage_hourly.prompt_tokens + EXCLUDED.prompt_tokens,
            completion_tokens = usage_hourly.completion_tokens + EXCLUDED.completion_tokens
        """

    private func write(_ entries: [(Key, Counts)], tenant: String) async throws {
        try await postgres.transaction(tenant: tenant) { session in
            for (index, (key, counts)) in entries.enumerated() {
                let parameters: [(any PostgresEncodable)?] = [
                    key.tenant, key.model, key.hour, counts.requests, counts.failed, counts.prompt, counts.completion,
                ]
                // The last upsert carries the COMMIT.
                if index == entries.count - 1 {
                    _ = try await session.queryCommitting(Self.upsert, parameters)
                } else {
                    _ = try await session.query(Self.upsert, parameters)
                }
            }
        }
    }

    /// Buckets of `granularity` between `start` (inclusive) and `end` (exclusive), oldest first,
    /// then by model; and the tokens used today (UTC).
    func report(
        tenant: String, start: Date, end: Date, hourly: Bool, model: String?
    ) async throws -> (buckets: [Agentplane_V1_UsageBucket], today: Int64) {
        try await postgres.transaction(tenant: tenant) { session in
            let unit = hourly ? "hour" : "day"
            let rows = try await session.query(
                """
                SELECT extract(epoch FROM date_trunc('\(unit)', hour AT TIME ZONE 'UTC'))::bigint AS bucket, model,
                    sum(requests)::bigint AS requests, sum(failed_requests)::bigint AS failed,
                    sum(prompt_tokens)::bigint AS prompt, sum(completion_tokens)::bigint AS completion
                FROM llm.usage_hourly
                WHERE tenant_id = $1 AND hour >= to_timestamp($2::float8) AND hour < to_timestamp($3::float8)
                    AND ($4::text IS NULL OR model = $4)
                GROUP BY 1, 2 ORDER BY 1, 2
                """, tenant, start.timeIntervalSince1970, end.timeIntervalSince1970, model)
            let buckets = try rows.map { row in
                let prompt: Int64 = try row.decode("prompt")
                let completion: Int64 = try row.decode("completion")
                return Agentplane_V1_UsageBucket(
                    startTime: Google_Protobuf_Timestamp(
                        date: Date(timeIntervalSince1970: Double(try row.decode("bucket", as: Int64.self)))),
                    model: try row.decode("model"), requests: try row.decode("requests"),
                    failedRequests: try row.decode("failed"),
                    usage: Agentplane_V1_TokenUsage(
                        promptTokens: prompt, completionTokens: completion, totalTokens: prompt + completion))
            }
            let today = try await session.query(
                """
                SELECT coalesce(sum(prompt_tokens + completion_tokens), 0)::bigint AS used FROM llm.usage_hourly
                WHERE tenant_id = $1 AND hour >= date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
                """, tenant)
            return (buckets, try today.first?.decode("used", as: Int64.self) ?? 0)
        }
    }
}
