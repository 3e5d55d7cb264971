import Foundation
import RuntimePostgres
import ServiceTestSupport
import Testing

@Suite("PostgreSQL migrations and row-level security", .serialized)
struct PostgresRowLevelSecurityTests {
    private let admin = PostgresPool(configuration: .init(connectionString: testDatabaseURL, maximumConnections: 2))

    private static let notesTable = Migration(
        version: 1, name: "notes",
        sql: """
            CREATE TABLE notes (
                id bigserial PRIMARY KEY,
                tenant_id text NOT NULL,
                body text NOT NULL
            );
            ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
            ALTER TABLE notes FORCE ROW LEVEL SECURITY;
            CREATE POLICY tenant_isolation ON notes
                USING (tenant_id = current_setting('app.tenant_id', true))
                WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
            """)

    /// A fresh schema name, dropped (as the superuser) after `body`.
    private func withSchema(_ body: (String) async throws -> Void) async throws {
        let schema = "rls_test_\(UInt32.random(in: 0...UInt32.max))"
        defer { admin.close() }
        do {
            try await body(schema)
        } catch {
            _ = try? await admin.query("DROP SCHEMA IF EXISTS \(schema) CASCADE")
            throw error
        }
        _ = try await admin.query("DROP SCHEMA IF EXISTS \(schema) CASCADE")
    }

    private func applicationPool(size: Int = 4) -> PostgresPool {
        PostgresPool(
            configuration: .init(
                connectionString: testDatabaseURL, maximumConnections: size,
                role: PostgresMigrator.defaultApplicationRole, applicationName: "rls-test"))
    }

