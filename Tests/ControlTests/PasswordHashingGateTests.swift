import Foundation
import RPCCore
import Runtime
import RuntimeHTTP
import RuntimeSecurity
import Testing

@testable import Control

/// A latch a blocked computation waits on (from a Dispatch thread, as the gate's work runs).
private final class Latch: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    func wait() { semaphore.wait() }
    func open() { semaphore.signal() }
}

@Suite("Control password hashing gate and client addresses")
struct PasswordHashingGateTests {
    /// Polls `condition` every 5 ms for at most 5 s.
    private func eventually(_ condition: () async -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline {
            if await condition() { return true }
            try await Task.sleep(for: .milliseconds(5))
        }
        return await condition()
    }

    @Test("At concurrency + queue every computation runs, in order; one more is refused at once")
    func gateAtAndPastItsLimit() async throws {
        let gate = PasswordHashingGate(maximumConcurrent: 2, maximumQueued: 1)
        let latch = Latch()
        var tasks: [Task<Int, any Error>] = []
        for index in 0..<2 {
            tasks.append(
                Task {
                    try await gate.run {
                        latch.wait()
                        return index
                    }
                })
        }
        #expect(try await eventually { await gate.running == 2 })
        tasks.append(Task { try await gate.run { 2 } })
        #expect(try await eventually { await gate.queued == 1 })
        // Past the limit: refused without waiting.
        let refused = await #expect(throws: RPCError.self) { try await gate.run { 3 } }
        #expect(refused?.code == .resourceExhausted)
        #expect(refused?.details?.reason == "PASSWORD_HASHING_BUSY")
        latch.open()
        latch.open()
        var results: [Int] = []
        for task in tasks { results.append(try await task.value) }
        #expect(results == [0, 1, 2])
        #expect(
            try await eventually {
                let running = await gate.running
                let queued = await gate.queued
                return running == 0 && queued == 0
            })
        // Free again.
        #expect(try await gate.run { 4 } == 4)
    }

    @Test("A queue of zero refuses as soon as every turn is taken")
    func gateWithoutQueue() async throws {
        let gate = PasswordHashingGate(maximumConcurrent: 1, maximumQueued: 0)
        let latch = Latch()
        let holder = Task { try await gate.run { latch.wait() } }
        #expect(try await eventually { await gate.running == 1 })
        await #expect(throws: RPCError.self) { try await gate.run { 1 } }
        latch.open()
        try await holder.value
        #expect(try await gate.run { 2 } == 2)
    }

    @Test("The client address: the peer's, or what a trusted proxy forwarded (read from the right)")
    func clientAddress() async {
        #expect(ClientAddressResolver.peerAddress("ipv4:127.0.0.1:5000") == "127.0.0.1")
        #expect(ClientAddressResolver.peerAddress("ipv6:[::1]:5000") == "::1")
        #expect(ClientAddressResolver.peerAddress("ipv6:[2001:DB8:0::7]:1") == "2001:db8::7")
        let none = ClientAddressResolver(trustedProxies: [])
        let forwarded: Metadata = ["x-forwarded-for": .string("198.51.100.7")]
        #expect(await none.address(peer: "ipv4:10.0.0.2:4000", metadata: forwarded) == "10.0.0.2")
        let proxies = ClientAddressResolver(trustedProxies: [IPAddress("10.0.0.2")!, IPAddress("10.0.0.3")!])
        #expect(await proxies.address(peer: "ipv4:10.0.0.2:4000", metadata: forwarded) == "198.51.100.7")
        // The client's own claims (left of the first untrusted hop) are ignored.
        let chain: Metadata = ["x-forwarded-for": .string("1.2.3.4, 198.51.100.7, 10.0.0.3")]
        #expect(await proxies.address(peer: "ipv4:10.0.0.2:4000", metadata: chain) == "198.51.100.7")
        // Several header values form one list; an untrusted peer's header is ignored.
        var split: Metadata = ["x-forwarded-for": .string("1.2.3.4")]
        split.addString("198.51.100.9", forKey: "x-forwarded-for")
        #expect(await proxies.address(peer: "ipv4:10.0.0.2:4000", metadata: split) == "198.51.100.9")
        #expect(await proxies.address(peer: "ipv4:192.0.2.1:4000", metadata: split) == "192.0.2.1")
        // A trusted proxy without the header: the proxy itself.
        #expect(await proxies.address(peer: "ipv4:10.0.0.2:4000", metadata: [:]) == "10.0.0.2")
    }

    @Test("The edge's forwarded client address is believed only with the edge's own service token")
    func edgeClientAddress() async throws {
        let secret = Array(String(repeating: "k", count: 40).utf8)
        let issuer = try TokenIssuer(secret: secret)
        let resolver = ClientAddressResolver(trustedProxies: [], verifier: try TokenVerifier(secret: secret))
        let edge = try await issuer.issueServiceToken(
            service: "edge", tenantID: "00000000-0000-0000-0000-000000000000", actingUserID: nil)
        var metadata: Metadata = ["x-agentplane-client-address": .string("203.0.113.9")]
        // Without the token, or with another service's, or a forged one: the peer's address.
        #expect(await resolver.address(peer: "ipv4:10.0.0.5:1", metadata: metadata) == "10.0.0.5")
        let other = try await issuer.issueServiceToken(service: "execution", tenantID: "t", actingUserID: nil)
        metadata.replaceOrAddString(other.token, forKey: "x-agentplane-edge-token")
        #expect(await resolver.address(peer: "ipv4:10.0.0.5:1", metadata: metadata) == "10.0.0.5")
        let forged = try await TokenIssuer(secret: Array(String(repeating: "x", count: 40).utf8)).issueServiceToken(
            service: "edge", tenantID: "t", actingUserID: nil)
        metadata.replaceOrAddString(forged.token, forKey: "x-agentplane-edge-token")
        #expect(await resolver.address(peer: "ipv4:10.0.0.5:1", metadata: metadata) == "10.0.0.5")
        metadata.replaceOrAddString(edge.token, forKey: "x-agentplane-edge-token")
        #expect(await resolver.address(peer: "ipv4:10.0.0.5:1", metadata: metadata) == "203.0.113.9")
        // A resolver without a verifier never believes it.
        #expect(
            await ClientAddressResolver(trustedProxies: []).address(peer: "ipv4:10.0.0.5:1", metadata: metadata)
                == "10.0.0.5")
    }
}
