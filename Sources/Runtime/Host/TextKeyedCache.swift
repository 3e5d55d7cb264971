import Crypto
import Synchronization

/// Values computed from a text (a flow's JSON, say), kept by the SHA-256 of the text so the
/// text itself is not held, and bounded by the total size of the texts they were computed from:
/// past `capacity` bytes the cache starts over, and a text larger than a quarter of it is never
/// kept (its value is computed every time).
public final class TextKeyedCache<Value: Sendable>: Sendable {
    private struct State: Sendable {
        var entries: [SHA256Digest: Value] = [:]
        var bytes = 0
    }

    /// The most bytes of text whose values are kept; 0 keeps none.
    public let capacity: Int
    private let state = Mutex(State())

    /// An empty cache for texts of at most `capacity` bytes together.
    public init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    /// The value for `text`: the kept one, or `compute(text)`, kept from now on.
    public func value(for text: String, _ compute: (String) throws -> Value) rethrows -> Value {
        let size = text.utf8.count
        guard capacity > 0, size <= capacity / 4 else { return try compute(text) }
        let key = SHA256.hash(data: Array(text.utf8))
        if let kept = state.withLock({ $0.entries[key] }) { return kept }
        let value = try compute(text)
        state.withLock { state in
            guard state.entries[key] == nil else { return }
            if state.bytes + size > capacity {
                state.entries.removeAll(keepingCapacity: true)
                state.bytes = 0
            }
            state.entries[key] = value
            state.bytes += size
        }
        return value
    }

    /// How many values are kept.
    public var count: Int { state.withLock { $0.entries.count } }
}
