import Foundation
import Synchronization
import Testing

@testable import RuntimeHTTP

@Suite("Outbound HTTP")
struct OutboundHTTPTests {
    /// Runs `body` with a client following `policy`, shutting it down afterwards.
    private func withClient<T>(
        _ policy: OutboundURLPolicy, _ body: (OutboundHTTPClient) async throws -> T
    ) async throws -> T {
        let client = OutboundHTTPClient(policy: policy)
        do {
            let result = try await body(client)
            try await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// The error a call throws, which must be an `OutboundHTTPError`.
    private func outboundError<T>(_ call: () async throws -> T) async -> OutboundHTTPError? {
        do {
            _ = try await call()
            Issue.record("expected the call to fail")
            return nil
        } catch let error as OutboundHTTPError {
            return error
        } catch {
            Issue.record("expected OutboundHTTPError, got \(error)")
            return nil
        }
    }

    private let loopbackPolicy = OutboundURLPolicy(allowedInsecureHosts: ["127.0.0.1", "localhost"])

    // MARK: Allowed and refused

    @Test func plainHTTPToAnAllowListedLoopbackHostWorks() async throws {
        try await OutboundTestServer.with { server in
            try await withClient(loopbackPolicy) { client in
                let response = try await client.execute(
                    OutboundRequest(method: .post, url: server.url("/echo"), body: Array("ping".utf8)))
                #expect(response.status == 200)
                #expect(String(decoding: response.body, as: UTF8.self) == "POST ping")
                #expect(response.headers.first(name: "Content-Length") == "9")
                let missing = try await client.execute(OutboundRequest(url: server.url("/nothing-here")))
                #expect(missing.status == 404)
            }
        }
    }

    @Test func loopbackIsRefusedWhenNotAllowListed() async throws {
        try await OutboundTestServer.with { server in
            try await withClient(OutboundURLPolicy()) { client in
                let insecure = await outboundError { try await client.execute(OutboundRequest(url: server.url("/ok"))) }
                #expect(insecure?.code == .policy)
                #expect(insecure?.urlError?.reason == .insecureScheme)

                let https = URL(string: "https://127.0.0.1:\(server.port)/ok")!
                let loopback = await outboundError { try await client.execute(OutboundRequest(url: https)) }
                #expect(loopback?.code == .policy)
                #expect(loopback?.urlError?.reason == .forbiddenAddress(IPAddress(127, 0, 0, 1), .loopback))
                #expect(loopback?.description.contains("loopback") == true)

                let named = URL(string: "https://localhost:\(server.port)/ok")!
                let resolved = await outboundError { try await client.execute(OutboundRequest(url: named)) }
                #expect(resolved?.code == .policy)
                #expect(server.requests.isEmpty)
                #expect(server.openedConnections == 0)
            }
        }
    }

    /// A name that resolved to a public address while being checked can resolve to a private one
    /// when connecting; the connection guard refuses the peer before any request is sent.
    @Test func theConnectionGuardRefusesANonPublicPeer() async throws {
        try await OutboundTestServer.with { server in
            try await withClient(OutboundURLPolicy()) { client in
                let error = await outboundError {
                    try await client.execute(OutboundRequest(url: server.url("/ok")), checkingURLs: false)
                }
                #expect(error?.code == .policy)
                #expect(error?.urlError?.reason == .forbiddenAddress(IPAddress(127, 0, 0, 1), .loopback))
                try await Task.sleep(for: .milliseconds(100))
                #expect(server.requests.isEmpty)
                #expect(server.closedConnections == server.openedConnections)
            }
        }
    }

    @Test func redirectsToPrivateAndMetadataAddressesAreRefused() async throws {
        try await OutboundTestServer.with { server in
            try await withClient(loopbackPolicy) { client in
                for target in [
                    "http://10.0.0.1/", "http://169.254.169.254/latest/meta-data/", "https://10.0.0.1/",
                    "https://169.254.169.254/latest/meta-data/", "https://[::ffff:10.0.0.1]/", "https://[fd00::1]/",
                ] {
                    let url = server.url(
                        "/redirect?to=\(target.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)")
                    let error = await outboundError { try await client.execute(OutboundRequest(url: url)) }
                    #expect(error?.code == .policy, "\(target)")
                    #expect(error?.message.hasPrefix("redirect 1:") == true, "\(target)")
                    #expect(error?.message.contains("meta-data") == false, "the path must not be in the message")
                }
                let viaHTTPS = await outboundError {
                    try await client.execute(
                        OutboundRequest(url: server.url("/redirect?to=https%3A%2F%2F169.254.169.254%2F")))
                }
                #expect(viaHTTPS?.urlError?.reason == .forbiddenAddress(IPAddress(169, 254, 169, 254), .linkLocal))
            }
        }
    }

    @Test func redirectsAreFollowedUpToTheLimit() async throws {
        try await OutboundTestServer.with { server in
            var policy = loopbackPolicy
            policy.maximumRedirects = 3
            try await withClient(policy) { client in
                let response = try await client.execute(OutboundRequest(url: server.url("/chain/3")))
                #expect(response.status == 200)
                #expect(String(decoding: response.body, as: UTF8.self) == "end")
                #expect(response.url.path == "/chain/0")

                let tooMany = await outboundError {
                    try await client.execute(OutboundRequest(url: server.url("/chain/4")))
                }
                #expect(tooMany?.code == .redirect)

                let unfollowed = try await client.execute(
                    OutboundRequest(url: server.url("/chain/1"), followsRedirects: false))
                #expect(unfollowed.status == 302)
                #expect(unfollowed.headers.first(name: "location") == "/chain/0")
            }
        }
    }

    @Test func aSeeOtherRedirectBecomesAGetAndCredentialsStayWithTheirOrigin() async throws {
        try await OutboundTestServer.with { server in
            try await withClient(loopbackPolicy) { client in
                let other = "http://localhost:\(server.port)/echo"
                let url = server.url(
                    "/redirect?status=303&to=\(other.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)")
                let response = try await client.execute(
                    OutboundRequest(
                        method: .post, url: url, headers: ["Authorization": "Bearer t0ken", "X-Trace": "1"],
                        body: Array("payload".utf8)))
                #expect(String(decoding: response.body, as: UTF8.self) == "GET ")
                let requests = server.requests
                #expect(requests.count == 2)
                #expect(requests.first?.headers["authorization"] == "Bearer t0ken")
                #expect(requests.last?.headers["authorization"] == nil)
                #expect(requests.last?.headers["x-trace"] == "1")
            }
        }
    }

    // MARK: Bounds

    @Test func aBodyOverTheLimitIsTooLarge() async throws {
        try await OutboundTestServer.with { server in
            var policy = loopbackPolicy
            policy.maximumResponseBytes = 64 * 1024
            try await withClient(policy) { client in
                let declared = await outboundError {
                    try await client.execute(OutboundRequest(url: server.url("/big?n=1000000")))
                }
                #expect(declared?.code == .tooLarge)
                let chunked = await outboundError {
                    try await client.execute(OutboundRequest(url: server.url("/big?n=1000000&chunked=1")))
                }
                #expect(chunked?.code == .tooLarge)
                let fits = try await client.execute(OutboundRequest(url: server.url("/big?n=65536&chunked=1")))
                #expect(fits.body.count == 65_536)
                let perCall = await outboundError {
                    try await client.execute(
                        OutboundRequest(url: server.url("/big?n=1000&chunked=1"), maximumResponseBytes: 999))
                }
                #expect(perCall?.code == .tooLarge)
            }
        }
    }

    @Test func aServerThatNeverAnswersTimesOut() async throws {
        try await OutboundTestServer.with { server in
            var policy = loopbackPolicy
            policy.timeout = .milliseconds(300)
            try await withClient(policy) { client in
                let start = ContinuousClock.now
                let error = await outboundError { try await client.execute(OutboundRequest(url: server.url("/hang"))) }
                let elapsed = ContinuousClock.now - start
                #expect(error?.code == .timeout)
                #expect(elapsed >= .milliseconds(300))
                #expect(elapsed < .seconds(3))

                let stalled = await outboundError {
                    try await client.execute(OutboundRequest(url: server.url("/stall"), timeout: .milliseconds(200)))
                }
                #expect(stalled?.code == .timeout)
            }
        }
    }

    @Test func anUnreachablePortIsAConnectionError() async throws {
        let server = try await OutboundTestServer.start()
        let url = server.url("/ok")
        await server.stop()
        try await withClient(loopbackPolicy) { client in
            let error = await outboundError { try await client.execute(OutboundRequest(url: url)) }
            #expect(error?.code == .connection)
        }
    }

    // MARK: Streaming

    @Test func aStreamDeliversChunksAndCancellingItsConsumerCancelsTheRequest() async throws {
        try await OutboundTestServer.with { server in
            try await withClient(loopbackPolicy) { client in
                let response = try await client.stream(OutboundRequest(url: server.url("/sse")))
                #expect(response.status == 200)
                #expect(response.headers.first(name: "content-type") == "text/event-stream")
                let received = Received()
                let consumer = Task {
                    for try await chunk in response.body {
                        received.bytes.withLock { $0 += chunk }
                    }
                }
                while !received.text.contains("data: 2") {
                    try await Task.sleep(for: .milliseconds(10))
                }
                #expect(received.text.hasPrefix("data: 0\n\ndata: 1\n\n"))
                consumer.cancel()
                _ = await consumer.result
                let deadline = ContinuousClock.now + .seconds(5)
                while server.closedConnections == 0, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(10))
                }
                #expect(server.closedConnections == 1, "the server saw the request cancelled")
            }
        }
    }

