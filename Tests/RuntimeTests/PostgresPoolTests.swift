import Foundation
import RuntimePostgres
import ServiceTestSupport
import Testing

@Suite("PostgreSQL through libpq", .serialized)
struct PostgresPoolTests {
    private func makePool(
        size: Int = 8, wait: Duration = .seconds(5), statementTimeout: Duration? = .seconds(30)
    ) -> PostgresPool {
        PostgresPool(
            configuration: PostgresPool.Configuration(
                connectionString: testDatabaseURL, maximumConnections: size, waitTimeout: wait,
                statementTimeout: statementTimeout))
    }

    /// Ends, from `killer`, the backend of `pool`'s one connection once it runs a `pg_sleep`: a
    /// server that drops a connection while a statement waits for its answer.
    private func terminateWhenSleeping(_ pool: PostgresPool, using killer: PostgresPool) async throws
        -> Task<Void, any Error>
    {
        let pid = try await pool.query("SELECT pg_backend_pid() AS p")[0].decode("p", as: Int.self)
        return Task {
            for _ in 0..<100 {
                let rows = try await killer.query(
                    "SELECT pg_terminate_backend($1) AS k FROM pg_stat_activity WHERE pid = $1 AND query LIKE '%pg_sleep%'",
                    pid)
                if !rows.isEmpty { return }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    /// A schema of its own for one test, dropped afterwards.
    private func withSchema(_ pool: PostgresPool, _ body: (String) async throws -> Void) async throws {
        let schema = "runtime_test_\(UInt32.random(in: 0...UInt32.max))"
        _ = try await pool.query("CREATE SCHEMA \(schema)")
        do {
            try await body(schema)
        } catch {
            _ = try? await pool.query("DROP SCHEMA \(schema) CASCADE")
            throw error
        }
        _ = try await pool.query("DROP SCHEMA \(schema) CASCADE")
    }

    @Test func twoHundredConcurrentQueriesThroughAPoolOfEight() async throws {
        let pool = makePool(size: 8)
        let sums = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<200 {
                group.addTask {
                    let rows = try await pool.query("SELECT $1::int + 1 AS n, pg_sleep(0.002)", index)
                    return try rows[0].decode("n", as: Int.self)
                }
            }
            var results: [Int] = []
            for try await value in group { results.append(value) }
            return results
        }
        #expect(sums.sorted() == Array(1...200))
        #expect(pool.openConnections <= 8)
        pool.close()
    }

    @Test func waitingPastTheTimeoutFailsClearly() async throws {
        let pool = makePool(size: 1, wait: .milliseconds(150))
        async let holder: [PostgresRow] = pool.query("SELECT pg_sleep(0.8)")
        try await Task.sleep(for: .milliseconds(100))
        let error = await #expect(throws: PostgresError.self) { _ = try await pool.query("SELECT 1") }
        #expect(error?.code == .poolTimeout)
        #expect(error?.message.contains("pool of 1") == true)
        _ = try await holder
        // Once the connection is back, the pool serves again.
        #expect(try await pool.query("SELECT 2 AS n")[0].decode("n", as: Int.self) == 2)
        pool.close()
    }

    @Test func aTransactionThatThrowsLeavesNothingBehind() async throws {
        struct Abort: Error {}
        let pool = makePool()
        try await withSchema(pool) { schema in
            _ = try await pool.query("CREATE TABLE \(schema).items (id text PRIMARY KEY)")
            await #expect(throws: Abort.self) {
                try await pool.transaction { session in
                    _ = try await session.query("INSERT INTO \(schema).items VALUES ($1)", "a")
                    _ = try await session.query("INSERT INTO \(schema).items VALUES ($1)", "b")
                    throw Abort()
                }
            }
            #expect(try await pool.query("SELECT count(*) AS n FROM \(schema).items")[0].decode("n", as: Int.self) == 0)
            try await pool.transaction { session in
                _ = try await session.query("INSERT INTO \(schema).items VALUES ($1)", "c")
            }
            #expect(try await pool.query("SELECT count(*) AS n FROM \(schema).items")[0].decode("n", as: Int.self) == 1)
        }
        pool.close()
    }

    @Test("statements are prepared once per connection and keep working when a table changes under them")
    func preparedStatements() async throws {
        let pool = makePool(size: 1)
        try await withSchema(pool) { schema in
            _ = try await pool.query("CREATE TABLE \(schema).items (id text PRIMARY KEY)")
            _ = try await pool.query("INSERT INTO \(schema).items VALUES ($1)", "a")
            let select = "SELECT * FROM \(schema).items"
            #expect(try await pool.query(select)[0].decode("id", as: String.self) == "a")
            let prepared = try await pool.query(
                "SELECT count(*) AS n FROM pg_prepared_statements WHERE statement = $1", select)
            #expect(try prepared[0].decode("n", as: Int.self) == 1)

            // A column added under the prepared SELECT *: that one call fails as PostgreSQL
            // says, the next is prepared afresh and sees the new column.
            _ = try await pool.query("ALTER TABLE \(schema).items ADD COLUMN note text DEFAULT 'new'")
            let changed = await #expect(throws: PostgresError.self) { _ = try await pool.query(select) }
            #expect(changed?.sqlState == "0A000")
            #expect(try await pool.query(select)[0].decode("note", as: String.self) == "new")

            // Past the cache's size, statements still run (unprepared).
            for index in 0..<300 {
                let rows = try await pool.query("SELECT $1::int + \(index) AS n", 1)
                #expect(try rows[0].decode("n", as: Int.self) == index + 1)
            }
            let count = try await pool.query("SELECT count(*) AS n FROM pg_prepared_statements")
            #expect(try count[0].decode("n", as: Int.self) <= 256)
        }
        pool.close()
    }

    @Test("a transaction's tenant is set for it alone, whatever characters it holds")
    func transactionTenantSetting() async throws {
        let pool = makePool(size: 1)
        for tenant in ["acme", "o'neil", #"back\slash' OR '1'='1"#, "ünï-cødé"] {
            let seen = try await pool.transaction(tenant: tenant) { session in
                try await session.query("SELECT current_setting('app.tenant_id') AS t")[0].decode("t", as: String.self)
            }
            #expect(seen == tenant)
            // Ended with the transaction, on the pool's one connection.
            let after = try await pool.query("SELECT coalesce(current_setting('app.tenant_id', true), '') AS t")
            #expect(try after[0].decode("t", as: String.self) == "")
        }
        // A transaction that ran no statement, then one that failed: the connection is idle again.
        try await pool.transaction(tenant: "acme") { _ in }
        await #expect(throws: PostgresError.self) {
            try await pool.transaction(tenant: "acme") { session in _ = try await session.query("SELEC 1") }
        }
        // Outside a transaction, now() moves between statements (inside one, it would not).
        let first = try await pool.query("SELECT now()::text AS t")[0].decode("t", as: String.self)
        try await Task.sleep(for: .milliseconds(20))
        let second = try await pool.query("SELECT now()::text AS t")[0].decode("t", as: String.self)
        #expect(first != second)
        pool.close()
    }

