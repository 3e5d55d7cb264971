import Foundation
import Testing

@testable import RuntimeHTTP

@Suite("Outbound HTTP: secret headers and time limits")
struct OutboundHTTPSecretHeaderTests {
    private let loopbackPolicy = OutboundURLPolicy(allowedInsecureHosts: ["127.0.0.1", "localhost"])

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

    /// Headers as a tool sends them: secrets marked, a credential-looking name, a plain header.
    private var headers: OutboundHeaders {
        var headers: OutboundHeaders = ["X-Trace": "1", "X-Session-Token": "from-config"]
        headers.add(name: "X-Api-Key", value: "k-123", secret: true)
        headers.add(name: "X-Tenant-Credential", value: "marked", secret: true)
        headers.add(name: "Authorization", value: "Bearer t0ken")
        return headers
    }

    @Test func aRedirectToAnotherOriginDropsEverySecretHeader() async throws {
        let origin = try await OutboundTestServer.start()
        let other = try await OutboundTestServer.start()
        try await withClient(loopbackPolicy) { client in
            // 307 keeps the method and body: only the credentials stay behind.
            let target = other.url("/echo").absoluteString
            let url = origin.url(
                "/redirect?status=307&to=\(target.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)")
            let response = try await client.execute(
                OutboundRequest(method: .post, url: url, headers: headers, body: Array("payload".utf8)))
            #expect(String(decoding: response.body, as: UTF8.self) == "POST payload")
            let first = try #require(origin.requests.first)
            #expect(first.headers["x-api-key"] == "k-123" && first.headers["x-tenant-credential"] == "marked")
            let landed = try #require(other.requests.first)
            #expect(landed.headers["x-api-key"] == nil)
            #expect(landed.headers["x-tenant-credential"] == nil)
            #expect(landed.headers["x-session-token"] == nil)
            #expect(landed.headers["authorization"] == nil)
            #expect(landed.headers["x-trace"] == "1")
        }
        await origin.stop()
        await other.stop()
    }

    @Test func aRedirectWithinTheOriginKeepsThem() async throws {
        try await OutboundTestServer.with { server in
            try await withClient(loopbackPolicy) { client in
                // An explicit default port is the same origin as none; here: same host and port.
                _ = try await client.execute(
                    OutboundRequest(url: server.url("/redirect?status=302&to=%2Fok"), headers: headers))
                let landed = try #require(server.requests.last)
                #expect(landed.uri == "/ok")
                #expect(landed.headers["x-api-key"] == "k-123" && landed.headers["authorization"] == "Bearer t0ken")
            }
        }
    }

    @Test func secretValuesArePrintedRedacted() {
        let printed = headers.description
        #expect(!printed.contains("k-123") && !printed.contains("marked") && !printed.contains("t0ken"))
        #expect(printed.contains("X-Trace: 1"))
    }

    @Test func originsCompareSchemeHostAndEffectivePort() {
        #expect(OutboundOrigin(string: "https://Example.COM/a")?.description == "https://example.com:443")
        #expect(OutboundOrigin(string: "https://example.com:443/b") == OutboundOrigin(string: "https://example.com"))
        #expect(OutboundOrigin(string: "http://example.com") != OutboundOrigin(string: "https://example.com"))
        #expect(OutboundOrigin(string: "http://[::1]:8080/x")?.description == "http://[::1]:8080")
        #expect(OutboundOrigin(string: "http://example.com.:80")?.host == "example.com")
        #expect(OutboundOrigin(string: "not a url") == nil)
    }

    @Test func timeLimitsOfAnySizeNeitherTrapNorHang() async throws {
        try await OutboundTestServer.with { server in
            // A policy whose time limit overflows nanoseconds, and a request asking for forever.
            var policy = loopbackPolicy
            policy.timeout = .seconds(Int64.max)
            try await withClient(policy) { client in
                let response = try await client.execute(OutboundRequest(url: server.url("/ok")))
                #expect(response.status == 200)
                let forever = try await client.execute(
                    OutboundRequest(url: server.url("/ok"), timeout: .seconds(Int64.max)))
                #expect(forever.status == 200)
                let negative = await #expect(throws: OutboundHTTPError.self) {
                    try await client.execute(OutboundRequest(url: server.url("/hang"), timeout: .seconds(-5)))
                }
                #expect(negative?.code == .timeout)
            }
        }
    }
}
