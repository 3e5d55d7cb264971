import RuntimeConfig
import Testing

@Suite("Configuration: server limits and the admin port's address")
struct ServerLimitsConfigurationTests {
    func load(_ extra: [String: String]) throws -> ServiceConfiguration {
        try ServiceConfiguration.load(
            service: "test", environment: ConfigurationTests.minimal.merging(extra) { $1 }, arguments: ["svc"])
    }

    @Test func adminHostDefaultsToHostAndCanBeSetApart() throws {
        #expect(try load([:]).adminHost == "0.0.0.0")
        #expect(try load(["HOST": "10.1.2.3"]).adminHost == "10.1.2.3")
        let apart = try load(["HOST": "0.0.0.0", "ADMIN_HOST": "127.0.0.1"])
        #expect(apart.host == "0.0.0.0")
        #expect(apart.adminHost == "127.0.0.1")
        #expect(apart.description.contains("ADMIN_HOST=127.0.0.1"))
        #expect(try load(["ADMIN_IDLE_TIMEOUT": "5s"]).adminIdleTimeout == .seconds(5))
    }

    @Test func theDefaultsAreTheDocumentedOnes() throws {
        let limits = try load([:]).serverLimits
        #expect(limits.maximumConnections == 4096)
        #expect(limits.idleTimeout == .seconds(300))
        #expect(limits.maximumConcurrentStreams == 1000)
        #expect(limits.maximumBufferedRequestBytes == 32 << 20)
        #expect(limits.maximumReceiveMessageSize == 4 << 20)
        #expect(limits.maximumHeaderListSize == 16 << 10)
        #expect(limits.maximumTimeout == .seconds(86_400))
        #expect(limits.maximumStatusMessageSize == 1024)
    }

    @Test func everyLimitIsAKeyCheckedAtItsBounds() throws {
        let limits = try load([
            "GRPC_MAX_CONNECTIONS": "1", "GRPC_IDLE_TIMEOUT": "0", "GRPC_MAX_CONCURRENT_STREAMS": "100000",
            "GRPC_MAX_CONNECTION_BUFFER_BYTES": "65536", "GRPC_MAX_RECEIVE_MESSAGE_BYTES": "1024",
            "GRPC_MAX_HEADER_LIST_BYTES": "1048576", "GRPC_MAX_TIMEOUT": "1h", "GRPC_MAX_STATUS_MESSAGE_BYTES": "64",
        ]).serverLimits
        #expect(limits.maximumConnections == 1)
        #expect(limits.idleTimeout == .zero)
        #expect(limits.maximumConcurrentStreams == 100_000)
        #expect(limits.maximumBufferedRequestBytes == 65536)
        #expect(limits.maximumReceiveMessageSize == 1024)
        #expect(limits.maximumHeaderListSize == 1 << 20)
        #expect(limits.maximumTimeout == .seconds(3600))
        #expect(limits.maximumStatusMessageSize == 64)

        let past = [
            "GRPC_MAX_CONNECTIONS": "0", "GRPC_MAX_CONCURRENT_STREAMS": "100001",
            "GRPC_MAX_CONNECTION_BUFFER_BYTES": "65535", "GRPC_MAX_RECEIVE_MESSAGE_BYTES": "1023",
            "GRPC_MAX_HEADER_LIST_BYTES": "1048577", "GRPC_MAX_TIMEOUT": "0", "GRPC_MAX_STATUS_MESSAGE_BYTES": "63",
        ]
        do {
            _ = try load(past)
            Issue.record("limits past their bounds were accepted")
        } catch {
            for key in past.keys { #expect("\(error)".contains(key), "\(key) is not named") }
        }
    }

    @Test func theTokenCacheIsAKeyCheckedAtItsBounds() throws {
        #expect(try load([:]).tokenCacheEntries == 4096)
        #expect(try load(["AUTH_TOKEN_CACHE_ENTRIES": "0"]).tokenCacheEntries == 0)
        #expect(try load(["AUTH_TOKEN_CACHE_ENTRIES": "1000000"]).tokenCacheEntries == 1_000_000)
        for bad in ["-1", "1000001", "99999999999999999999999", "12\u{0}", "lots"] {
            do {
                _ = try load(["AUTH_TOKEN_CACHE_ENTRIES": bad])
                Issue.record("AUTH_TOKEN_CACHE_ENTRIES=\(bad) was accepted")
            } catch {
                #expect("\(error)".contains("AUTH_TOKEN_CACHE_ENTRIES"))
            }
        }
    }

    @Test func theEventLoopThreadsAreAKeyCheckedAtItsBounds() throws {
        #expect(try load([:]).eventLoopThreads == 1)
        #expect(try load(["EVENT_LOOP_THREADS": "256"]).eventLoopThreads == 256)
        for bad in ["0", "-1", "257", "99999999999999999999999", "2\u{0}", "many"] {
            do {
                _ = try load(["EVENT_LOOP_THREADS": bad])
                Issue.record("EVENT_LOOP_THREADS=\(bad) was accepted")
            } catch {
                #expect("\(error)".contains("EVENT_LOOP_THREADS"))
            }
        }
    }
}
