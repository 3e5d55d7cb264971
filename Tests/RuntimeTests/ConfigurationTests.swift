import Foundation
import RuntimeConfig
import Testing

@Suite("Configuration")
struct ConfigurationTests {
    /// The five keys every service needs, valid.
    static let minimal: [String: String] = [
        "PORT": "7001",
        "ADMIN_PORT": "9001",
        "DATABASE_URL": "postgresql://agentplane:db-pa55word@127.0.0.1:5432/agentplane",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "JWT_SECRET": "jwt-secret-0123456789-abcdefghijkl",
    ]

    /// A secret-box key: `id:base64` of `byte` repeated 32 times.
    static func boxKey(_ id: String, byte: UInt8, count: Int = 32) -> String {
        "\(id):" + Data(repeating: byte, count: count).base64EncodedString()
    }

    /// A file with `contents` in a fresh temporary directory, removed after `body`.
    func withTemporaryFile<T>(_ contents: String, _ body: (String) throws -> T) throws -> T {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("config-test-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("file").path
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return try body(path)
    }

    func load(_ environment: [String: String], arguments: [String] = ["svc"]) throws -> ServiceConfiguration {
        try ServiceConfiguration.load(service: "test", environment: environment, arguments: arguments)
    }

    func problems(_ environment: [String: String], arguments: [String] = ["svc"]) -> ConfigurationError? {
        do {
            _ = try load(environment, arguments: arguments)
            Issue.record("expected a configuration error")
            return nil
        } catch {
            return error as? ConfigurationError
        }
    }

    @Test func theFiveRequiredKeysSuffice() throws {
        let configuration = try load(Self.minimal)
        #expect(configuration.service == "test")
        #expect(configuration.host == "0.0.0.0")
        #expect(configuration.port == 7001)
        #expect(configuration.adminPort == 9001)
        #expect(configuration.databaseURL == Self.minimal["DATABASE_URL"])
        #expect(configuration.redis == RedisURL(host: "127.0.0.1", port: 6379, database: 0))
        #expect(configuration.jwtSecret.reveal() == Self.minimal["JWT_SECRET"])
        #expect(configuration.secretBoxKeyring.isEmpty)
        #expect(configuration.secretBoxKeys == nil)
        #expect(configuration.redisURL == "redis://127.0.0.1:6379/0")
        #expect(configuration.startupTimeout == .seconds(60))
        #expect(configuration.peers.isEmpty)
        #expect(configuration.addresses(of: .control) == nil)
        #expect(configuration.logLevel == .info)
        #expect(configuration.outboundAllowHosts.isEmpty)
        #expect(configuration.shutdownGrace == .seconds(10))
    }

    @Test func everyProblemIsListedInOneMessage() {
        var environment = Self.minimal
        environment["PORT"] = nil
        environment["JWT_SECRET"] = nil
        environment["REDIS_URL"] = "foo"
        environment["ADMIN_PORT"] = "70000"
        environment["DATABASE_URL"] = "nonsense"
        environment["LOG_LEVEL"] = "loud"
        environment["SHUTDOWN_GRACE"] = "soon"
        environment["CONTROL_ADDR"] = "control-1:7001,nohostport"
        let error = problems(environment)
        #expect(
            error?.keys == [
                "PORT", "ADMIN_PORT", "DATABASE_URL", "REDIS_URL", "JWT_SECRET", "CONTROL_ADDR", "LOG_LEVEL",
                "SHUTDOWN_GRACE",
            ])
        let message = error?.description ?? ""
        #expect(message.hasPrefix("configuration: PORT is missing"))
        #expect(message.contains("REDIS_URL \"foo\" is not a redis:// URL"))
        #expect(message.contains("JWT_SECRET is missing (set JWT_SECRET or JWT_SECRET_FILE)"))
        #expect(message.contains("ADMIN_PORT \"70000\" is not a port"))
        #expect(message.contains("DATABASE_URL \"nonsense\" is not a postgres:// URI or a libpq key=value string"))
        #expect(message.contains("LOG_LEVEL \"loud\" is not one of trace|debug|info|notice|warning|error|critical"))
        #expect(message.contains("SHUTDOWN_GRACE \"soon\" is not a duration"))
        #expect(message.contains("CONTROL_ADDR entry \"nohostport\" is not host:port"))
        #expect(message.split(separator: ";").count == 8)
    }

