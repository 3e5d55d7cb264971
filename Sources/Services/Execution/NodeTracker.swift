import FlowEngine

/// The node an event belongs to, for naming it when the event is too large; a run's last
/// finished node stands for the run's own events (`run_finished`).
struct NodeTracker {
    private var last = ""

    /// Notes the node of a node event.
    mutating func see(_ payload: FlowEvent.Payload) {
        if let node = Self.node(of: payload) { last = node }
    }

    /// The event's node, else the last node seen.
    func id(of payload: FlowEvent.Payload) -> String { Self.node(of: payload) ?? last }

    private static func node(of payload: FlowEvent.Payload) -> String? {
        switch payload {
        case .nodeStarted(let node, _, _), .nodeFinished(let node, _, _, _, _), .answerDelta(let node, _),
            .toolCall(_, let node, _, _), .toolResult(_, let node, _, _, _, _, _):
            return node
        case .interrupt(let interrupt): return interrupt.nodeID
        case .runStarted, .runResumed, .runFinished, .runFailed, .runCancelled: return nil
        }
    }
}
