import Foundation
import RPCCore
import RPCModels
import Testing

/// Requests a caller can make cheaply, answered at once with a short, valid status.
@Suite("Execution: long and NUL-bearing request fields")
struct HostileRequestTests {
    @Test func aLongIdIsAnsweredWithAShortMessage() async throws {
        let fixture = try await ExecutionFixture.start()
        let caller = try await builder(uniqueTenant("long"))
        var get = Agentplane_V1_GetRunRequest()
        get.runID = String(repeating: "r", count: 64 << 10)
        let started = ContinuousClock.now
        let error = await #expect(throws: RPCError.self) {
            _ = try await fixture.client.getRun(get, metadata: caller, options: CallOptions(timeout: .seconds(10)))
        }
        #expect(error?.code == .notFound || error?.code == .invalidArgument)
        #expect((error?.message.utf8.count ?? .max) <= 200)
        #expect(ContinuousClock.now - started < .seconds(5))

        try await fixture.stop()
    }
}
