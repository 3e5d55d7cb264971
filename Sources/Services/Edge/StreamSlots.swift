import Synchronization

/// Open event streams per tenant, under `EDGE_MAX_SSE_STREAMS_PER_TENANT`: one tenant's
/// streams cannot use up the edge's connections for everyone.
final class StreamSlots: Sendable {
    private let limit: Int
    private let open = Mutex<[String: Int]>([:])

    init(limit: Int) {
        self.limit = limit
    }

    /// Takes a slot for `owner`; false when it has `limit` open already.
    func acquire(_ owner: String) -> Bool {
        open.withLock { open in
            let count = open[owner, default: 0]
            guard count < limit else { return false }
            open[owner] = count + 1
            return true
        }
    }

    /// Gives back a slot taken by `acquire`.
    func release(_ owner: String) {
        open.withLock { open in
            let count = open[owner, default: 0] - 1
            open[owner] = count > 0 ? count : nil
        }
    }
}
