import Foundation
import RPCModels
import RuntimePostgres

/// Usage counters in `llm.usage_hourly`: requests, failures and tokens per tenant, model and hour
/// (days are sums of hours).
struct UsageStore: Sendable {
    let postgres: PostgresPool

    /// Adds one request's outcome to the current hour's counters.
    func record(tenant: String, model: String, failed: Bool, tokens: TokenCount) async throws {
        _ = try await postgres.transaction(tenant: tenant) { session in
            try await session.query(
                """
                INSERT INTO llm.usage_hourly (tenant_id, model, hour, requests, failed_requests, prompt_tokens,
                    completion_tokens)
                VALUES ($1, $2, date_trunc('hour', now()), 1, $3, $4, $5)
                ON CONFLICT (tenant_id, hour, model) DO UPDATE SET
                    requests = usage_hourly.requests + 1,
                    failed_requests = usage_hourly.failed_requests + EXCLUDED.failed_requests,
                    prompt_tokens = usage_hourly.prompt_tokens + EXCLUDED.prompt_tokens,
                    completion_tokens = usage_hourly.completion_tokens + EXCLUDED.completion_tokens
                """, tenant, model, failed ? 1 : 0, tokens.prompt, tokens.completion)
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
