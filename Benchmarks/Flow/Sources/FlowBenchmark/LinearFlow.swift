import BenchmarkSupport
import FlowEngine

/// The benchmark's graph: `count` `set` nodes in a line, each writing the overwrite channel `last`
/// and appending one element to the append channel `log` — the shape langgraph_bench.py builds.
enum LinearFlow {
    /// The flow document.
    static func json(nodes count: Int) -> String {
        let nodes = (1...count).map { index in
            let next = index < count ? #", "next": "n\#(index + 1)""# : ""
            let values = #"{"last": "n\#(index)", "log": "n\#(index)"}"#
            return #"{"id": "n\#(index)", "kind": "set", "values": \#(values)\#(next)}"#
        }
        return """
            {
              "name": "linear-\(count)",
              "entry": "n1",
              "state": {
                "last": {"type": "string", "reducer": "overwrite", "default": ""},
                "log": {"type": "array", "reducer": "append"}
              },
              "nodes": [
                \(nodes.joined(separator: ",\n    "))
              ]
            }
            """
    }

    /// The flow, validated and compiled once; any validation problem ends the benchmark.
    static func compiled(nodes count: Int) -> CompiledFlow {
        let validation = FlowValidator.validate(json: json(nodes: count))
        guard let flow = validation.flow, validation.warnings.isEmpty else {
            fail("the \(count)-node flow does not validate: \(validation.errors + validation.warnings)")
        }
        return flow
    }

    /// Why a run's outcome is not the one the flow must produce (nil when it is): finished, `last` the
    /// last node's id, `log` every node's id in order.
    static func problem(with outcome: RunOutcome, nodes count: Int) -> String? {
        guard case .finished(_, let state) = outcome else { return "the run ended with \(outcome)" }
        guard state["last"] == .string("n\(count)") else { return "last is \(state["last"] ?? .null)" }
        guard let log = state["log"]?.arrayValue, log.count == count, log.last == .string("n\(count)") else {
            return "log has \(state["log"]?.arrayValue?.count ?? 0) elements, expected \(count)"
        }
        return nil
    }
}

/// A tool client for flows that call no tools.
struct NoTools: ToolClient {
    /// Always fails: the benchmark's flows have no `tool` nodes.
    func execute(_ invocation: ToolInvocation) async throws -> JSONValue {
        throw NodeError(.internal, "the benchmark flows call no tools")
    }
}
