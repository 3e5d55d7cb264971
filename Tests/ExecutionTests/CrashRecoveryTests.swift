import Foundation
import RPCCore
import RPCHTTP2
import RPCModels
import ServiceTestSupport
import TestSupport
import Testing

/// The execution service's executable, built next to the test bundle.
private let executionBinary = repositoryRoot.appendingPathComponent(".build/debug/execution").path

@Suite("Execution: a crashed replica's run is continued", .serialized)
struct CrashRecoveryTests {
    private func startService(control: FakeControlPlane, group: String) async throws -> (
        ChildProcess, HTTP2ClientTransport, Int
    ) {
        let port = testServerPort(spread: 2)
        var environment = minimalServiceEnvironment(port: port, adminPort: port + 1)
        environment["CONTROL_ADDR"] = control.address
        environment["EXECUTION_LEASE_TTL"] = "1s"
        environment["EXECUTION_RECOVERY_INTERVAL"] = "200ms"
        environment["LOG_LEVEL"] = "warning"
        environment["EXECUTION_REPLICA_GROUP"] = group
        let process = try ChildProcess([executionBinary], environment: environment, captureStandardError: true)
        let transport = HTTP2ClientTransport(host: "127.0.0.1", port: port)
        let client = Agentplane_V1_ExecutionService.Client(RPCClient(transport: transport))
        var probe = Agentplane_V1_GetRunRequest()
        probe.runID = "probe"
        let metadata = try await serviceBearer(tenant: "execution-probe")
        for _ in 0..<300 {
            if await statusCode({ try await client.getRun(probe, metadata: metadata) }) == .notFound {
                return (process, transport, port)
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("the execution service did not start: \(process.standardError)")
        throw CancellationError()
    }

    @Test func aRunInterruptedBySIGKILLFinishesOnTheNextProcessWithEachSideEffectOnce() async throws {
        let control = try await FakeControlPlane.start()
        let tenant = uniqueTenant("crash")
        let metadata = try await serviceBearer(tenant: tenant, actingUser: "user-crash")
        let group = "crash-\(UUID().uuidString.lowercased())"
        let (first, firstTransport, _) = try await startService(control: control, group: group)
        let firstClient = Agentplane_V1_ExecutionService.Client(RPCClient(transport: firstTransport))
        var request = draftRequest(Flows.crash(slowMilliseconds: 2500), conversation: "conv-crash")
        request.input = "go"
        let streaming = Task {
            try await collect { try await firstClient.execute(request, metadata: metadata, onResponse: $0) }
        }
        // Kill the process while the slow second tool is running.
        var runID: String?
        for _ in 0..<400 where runID == nil {
            runID = control.toolCalls.first { $0.tool == "slow" }?.runID
            if runID == nil { try await Task.sleep(for: .milliseconds(25)) }
        }
        let id = try #require(runID, "the slow tool was never called: \(first.standardError)")
        first.stop()
        _ = try await first.waitForExit(timeout: .seconds(5))
        _ = try? await streaming.value
        await firstTransport.close()
        #expect(control.applied.count <= 2)

        // A new process takes the orphaned run over once its lease expired and finishes it.
        let (second, secondTransport, _) = try await startService(control: control, group: group)
        defer { second.stop() }
        let client = Agentplane_V1_ExecutionService.Client(RPCClient(transport: secondTransport))
        var get = Agentplane_V1_GetRunRequest()
        get.runID = id
        var run = Agentplane_V1_Run()
        for _ in 0..<600 {
            run = try await client.getRun(get, metadata: metadata).run ?? run
            if run.status != .running { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(run.status == .succeeded, "\(second.standardError)")
        #expect(run.answer == "all four tools ran")

        // Every tool's side effect happened exactly once, under its own key.
        let keys = ["t1", "t2", "t3", "t4"].enumerated().map { "\(id):\($0.offset + 1):\($0.element)" }
        #expect(control.applied == Dictionary(uniqueKeysWithValues: keys.map { ($0, 1) }))
        #expect(Set(control.toolCalls.filter { $0.runID == id }.map(\.key)) == Set(keys))
        // The completed first tool was not called again (its result came from the checkpoint).
        #expect(control.toolCalls.filter { $0.key == keys[0] }.count == 1)
        #expect(control.messages["\(id):assistant:1"]?.content == "all four tools ran")
        // The takeover had no caller: it called the control plane with a service token of its own.
        let calls = control.toolCalls.filter { $0.runID == id }
        #expect(calls.allSatisfy { $0.hadCredentials && $0.tokenTenant == tenant })
        #expect(calls.allSatisfy { $0.tokenActingUser == "user-crash" })

        // The events can be re-attached to and end with the finish.
        var watch = Agentplane_V1_WatchRunRequest()
        watch.runID = id
        let events = try await collect { try await client.watchRun(watch, metadata: metadata, onResponse: $0) }
        #expect(events.first.map(kind) == "run_started")
        #expect(events.last.map(kind) == "run_finished")
        #expect(events.map(\.sequence) == Array(1...Int64(events.count)))

        await secondTransport.close()
        second.signal(SIGTERM)
        #expect(try await second.waitForExit(timeout: .seconds(10)) == 0)
        await control.stop()
    }
}