    @Test func aServicesOwnKeysJoinTheSameMessage() {
        var environment = Self.minimal
        environment["PORT"] = "x"
        environment["WORKERS"] = "0"
        var reader = ConfigReader(environment: environment, arguments: [])
        _ = ServiceConfiguration.load(service: "test", reader: &reader)
        #expect(reader.int("WORKERS", default: 4, range: 1...64) == 4)
        #expect(reader.requiredString("MODEL_NAME") == "")
        #expect(reader.int("BATCH", default: 8) == 8)
        #expect(throws: ConfigurationError.self) { try reader.validate() }
        let message = reader.problems.map(\.message).joined(separator: "; ")
        #expect(message.contains("PORT \"x\" is not a port"))
        #expect(message.contains("WORKERS \"0\" is outside 1-64"))
        #expect(message.contains("MODEL_NAME is missing"))
    }

    @Test func thePortFlagOverridesPORT() throws {
        #expect(try load(Self.minimal, arguments: ["svc", "--port", "7100"]).port == 7100)
        #expect(try load(Self.minimal, arguments: ["svc", "--port=7200"]).port == 7200)
        var environment = Self.minimal
        environment["PORT"] = nil
        #expect(try load(environment, arguments: ["svc", "--port=7300"]).port == 7300)
        #expect(try load(environment, arguments: ["svc", "--port=0"]).port == 0)
        let bad = problems(Self.minimal, arguments: ["svc", "--port", "http"])
        #expect(bad?.description.contains("--port \"http\" is not a port") == true)
        let dangling = problems(Self.minimal, arguments: ["svc", "--port"])
        #expect(dangling?.description.contains("--port needs a value") == true)
    }