    @Test("a transaction's last statement carries its COMMIT: committed once, a failure commits nothing")
    func commitTravelsWithTheLastStatement() async throws {
        let pool = makePool(size: 1)
        let other = makePool(size: 1)
        try await withSchema(pool) { schema in
            _ = try await pool.query("CREATE TABLE \(schema).items (id text PRIMARY KEY)")
            func count() async throws -> Int {
                try await other.query("SELECT count(*) AS n FROM \(schema).items")[0].decode("n", as: Int.self)
            }
            // One statement: BEGIN, the tenant, the statement and COMMIT in one round trip.
            let rows = try await pool.transaction(tenant: "acme") { session in
                try await session.queryCommitting(
                    "INSERT INTO \(schema).items VALUES ($1) RETURNING current_setting('app.tenant_id') AS t", "a")
            }
            #expect(rows.first?["t"] == "acme")
            #expect(try await count() == 1)
            // After other statements.
            try await pool.transaction(tenant: "acme") { session in
                _ = try await session.query("INSERT INTO \(schema).items VALUES ($1)", "b")
                _ = try await session.queryCommitting("INSERT INTO \(schema).items VALUES ($1)", "c")
            }
            #expect(try await count() == 3)
            // The committing statement fails: nothing of the transaction stays.
            let failed = await #expect(throws: PostgresError.self) {
                try await pool.transaction(tenant: "acme") { session in
                    _ = try await session.query("INSERT INTO \(schema).items VALUES ($1)", "d")
                    _ = try await session.queryCommitting("INSERT INTO \(schema).items VALUES ($1)", "a")
                }
            }
            #expect(failed?.code == .uniqueViolation)
            #expect(try await count() == 3)
            // Nothing may follow a committing statement; what it committed stays.
            let barred = await #expect(throws: PostgresError.self) {
                try await pool.transaction(tenant: "acme") { session in
                    _ = try await session.queryCommitting("INSERT INTO \(schema).items VALUES ($1)", "e")
                    _ = try await session.query("INSERT INTO \(schema).items VALUES ($1)", "f")
                }
            }
            #expect(barred?.message.contains("committed") == true)
            #expect(try await count() == 4)
            // Outside a transaction it is a statement like another, and the one connection serves on.
            _ = try await pool.withConnection { session in
                try await session.queryCommitting("INSERT INTO \(schema).items VALUES ($1)", "g")
            }
            let n = try await pool.transaction(tenant: "acme") { session in
                try await session.query("SELECT count(*) AS n FROM \(schema).items")[0].decode("n", as: Int.self)
            }
            #expect(n == 5)
        }
        // The server ends the backend while the pipelined statement and COMMIT wait for their answer.
        let killing = try await terminateWhenSleeping(pool, using: other)
        let lost = await #expect(throws: PostgresError.self) {
            try await pool.transaction(tenant: "acme") { session in
                _ = try await session.query("SELECT 1")
                _ = try await session.queryCommitting("SELECT pg_sleep(10)")
            }
        }
        #expect(lost?.code == .connection)
        try await killing.value
        let again = try await pool.transaction(tenant: "beta") { session in
            try await session.queryCommitting("SELECT current_setting('app.tenant_id') AS t")[0]["t"]
        }
        #expect(again == "beta")
        other.close()
        pool.close()
    }

    @Test("a transaction's first statement travels with BEGIN: its failure, then a lost connection mid-way")
    func beginTravelsWithTheFirstStatement() async throws {
        let pool = makePool(size: 1)
        try await withSchema(pool) { schema in
            _ = try await pool.query("CREATE TABLE \(schema).items (id text PRIMARY KEY)")
            // The first statement fails at run time (not at prepare time): the transaction is
            // rolled back, nothing stays, and the one connection serves the next transaction.
            let failed = await #expect(throws: PostgresError.self) {
                try await pool.transaction(tenant: "acme") { session in
                    _ = try await session.query("INSERT INTO \(schema).items VALUES ($1), ($1)", "x")
                }
            }
            #expect(failed?.code == .uniqueViolation)
            let rows = try await pool.transaction(tenant: "acme") { session in
                try await session.query(
                    "SELECT count(*) AS n, current_setting('app.tenant_id') AS t FROM \(schema).items")
            }
            #expect(try rows[0].decode("n", as: Int.self) == 0)
            #expect(rows[0]["t"] == "acme")
            // Several statements after the first, and a commit.
            try await pool.transaction(tenant: "acme") { session in
                _ = try await session.query("INSERT INTO \(schema).items VALUES ($1)", "a")
                _ = try await session.query("INSERT INTO \(schema).items VALUES ($1)", "b")
            }
            #expect(try await pool.query("SELECT count(*) AS n FROM \(schema).items")[0].decode("n", as: Int.self) == 2)
        }
        // The server ends the backend while the pipelined BEGIN + statement waits for its answer.
        let killer = makePool(size: 1)
        let killing = try await terminateWhenSleeping(pool, using: killer)
        let lost = await #expect(throws: PostgresError.self) {
            try await pool.transaction(tenant: "acme") { session in _ = try await session.query("SELECT pg_sleep(10)") }
        }
        #expect(lost?.code == .connection)
        try await killing.value
        // The broken connection was dropped: the next transaction gets a new one.
        let again = try await pool.transaction(tenant: "beta") { session in
            try await session.query("SELECT current_setting('app.tenant_id') AS t")[0]["t"]
        }
        #expect(again == "beta")
        killer.close()
        pool.close()
    }

    @Test func sqlStatesBecomeTypedErrors() async throws {
        let pool = makePool(statementTimeout: .milliseconds(200))
        try await withSchema(pool) { schema in
            _ = try await pool.query("CREATE TABLE \(schema).items (id text PRIMARY KEY)")
            _ = try await pool.query("INSERT INTO \(schema).items VALUES ($1)", "x")
            let duplicate = await #expect(throws: PostgresError.self) {
                _ = try await pool.query("INSERT INTO \(schema).items VALUES ($1)", "x")
            }
            #expect(duplicate?.code == .uniqueViolation)
            #expect(duplicate?.sqlState == "23505")
            let slow = await #expect(throws: PostgresError.self) { _ = try await pool.query("SELECT pg_sleep(2)") }
            #expect(slow?.code == .queryCanceled)
            let syntax = await #expect(throws: PostgresError.self) { _ = try await pool.query("SELEC 1") }
            #expect(syntax?.code == .server)
            #expect(syntax?.sqlState == "42601")
        }
        pool.close()
    }

    @Test func injectionStringsRoundTripAsData() async throws {
        let pool = makePool()
        let hostile = [
            "'; DROP TABLE users; --", "Robert'); DROP TABLE Students;--", "$1", "\\", "\"quoted\"",
            "\r\n*3\r\n$3\r\nSET\r\n", "ünïcødé 🚀", "' OR '1'='1",
        ]
        for text in hostile {
            let rows = try await pool.query("SELECT $1::text AS v, length($1::text) AS n", text)
            #expect(rows[0]["v"] == text)
            #expect(try rows[0].decode("n", as: Int.self) == text.unicodeScalars.count)
        }
        let nulls = try await pool.query("SELECT $1::text AS v", nil)
        #expect(nulls[0]["v"] == nil)
        pool.close()
    }
}
