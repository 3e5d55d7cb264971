import Foundation
import RuntimeConfig
import Testing

extension ConfigurationTests {
    @Test(
        arguments: [
            ("500ms", Duration.milliseconds(500)), ("5s", .seconds(5)), ("2m", .seconds(120)), ("1h", .seconds(3600)),
            ("10", .seconds(10)), ("0.25", .milliseconds(250)), ("1.5s", .milliseconds(1500)), (" 3S ", .seconds(3)),
            ("0", .zero),
        ])
    func durations(text: String, expected: Duration) {
        var reader = ConfigReader(environment: ["GRACE": text], arguments: [])
        #expect(reader.duration("GRACE", default: .seconds(99)) == expected)
        #expect(reader.isValid)
    }

    @Test func badDurationsAreProblems() {
        for text in ["soon", "-1s", "5 minutes", "1d", "s", "1e3", ".", "ms5"] {
            var reader = ConfigReader(environment: ["GRACE": text], arguments: [])
            #expect(reader.duration("GRACE", default: .seconds(7)) == .seconds(7), "\(text)")
            #expect(reader.problems.map(\.key) == ["GRACE"], "\(text)")
        }
    }

    @Test func flagsListsIntegersAndStrings() {
        var reader = ConfigReader(
            environment: [
                "ON": "Yes", "OFF": "0", "BAD_FLAG": "maybe", "LIST": " a, b ,,c ,", "EMPTY_LIST": " , ",
                "N": " 42 ", "NOT_N": "4x", "TEXT": "hello",
            ],
            arguments: [])
        #expect(reader.bool("ON", default: false) == true)
        #expect(reader.bool("OFF", default: true) == false)
        #expect(reader.bool("UNSET_FLAG", default: true) == true)
        #expect(reader.bool("BAD_FLAG", default: false) == false)
        #expect(reader.list("LIST") == ["a", "b", "c"])
        #expect(reader.list("EMPTY_LIST") == [])
        #expect(reader.list("UNSET_LIST") == [])
        #expect(reader.int("N", default: 0) == 42)
        #expect(reader.int("NOT_N", default: 5) == 5)
        #expect(reader.string("TEXT") == "hello")
        #expect(reader.string("UNSET") == nil)
        #expect(reader.string("UNSET", default: "d") == "d")
        #expect(reader.port("UNSET_PORT", default: 8080) == 8080)
        #expect(reader.problems.map(\.key) == ["BAD_FLAG", "NOT_N"])
        reader.recordProblem("CUSTOM", "CUSTOM is wrong")
        reader.recordProblem("CUSTOM", "CUSTOM is wrong")
        #expect(reader.problems.map(\.key) == ["BAD_FLAG", "NOT_N", "CUSTOM"])
    }

    @Test func redisURLs() throws {
        let full = try RedisURL(parsing: "rediss://user:p%40ss@cache.example:6380/5")
        #expect(
            full
                == RedisURL(
                    usesTLS: true, host: "cache.example", port: 6380, database: 5, username: "user",
                    password: Secret("p@ss")))
        #expect(try RedisURL(parsing: "redis://127.0.0.1") == RedisURL(host: "127.0.0.1"))
        #expect(try RedisURL(parsing: "redis://[::1]:6379/1").host == "::1")
        #expect(try RedisURL(parsing: "REDIS://h/").database == 0)
        for bad in [
            "foo", "http://h:6379/0", "redis://", "redis://h:0/0", "redis://h:70000/0", "redis://h/x", "redis://h/-1",
            "redis://bad host/0",
        ] {
            #expect(throws: RedisURL.ParseError.self, "\(bad)") { try RedisURL(parsing: bad) }
        }
        #expect(full.description == "rediss://user:***@cache.example:6380/5")
    }

    @Test func databaseURLsInBothForms() throws {
        for good in [
            "postgres://u:p@db:5432/app", "postgresql://db/app?sslmode=require",
            "postgresql:///app?host=/var/run/postgresql",
            "postgresql://h1:5432,h2:5433/app", "postgresql://[::1]:5432/app",
            "host=db port=5432 dbname=app user=u password='it\\'s quoted'", "dbname = app",
        ] {
            var environment = Self.minimal
            environment["DATABASE_URL"] = good
            #expect(throws: Never.self, "\(good)") { try load(environment) }
        }
        for bad in ["nonsense", "mysql://db/app", "postgresql://db:0/app", "host=db password='open", "=x", "host db"] {
            var environment = Self.minimal
            environment["DATABASE_URL"] = bad
            #expect(problems(environment)?.keys == ["DATABASE_URL"], "\(bad)")
        }
    }

    @Test func secretsPrintRedacted() {
        let secret = Secret("hunter2")
        var dumped = ""
        dump(secret, to: &dumped)
        #expect("\(secret)" == "<redacted>")
        #expect(String(reflecting: secret) == "<redacted>")
        #expect(!dumped.contains("hunter2"))
        #expect(!"\([secret])".contains("hunter2"))
        #expect(secret.reveal() == "hunter2")
        #expect(secret.byteCount == 7)
        #expect(Secret(bytes: [1, 2]).revealBytes() == [1, 2])
        #expect(!"\(SecretBoxKey(id: "k", key: secret))".contains("hunter2"))
    }
}