    @Test func secretsComeFromTheirFileWithTheNewlineTrimmed() throws {
        let secret = "file-secret-0123456789-abcdefghijklmnop"
        try withTemporaryFile(secret + "\n") { path in
            var environment = Self.minimal
            environment["JWT_SECRET"] = nil
            environment["JWT_SECRET_FILE"] = path
            let configuration = try load(environment)
            #expect(configuration.jwtSecret.reveal() == secret)

            environment["JWT_SECRET"] = "also-set-directly-0123456789-abcdef"
            let both = problems(environment)
            #expect(both?.description.contains("JWT_SECRET and JWT_SECRET_FILE are both set") == true)
            #expect(both?.description.contains("also-set-directly") == false)
        }
        var environment = Self.minimal
        environment["JWT_SECRET"] = nil
        environment["JWT_SECRET_FILE"] = "/nonexistent/jwt"
        #expect(
            problems(environment)?.description.contains("JWT_SECRET_FILE \"/nonexistent/jwt\" cannot be read") == true)
        try withTemporaryFile("\n") { path in
            environment["JWT_SECRET_FILE"] = path
            #expect(problems(environment)?.description.contains("is empty") == true)
        }
    }

    @Test func aConfigFileIsReadAndTheEnvironmentWins() throws {
        let file = """
            # common keys
            export PORT=7001
            ADMIN_PORT = 9001
            DATABASE_URL="postgresql://127.0.0.1/agentplane"   # trailing comment
            REDIS_URL='redis://127.0.0.1:6379/3'
            JWT_SECRET="quoted \\"secret\\" 0123456789abcdefghij"
            LOG_LEVEL=debug # inline comment
            OUTBOUND_ALLOW_HOSTS=127.0.0.1, localhost ,,
            SHUTDOWN_GRACE=

            """
        try withTemporaryFile(file) { path in
            let configuration = try load(["CONFIG_FILE": path, "LOG_LEVEL": "warning", "PORT": "7002"])
            #expect(configuration.port == 7002)
            #expect(configuration.adminPort == 9001)
            #expect(configuration.databaseURL == "postgresql://127.0.0.1/agentplane")
            #expect(configuration.redis.database == 3)
            #expect(configuration.jwtSecret.reveal() == "quoted \"secret\" 0123456789abcdefghij")
            #expect(configuration.logLevel == .warning)
            #expect(configuration.outboundAllowHosts == ["127.0.0.1", "localhost"])
            #expect(configuration.shutdownGrace == .seconds(10))

            // An empty environment value counts as unset and hides the file's value.
            let hidden = problems(["CONFIG_FILE": path, "ADMIN_PORT": ""])
            #expect(hidden?.keys == ["ADMIN_PORT"])
        }
        try withTemporaryFile("PORT=1\nthis line is wrong\n9KEY=x\nJWT_SECRET=\"unterminated\n") { path in
            let error = problems(["CONFIG_FILE": path])
            let message = error?.description ?? ""
            #expect(message.contains("line 2: expected KEY=VALUE"))
            #expect(message.contains("line 3: \"9KEY\" is not a valid key"))
            #expect(message.contains("line 4: unterminated quote"))
        }
        let missing = problems(["CONFIG_FILE": "/nonexistent/agentplane.env"])
        #expect(missing?.keys.first == "CONFIG_FILE")
    }

    @Test func secretValuesNeverAppearInMessagesOrDescriptions() throws {
        let boxKey = Self.boxKey("k1", byte: 7)
        var environment = Self.minimal
        environment["DATABASE_URL"] = "postgresql://user:db-pa55word@127.0.0.1:99999/x"
        environment["REDIS_URL"] = "redis://:redis-pa55word@127.0.0.1:6379/notanumber"
        environment["JWT_SECRET"] = "short-jwt-secret"
        environment["SECRET_BOX_KEYS"] = boxKey + ",k2:not-base64!"
        environment["API_TOKEN"] = "api-token-value"
        var reader = ConfigReader(environment: environment, arguments: [])
        _ = ServiceConfiguration.load(service: "test", reader: &reader)
        _ = reader.int("API_TOKEN", default: 0)
        let message = reader.problems.map(\.message).joined(separator: "; ")
        #expect(message.contains("JWT_SECRET is too short: it must be at least 32 bytes"))
        #expect(message.contains("DATABASE_URL \"postgresql://user:***@127.0.0.1:99999/x\" has a port outside 1-65535"))
        #expect(message.contains("REDIS_URL \"redis://:***@127.0.0.1:6379/notanumber\" has a database"))
        #expect(message.contains("SECRET_BOX_KEYS entry 2 (id \"k2\") is not valid base64"))
        #expect(message.contains("API_TOKEN (value hidden) is not an integer"))
        for secret in [
            "short-jwt-secret", "db-pa55word", "redis-pa55word", "not-base64!", "api-token-value",
            String(boxKey.dropFirst(3)),
        ] {
            #expect(!message.contains(secret), "\(secret) leaked into the message")
        }

        environment = Self.minimal
        environment["SECRET_BOX_KEYS"] = boxKey
        environment["REDIS_URL"] = "rediss://app:redis-pa55word@cache.internal:6380/2"
        let configuration = try load(environment)
        var dumped = ""
        dump(configuration, to: &dumped)
        for printed in [String(describing: configuration), String(reflecting: configuration), dumped] {
            for secret in [Self.minimal["JWT_SECRET"]!, "db-pa55word", "redis-pa55word", String(boxKey.dropFirst(3))] {
                #expect(!printed.contains(secret), "\(secret) leaked into \(printed)")
            }
        }
        #expect(String(describing: configuration).contains("postgresql://agentplane:***@127.0.0.1:5432/agentplane"))
        #expect(String(describing: configuration).contains("rediss://app:***@cache.internal:6380/2"))
        #expect(String(describing: configuration.jwtSecret) == "<redacted>")
        #expect(String(reflecting: configuration.jwtSecret) == "<redacted>")
        #expect(configuration.redis.password?.reveal() == "redis-pa55word")
        #expect(configuration.redisURL == "rediss://app:redis-pa55word@cache.internal:6380/2")
    }

    @Test func secretBoxKeysAreParsedAndChecked() throws {
        var environment = Self.minimal
        environment["SECRET_BOX_KEYS"] =
            " new:\(Self.boxKey("", byte: 2).dropFirst()) , old-1_A:\(Self.boxKey("", byte: 1).dropFirst()) "
        let configuration = try load(environment)
        let keys = configuration.secretBoxKeyring
        #expect(keys.map(\.id) == ["new", "old-1_A"])
        #expect(keys.first?.key.revealBytes() == [UInt8](repeating: 2, count: 32))
        #expect(keys.last?.key.revealBytes() == [UInt8](repeating: 1, count: 32))
        let pairs = try #require(configuration.secretBoxKeys)
        #expect(pairs.map(\.id) == ["new", "old-1_A"])
        #expect(pairs.first?.key == [UInt8](repeating: 2, count: 32))

        let cases: [(String, String)] = [
            ("k1:%%%notbase64", "entry 1 (id \"k1\") is not valid base64"),
            (Self.boxKey("k1", byte: 1, count: 16), "entry 1 (id \"k1\") is 16 bytes, not 32"),
            (Self.boxKey("bad id!", byte: 1), "entry 1 has a key id that is not [A-Za-z0-9_-]{1,32}"),
            (Self.boxKey(String(repeating: "a", count: 33), byte: 1), "entry 1 has a key id that is not"),
            ("just-base64-no-id", "entry 1 is not keyid:base64key"),
            (Self.boxKey("k1", byte: 1) + "," + Self.boxKey("k1", byte: 2), "entry 2 repeats key id \"k1\""),
            (",", "has no keys"),
        ]
        for (value, expected) in cases {
            environment["SECRET_BOX_KEYS"] = value
            let message = problems(environment)?.description ?? ""
            #expect(message.contains("SECRET_BOX_KEYS " + expected), "\(value): \(message)")
        }
        try withTemporaryFile(Self.boxKey("f1", byte: 9) + "\n") { path in
            environment["SECRET_BOX_KEYS"] = nil
            environment["SECRET_BOX_KEYS_FILE"] = path
            let configuration = try load(environment)
            #expect(configuration.secretBoxKeyring.map(\.id) == ["f1"])
        }
    }

    @Test func peersAreAddressLists() throws {
        var environment = Self.minimal
        environment["CONTROL_ADDR"] = " control-1:7001, control-2:7001 ,,"
        environment["KB_SEARCH_ADDR"] = "[::1]:7003"
        environment["LLM_GATEWAY_ADDR"] = "10.0.0.5:7005"
        let peers = try load(environment).peers
        #expect(peers[.control] == ["control-1:7001", "control-2:7001"])
        #expect(peers[.kbSearch] == ["[::1]:7003"])
        #expect(peers[.llmGateway] == ["10.0.0.5:7005"])
        #expect(peers[.execution] == nil)

        for bad in ["control", "control:0", "control:99999", ":7001", "[::1]7001", "con trol:7001", ","] {
            environment["CONTROL_ADDR"] = bad
            #expect(problems(environment)?.keys == ["CONTROL_ADDR"], "\(bad)")
        }

        #expect(
            PeerService.allCases.map(\.environmentKey) == [
                "CONTROL_ADDR", "EXECUTION_ADDR", "KB_SEARCH_ADDR", "TICKETING_ADDR", "LLM_GATEWAY_ADDR",
                "NOTIFICATION_ADDR",
            ])
        #expect(
            PeerService.allCases.map(\.executableName) == [
                "control", "execution", "kb-search", "ticketing", "llm-gateway", "notification",
            ])
    }
}
