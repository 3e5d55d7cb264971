import Crypto
import FlowEngine
import Synchronization

/// Flows this replica has validated and compiled, by the SHA-256 of their JSON text: a
/// conversation's every message runs the same agent version, and parsing and compiling its flow
/// again for each run was the largest single cost of starting one. The text is the key, so an
/// edited flow is simply another entry. Bounded by the total size of the texts it holds
/// (`EXECUTION_FLOW_CACHE_BYTES`); past it, the cache starts over. A flow larger than a quarter
/// of the bound is validated every time and never kept.
final class FlowCache: Sendable {
    private struct State {
        var entries: [SHA256Digest: FlowValidation] = [:]
        var bytes = 0
    }

    /// The most bytes of flow text kept; 0 keeps none.
    let capacity: Int
    private let state = Mutex(State())

    /// An empty cache holding at most `capacity` bytes of flow text.
    init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    /// The validation of `json`, from the cache or done now (and kept).
    func validation(of json: String) -> FlowValidation {
        let size = json.utf8.count
        guard size <= capacity / 4 else { return FlowValidator.validate(json: json) }
        let key = SHA256.hash(data: Array(json.utf8))
        if let cached = state.withLock({ $0.entries[key] }) { return cached }
        let validation = FlowValidator.validate(json: json)
        state.withLock { state in
            guard state.entries[key] == nil else { return }
            if state.bytes + size > capacity {
                state.entries.removeAll(keepingCapacity: true)
                state.bytes = 0
            }
            state.entries[key] = validation
            state.bytes += size
        }
        return validation
    }

    /// How many flows are kept (for tests).
    var count: Int { state.withLock { $0.entries.count } }
}
