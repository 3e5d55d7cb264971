import FlowEngine
import Testing

@Suite("A long linear flow")
struct OverheadTests {
    /// A linear flow of `count` set nodes, each writing its index to `n`.
    static func linearFlow(_ count: Int) -> String {
        let nodes = (0..<count).map { index in
            let next = index + 1 < count ? #", "next": "n\#(index + 1)""# : ""
            return #"{"id": "n\#(index)", "kind": "set", "values": {"n": \#(index)}\#(next)}"#
        }
        return #"{"entry": "n0", "state": {"n": {"type": "number"}}, "nodes": [\#(nodes.joined(separator: ","))]}"#
    }

    /// The benchmark's flow shape runs to the end with the last write winning. (Its speed is
    /// measured by the benchmark harness, never asserted in a test.)
    @Test func linearFlowOfAHundredNodes() async throws {
        let flow = try compile(Self.linearFlow(100))
        let runner = FlowRunner(flow: flow, model: BuiltinModelClient(), tools: noTools)
        for run in 0..<10 {
            let outcome = await runner.start(runID: "linear-\(run)", input: "")
            #expect(outcome.state?["n"] == .number(99))
        }
    }
}