    @Test func aTenantSeesOnlyItsOwnRowsEvenWithoutAWhereClause() async throws {
        try await withSchema { schema in
            try await PostgresMigrator(connectionString: testDatabaseURL, schema: schema).migrate([Self.notesTable])
            let pool = applicationPool()
            defer { pool.close() }
            // The pool really runs as the application role, not the superuser it logged in as.
            #expect(try await pool.query("SELECT current_user AS u")[0]["u"] == PostgresMigrator.defaultApplicationRole)

            for (tenant, body) in [("tenant-a", "a1"), ("tenant-a", "a2"), ("tenant-b", "b1")] {
                try await pool.transaction(tenant: tenant) { session in
                    _ = try await session.query(
                        "INSERT INTO \(schema).notes (tenant_id, body) VALUES ($1, $2)", tenant, body)
                }
            }
            let seenByA = try await pool.transaction(tenant: "tenant-a") { session in
                try await session.query("SELECT tenant_id, body FROM \(schema).notes ORDER BY body")
            }
            #expect(seenByA.map { $0["body"] } == ["a1", "a2"])
            // Asking for B's rows by name, with A's context, finds nothing.
            let probe = try await pool.transaction(tenant: "tenant-a") { session in
                try await session.query("SELECT body FROM \(schema).notes WHERE tenant_id = $1", "tenant-b")
            }
            #expect(probe.isEmpty)
            // Without a tenant context nothing is visible, and the context does not outlive its transaction.
            #expect(try await pool.query("SELECT body FROM \(schema).notes").isEmpty)
            // A cannot write a row for B, nor move its rows to B.
            let write = await #expect(throws: PostgresError.self) {
                try await pool.transaction(tenant: "tenant-a") { session in
                    _ = try await session.query(
                        "INSERT INTO \(schema).notes (tenant_id, body) VALUES ($1, $2)", "tenant-b", "forged")
                }
            }
            #expect(write?.sqlState == "42501")
            let moved = try await pool.transaction(tenant: "tenant-a") { session in
                try await session.query(
                    "UPDATE \(schema).notes SET body = 'changed' WHERE tenant_id = $1 RETURNING id", "tenant-b")
            }
            #expect(moved.isEmpty)
            // The superuser, which owns nothing here, sees all three: the isolation is the policy's.
            #expect(
                try await admin.query("SELECT count(*) AS n FROM \(schema).notes")[0].decode("n", as: Int.self) == 3)
            // The application role cannot read the migration records or change the schema.
            await #expect(throws: PostgresError.self) {
                _ = try await pool.query("SELECT * FROM \(schema).schema_migrations")
            }
            await #expect(throws: PostgresError.self) {
                _ = try await pool.query("ALTER TABLE \(schema).notes DISABLE ROW LEVEL SECURITY")
            }
        }
    }

    @Test func migrationsApplyOnceAndAreRecorded() async throws {
        try await withSchema { schema in
            let migrator = PostgresMigrator(connectionString: testDatabaseURL, schema: schema)
            let second = Migration(version: 2, name: "index", sql: "CREATE INDEX notes_tenant ON notes (tenant_id);")
            // Five replicas start at once: each migration is applied exactly once.
            let results = try await withThrowingTaskGroup(of: [Int].self) { group in
                for _ in 0..<5 { group.addTask { try await migrator.migrate([Self.notesTable, second]) } }
                var all: [[Int]] = []
                for try await applied in group { all.append(applied) }
                return all
            }
            #expect(results.filter { !$0.isEmpty } == [[1, 2]])
            let rows = try await admin.query("SELECT version, name FROM \(schema).schema_migrations ORDER BY version")
            #expect(rows.map { $0["name"] } == ["notes", "index"])
            #expect(try await migrator.migrate([Self.notesTable, second]).isEmpty)

            // An applied file that changed stops start-up.
            let edited = Migration(version: 2, name: "index", sql: second.sql + " -- edited")
            let changed = await #expect(throws: PostgresError.self) {
                try await migrator.migrate([Self.notesTable, edited])
            }
            #expect(changed?.code == .migration)
            #expect(changed?.message.contains("changed after it was applied") == true)
        }
    }

    @Test func aFailingMigrationLeavesNothingBehind() async throws {
        try await withSchema { schema in
            let migrator = PostgresMigrator(connectionString: testDatabaseURL, schema: schema)
            let broken = Migration(version: 2, name: "broken", sql: "CREATE TABLE half (id int); SELEC 1;")
            let error = await #expect(throws: PostgresError.self) {
                try await migrator.migrate([Self.notesTable, broken])
            }
            #expect(error?.code == .migration)
            #expect(error?.message.contains("2 (broken)") == true)
            // Not even the first migration, nor the schema, survived.
            let schemas = try await admin.query("SELECT 1 FROM pg_namespace WHERE nspname = $1", schema)
            #expect(schemas.isEmpty)
        }
    }

    @Test func aTenantTableWithoutForcedRowLevelSecurityIsRefused() async throws {
        try await withSchema { schema in
            let leaky = Migration(
                version: 1, name: "leaky",
                sql: """
                    CREATE TABLE secrets (tenant_id text NOT NULL, value text);
                    ALTER TABLE secrets ENABLE ROW LEVEL SECURITY;
                    CREATE POLICY p ON secrets USING (tenant_id = current_setting('app.tenant_id', true));
                    """)
            let error = await #expect(throws: PostgresError.self) {
                try await PostgresMigrator(connectionString: testDatabaseURL, schema: schema).migrate([leaky])
            }
            #expect(error?.message.contains("secrets: row level security is not forced") == true)
        }
    }

    @Test func migrationFilesLoadInVersionOrder() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("migrations-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try "SELECT 2;".write(to: folder.appendingPathComponent("0010_second.sql"), atomically: true, encoding: .utf8)
        try "SELECT 1;".write(to: folder.appendingPathComponent("0002_first.sql"), atomically: true, encoding: .utf8)
        try "notes".write(to: folder.appendingPathComponent("README.md"), atomically: true, encoding: .utf8)
        let migrations = try Migration.load(from: folder)
        #expect(migrations.map(\.version) == [2, 10])
        #expect(migrations.map(\.name) == ["first", "second"])
    }

    @Test func byteaRoundTrips() async throws {
        let bytes: [UInt8] = [0, 1, 0x7f, 0x80, 0xff, 13, 10]
        let rows = try await admin.query("SELECT $1::bytea AS b, length($1::bytea) AS n", bytes)
        #expect(try rows[0].decode("b", as: [UInt8].self) == bytes)
        #expect(try rows[0].decode("n", as: Int.self) == bytes.count)
        admin.close()
    }
}
