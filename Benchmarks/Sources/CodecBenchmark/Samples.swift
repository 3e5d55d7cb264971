/// The field values of the benchmarked messages, shared by both contenders so that each library
/// builds the identical message. Built at run time, so the optimiser cannot fold them.
enum Samples {
    /// `Agent.flow_json`: about 4 KB of flow JSON, the same as `CodecCorpus.agent`'s.
    static let flowJSON =
        "{\"nodes\":["
        + (0..<75).map { "{\"id\":\"n\($0)\",\"kind\":\"tool\",\"params\":{\"query\":\"lookup \($0)\"}}" }
        .joined(separator: ",") + "]}"

    /// `Agent.tags`: 20 short tags.
    static let tags = (0..<20).map { "tag-\($0)" }

    /// `Agent.metadata`: five entries, one with an empty key.
    static let metadata = [
        "team": "support", "owner": "ops@example.com", "tier": "gold", "region": "eu", "": "empty",
    ]

    /// `FieldViolation`'s three strings: two short, one past the 15-byte small-string limit.
    static let violation = (
        field: "$.nodes[2].config.tool_id", code: "UNKNOWN_TOOL",
        explanation: "node n2 refers to tool t-9, which does not exist in this tenant"
    )

    /// `TokenUsage`'s three counts.
    static let usage = (prompt: Int64(1_234), completion: Int64(567), total: Int64(1_801))
}
