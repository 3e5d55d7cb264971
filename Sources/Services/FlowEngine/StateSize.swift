import Saturating

/// The running size of a run's state as compact JSON, kept per channel so that a step measures
/// only the channels it wrote (`RunLimits.maxStateBytes`).
struct StateSize {
    /// The most bytes the state may take.
    let limit: Int
    private var channels: [String: Int] = [:]
    /// The channels' `"name":value,` entries, all saturating.
    private var entries = 0

    /// Measures every channel of `state`.
    init(_ state: [String: JSONValue], limit: Int) {
        self.limit = limit
        for name in state.keys { update(name, in: state) }
    }

    /// The state's size: `{}` around the entries, without the last comma.
    var total: Int { channels.isEmpty ? 2 : Saturating.add(entries, 1) }

    /// Whether the state is larger than the limit.
    var exceeded: Bool { total > limit }

    /// Measures channel `name` again after a write.
    mutating func update(_ name: String, in state: [String: JSONValue]) {
        if let old = channels.removeValue(forKey: name) { entries -= old }
        guard let value = state[name] else { return }
        let entry = Saturating.add(
            JSONValue.encodedSize(of: name, limit: limit) + 2, value.encodedSize(limit: limit))
        channels[name] = entry
        entries = Saturating.add(entries, entry)
    }
}
