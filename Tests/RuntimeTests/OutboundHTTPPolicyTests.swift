import Foundation
import RuntimeHTTP
import Testing

extension OutboundHTTPTests {
    @Test(
        arguments: [
            // IPv4
            ("8.8.8.8", IPAddressClassification.global), ("1.1.1.1", .global), ("93.184.216.34", .global),
            ("0.0.0.0", .unspecified), ("0.1.2.3", .unspecified), ("10.0.0.1", .private), ("10.255.255.255", .private),
            ("100.63.255.255", .global), ("100.64.0.1", .sharedAddressSpace), ("100.127.255.255", .sharedAddressSpace),
            ("100.128.0.0", .global), ("127.0.0.1", .loopback), ("127.255.0.9", .loopback),
            ("169.254.169.254", .linkLocal), ("169.253.0.1", .global), ("172.15.255.255", .global),
            ("172.16.0.1", .private), ("172.31.255.255", .private), ("172.32.0.0", .global),
            ("192.168.1.1", .private), ("192.169.0.1", .global), ("192.0.2.10", .reserved),
            ("198.18.0.1", .reserved), ("224.0.0.1", .multicast), ("239.255.255.250", .multicast),
            ("240.0.0.1", .reserved), ("255.255.255.255", .broadcast),
            // IPv6
            ("::", .unspecified), ("::1", .loopback), ("2606:4700:4700::1111", .global),
            ("2001:4860:4860::8888", .global), ("fc00::1", .uniqueLocal), ("fd12:3456::1", .uniqueLocal),
            ("fe80::1", .linkLocal), ("fe80::1%eth0", .linkLocal), ("febf::1", .linkLocal), ("fec0::1", .private),
            ("ff02::1", .multicast), ("2001:db8::1", .reserved), ("2001::1", .reserved), ("100::1", .reserved),
            ("2a00:1450::1", .global), ("4000::1", .reserved),
            // IPv6 forms carrying IPv4
            ("::ffff:127.0.0.1", .loopback), ("::ffff:10.1.2.3", .private), ("::ffff:169.254.169.254", .linkLocal),
            ("::ffff:8.8.8.8", .global), ("::ffff:7f00:1", .loopback), ("::10.0.0.1", .private),
            ("::8.8.8.8", .global), ("64:ff9b::a00:1", .private), ("64:ff9b::808:808", .global),
            ("2002:c0a8:0101::1", .private), ("2002:0808:0808::1", .global), ("[::ffff:192.168.0.1]", .private),
        ])
    func addressClassification(text: String, expected: IPAddressClassification) throws {
        let address = try #require(IPAddress(text), "\(text) parses")
        #expect(address.classification == expected, "\(text)")
        #expect(address.classification.isPubliclyRoutable == (expected == .global))
    }

    @Test func addressLiteralsParseAndPrint() {
        #expect(IPAddress("10.0.0.1") == IPAddress(10, 0, 0, 1))
        #expect(IPAddress("10.0.0.1")?.description == "10.0.0.1")
        #expect(IPAddress("[::1]")?.description == "::1")
        #expect(IPAddress("::ffff:10.0.0.1")?.embeddedIPv4 == IPAddress(10, 0, 0, 1))
        #expect(IPAddress("::1")?.embeddedIPv4 == nil)
        for notALiteral in ["example.com", "localhost", "2130706433", "0x7f.1", "10.0.0", "", "1.2.3.4.5"] {
            #expect(IPAddress(notALiteral) == nil, "\(notALiteral)")
        }
    }

    @Test func theSyntaxCheck() throws {
        let policy = OutboundURLPolicy(allowedInsecureHosts: ["LocalHost", "127.0.0.1", "[::1]"])
        #expect(policy.isAllowListed(host: "localhost."))
        #expect(policy.isAllowListed(host: "::1"))
        #expect(!policy.isAllowListed(host: "example.com"))

        func reason(_ text: String) -> OutboundURLError.Reason? {
            do {
                try policy.checkSyntax(URL(string: text)!)
                return nil
            } catch {
                return error.reason
            }
        }
        #expect(reason("https://example.com/hook") == nil)
        #expect(reason("http://localhost:8080/") == nil)
        #expect(reason("http://[::1]:8080/") == nil)
        #expect(reason("http://example.com/hook") == .insecureScheme)
        #expect(reason("ftp://example.com/") == .unsupportedScheme("ftp"))
        #expect(reason("file:///etc/passwd") == .unsupportedScheme("file"))
        #expect(reason("gopher://localhost/") == .unsupportedScheme("gopher"))
        #expect(reason("https://user:pw@example.com/") == .userInfo)
        #expect(reason("https:///path") == .missingHost)

        let error = OutboundURLError(reason: .insecureScheme, host: "example.com")
        #expect(error.description.contains("\"example.com\""))
    }

    @Test func theAddressCheck() throws {
        let policy = OutboundURLPolicy(allowedInsecureHosts: ["ollama.internal"])
        try policy.checkAddresses([IPAddress(10, 0, 0, 5)], host: "ollama.internal")
        try policy.checkAddresses([IPAddress(93, 184, 216, 34)], host: "example.com")
        #expect(throws: OutboundURLError.self) {
            // One private address among public ones is enough: the connection may pick it.
            try policy.checkAddresses([IPAddress(93, 184, 216, 34), IPAddress(192, 168, 0, 1)], host: "mixed.example")
        }
        #expect(throws: OutboundURLError.self) {
            try policy.checkAddresses([IPAddress("fd00::1")!], host: "v6.example")
        }
    }

    @Test func theFullCheckResolvesNamesAndLiterals() async throws {
        let policy = OutboundURLPolicy()
        await #expect(throws: OutboundURLError.self) { try await policy.check(URL(string: "https://127.0.0.1/")!) }
        await #expect(throws: OutboundURLError.self) { try await policy.check(URL(string: "https://[::1]/")!) }
        // A numeric host that is not dotted-quad still resolves to loopback and is refused.
        await #expect(throws: OutboundURLError.self) { try await policy.check(URL(string: "https://2130706433/")!) }
        do {
            try await policy.check(URL(string: "https://localhost/")!)
            Issue.record("localhost must be refused")
        } catch let error as OutboundURLError {
            guard case .forbiddenAddress(_, .loopback) = error.reason else {
                Issue.record("unexpected reason \(error.reason)")
                return
            }
        }
        try await OutboundURLPolicy(allowedInsecureHosts: ["localhost"]).check(URL(string: "http://localhost:1/")!)
    }

    @Test func headersHideCredentialsWhenPrinted() {
        var headers: OutboundHeaders = ["Authorization": "Bearer sk-secret", "Content-Type": "application/json"]
        headers.add(name: "X-Api-Key", value: "k-secret")
        headers.add(name: "Accept", value: "a")
        headers.add(name: "accept", value: "b")
        let printed = headers.description
        #expect(!printed.contains("sk-secret"))
        #expect(!printed.contains("k-secret"))
        #expect(printed.contains("application/json"))
        #expect(headers["ACCEPT"] == ["a", "b"])
        headers.replaceOrAdd(name: "Accept", value: "c")
        #expect(headers["accept"] == ["c"])
        #expect(headers.first(name: "authorization") == "Bearer sk-secret")
    }
}
