import FlowEngine
import Runtime

/// Flows this replica has validated and compiled, by their JSON text: a conversation's every
/// message runs the same agent version, and parsing and compiling its flow again for each run
/// was the largest single cost of starting one. The text is the key, so an edited flow is simply
/// another entry. Bounded by the total size of the texts (`EXECUTION_FLOW_CACHE_BYTES`).
struct FlowCache: Sendable {
    private let cache: TextKeyedCache<FlowValidation>

    /// An empty cache holding at most `capacity` bytes of flow text.
    init(capacity: Int) {
        cache = TextKeyedCache(capacity: capacity)
    }

    /// The validation of `json`, from the cache or done now (and kept).
    func validation(of json: String) -> FlowValidation {
        cache.value(for: json) { FlowValidator.validate(json: $0) }
    }
}
