import FlowEngine
import Foundation
import Synchronization
import Testing

/// Compiles a flow document, failing the test with every issue when it is invalid.
func compile(_ json: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> CompiledFlow {
    let validation = FlowValidator.validate(json: json)
    #expect(validation.errors.isEmpty, "\(validation.errors)", sourceLocation: sourceLocation)
    return try #require(validation.flow, sourceLocation: sourceLocation)
}

/// A tool client whose tools are closures; counts calls started and completed per idempotency key.
final class FakeTools: ToolClient {
    typealias Handler = @Sendable (ToolInvocation, Int) async throws -> JSONValue

    private let handlers: [String: Handler]
    private let calls = Mutex<[ToolInvocation]>([])
    private let completed = Mutex<[String: Int]>([:])

    init(_ handlers: [String: Handler]) {
        self.handlers = handlers
    }

    func execute(_ invocation: ToolInvocation) async throws -> JSONValue {
        let attempt = calls.withLock {
            $0.append(invocation)
            return $0.filter { $0.idempotencyKey == invocation.idempotencyKey }.count
        }
        guard let handler = handlers[invocation.tool] else { throw NodeError(.invalidArgument, "no such tool") }
        let result = try await handler(invocation, attempt)
        completed.withLock { $0[invocation.idempotencyKey, default: 0] += 1 }
        return result
    }

    /// Every call, in order.
    var invocations: [ToolInvocation] { calls.withLock { $0 } }

    /// Calls of one tool.
    func invocations(of tool: String) -> [ToolInvocation] { invocations.filter { $0.tool == tool } }

    /// Completed calls per idempotency key.
    var completedPerKey: [String: Int] { completed.withLock { $0 } }
}

/// Collects a run's events.
final class EventLog: Sendable {
    private let events = Mutex<[FlowEvent]>([])

    var handler: @Sendable (FlowEvent) -> Void {
        { event in self.events.withLock { $0.append(event) } }
    }

    var all: [FlowEvent] { events.withLock { $0 } }

    var sequences: [Int64] { all.map(\.sequence) }

    /// The ids of nodes that started, in order.
    var startedNodes: [String] {
        all.compactMap { if case .nodeStarted(let id, _, _) = $0.payload { id } else { nil } }
    }
}

extension RunOutcome {
    /// The answer of a finished run.
    var answer: String? {
        if case .finished(let answer, _) = self { return answer }
        return nil
    }

    /// The state of a finished run.
    var state: [String: JSONValue]? {
        if case .finished(_, let state) = self { return state }
        return nil
    }

    /// The error of a failed run.
    var error: FlowRunError? {
        if case .failed(let error) = self { return error }
        return nil
    }

    /// The interrupts of a paused run.
    var interrupts: [FlowInterrupt] {
        if case .interrupted(let interrupts) = self { return interrupts }
        return []
    }

    var isCancelled: Bool {
        if case .cancelled = self { return true }
        return false
    }
}

/// A tool client with no tools.
let noTools = FakeTools([:])