    @Test func aStreamIsBoundedInSizeChunkAndIdleTime() async throws {
        try await OutboundTestServer.with { server in
            var policy = loopbackPolicy
            policy.maximumChunkBytes = 1000
            try await withClient(policy) { client in
                let big = try await client.stream(
                    OutboundRequest(url: server.url("/big?n=200000&chunked=1"), maximumResponseBytes: 100_000))
                var total = 0
                var largestChunk = 0
                do {
                    for try await chunk in big.body {
                        total += chunk.count
                        largestChunk = max(largestChunk, chunk.count)
                    }
                    Issue.record("expected the stream to fail")
                } catch let error as OutboundHTTPError {
                    #expect(error.code == .tooLarge)
                }
                #expect(total <= 100_000)
                #expect(largestChunk <= 1000)

                let declared = await outboundError {
                    try await client.stream(OutboundRequest(url: server.url("/big?n=2000"), maximumResponseBytes: 1000))
                }
                #expect(declared?.code == .tooLarge)

                let stalled = try await client.stream(
                    OutboundRequest(url: server.url("/stall"), timeout: .milliseconds(200)))
                let error = await outboundError {
                    for try await _ in stalled.body {}
                }
                #expect(error?.code == .timeout)
            }
        }
    }

    @Test func aStreamFollowsThePolicy() async throws {
        try await OutboundTestServer.with { server in
            try await withClient(OutboundURLPolicy()) { client in
                let error = await outboundError { try await client.stream(OutboundRequest(url: server.url("/sse"))) }
                #expect(error?.code == .policy)
            }
        }
    }
}

/// Bytes a consuming task received, read by the test while it runs.
private final class Received: Sendable {
    let bytes = Mutex<[UInt8]>([])

    var text: String { bytes.withLock { String(decoding: $0, as: UTF8.self) } }
}
