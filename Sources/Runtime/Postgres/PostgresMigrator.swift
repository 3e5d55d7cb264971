import Dispatch
public import Foundation

/// One versioned step of a service's schema: a SQL file such as `0001_tickets.sql`.
public struct Migration: Sendable, Hashable {
    /// The version, from the file name's leading number; applied in increasing order.
    public var version: Int
    /// The rest of the file name, for people.
    public var name: String
    /// The statements, run as the schema's owner with `search_path` set to the schema.
    public var sql: String

    /// A migration.
    public init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// The `NNNN_name.sql` files of a folder, in version order; other files are ignored.
    public static func load(from directory: URL) throws -> [Migration] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        var migrations: [Migration] = []
        for file in names where file.hasSuffix(".sql") {
            let stem = file.dropLast(4)
            let digits = stem.prefix { $0.isNumber }
            guard let version = Int(digits) else {
                throw PostgresError(
                    code: .migration, message: "migration file '\(file)' does not start with a version number")
            }
            let sql = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            let name = stem.dropFirst(digits.count).drop { $0 == "_" || $0 == "-" }
            migrations.append(Migration(version: version, name: String(name), sql: sql))
        }
        let sorted = migrations.sorted { $0.version < $1.version }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.version == b.version {
            throw PostgresError(code: .migration, message: "two migrations have version \(a.version)")
        }
        return sorted
    }
}

/// Applies a service's migrations to its own schema at start-up, and prepares the role its
/// pool runs queries as.
///
/// Everything happens in one transaction under a cluster-wide advisory lock, so replicas
/// starting together apply each migration once, and a failing migration leaves nothing
/// behind. Applied versions are recorded in `<schema>.schema_migrations` with a checksum; an
/// applied file that changed afterwards stops start-up. Migrations run as the login user,
/// which owns the tables; queries later run as `applicationRole`, which is neither superuser
/// nor owner, so row-level security binds. Every table with a `tenant_id` column must have
/// row-level security enabled and forced, or the migration is refused.
public struct PostgresMigrator: Sendable {
    /// The role services query as: `NOLOGIN`, no superuser, no `BYPASSRLS`.
    public static let defaultApplicationRole = "agentplane_app"

    /// A libpq connection string or URI for the schema's owner.
    public var connectionString: String
    /// The service's schema, e.g. `ticketing`.
    public var schema: String
    /// The role granted access to the schema's tables, which pools switch to.
    public var applicationRole: String

    /// A migrator for one schema.
    public init(connectionString: String, schema: String, applicationRole: String = defaultApplicationRole) {
        self.connectionString = connectionString
        self.schema = schema
        self.applicationRole = applicationRole
    }

    /// Applies the migrations not applied yet; returns their versions.
    @discardableResult
    public func migrate(_ migrations: [Migration]) async throws -> [Int] {
        for name in [schema, applicationRole] where !Self.isPlainIdentifier(name) {
            throw PostgresError(
                code: .migration, message: "'\(name)' is not a plain identifier (lower-case letters, digits, _)")
        }
        let migrator = self
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try migrator.migrateBlocking(migrations) })
            }
        }
    }

    private func migrateBlocking(_ migrations: [Migration]) throws -> [Int] {
        let connection = try PostgresConnection(connectionString: connectionString, settings: [:])
        try connection.executeScript("BEGIN")
        do {
            let applied = try apply(migrations, on: connection)
            try connection.executeScript("COMMIT")
            return applied
        } catch {
            try? connection.executeScript("ROLLBACK")
            throw error
        }
    }

    private func apply(_ migrations: [Migration], on connection: PostgresConnection) throws -> [Int] {
        // One lock for every schema: roles are cluster-wide, and start-up is not a hot path.
        _ = try connection.execute("SELECT pg_advisory_xact_lock(hashtext('agentplane.migrations'))", [])
        try prepareRole(on: connection)
        try connection.executeScript(
            """
            CREATE SCHEMA IF NOT EXISTS \(schema);
            CREATE TABLE IF NOT EXISTS \(schema).schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                checksum text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            );
            """)
        var recorded: [Int: String] = [:]
        for row in try connection.execute("SELECT version, checksum FROM \(schema).schema_migrations", []) {
            recorded[try row.decode("version")] = try row.decode("checksum", as: String.self)
        }
        var applied: [Int] = []
        for migration in migrations.sorted(by: { $0.version < $1.version }) {
            let checksum: String = try connection.execute("SELECT md5($1) AS sum", [migration.sql])[0].decode("sum")
            if let existing = recorded[migration.version] {
                guard existing == checksum else {
                    throw PostgresError(
                        code: .migration,
                        message:
                            "migration \(schema) \(migration.version) (\(migration.name)) changed after it was applied")
                }
                continue
            }
            try connection.executeScript("SET LOCAL search_path TO \(schema), public")
            do {
                try connection.executeScript(migration.sql)
            } catch let error as PostgresError {
                throw PostgresError(
                    code: .migration, sqlState: error.sqlState,
                    message: "migration \(schema) \(migration.version) (\(migration.name)) failed: \(error.message)")
            }
            try connection.executeScript("RESET search_path")
            _ = try connection.execute(
                "INSERT INTO \(schema).schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                [migration.version, migration.name, checksum])
            applied.append(migration.version)
        }
        try grantAccess(on: connection)
        try checkRowLevelSecurity(on: connection)
        return applied
    }

    /// Creates the application role if it is missing, and lets the login user switch to it.
    private func prepareRole(on connection: PostgresConnection) throws {
        try connection.executeScript(
            """
            DO $$
            BEGIN
                IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '\(applicationRole)') THEN
                    CREATE ROLE \(applicationRole) NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
                END IF;
                IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
                   AND NOT pg_has_role(current_user, '\(applicationRole)', 'MEMBER') THEN
                    EXECUTE format('GRANT %I TO %I', '\(applicationRole)', current_user);
                END IF;
            END
            $$;
            """)
    }

    private func grantAccess(on connection: PostgresConnection) throws {
        try connection.executeScript(
            """
            GRANT USAGE ON SCHEMA \(schema) TO \(applicationRole);
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA \(schema) TO \(applicationRole);
            GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA \(schema) TO \(applicationRole);
            GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA \(schema) TO \(applicationRole);
            REVOKE ALL ON \(schema).schema_migrations FROM \(applicationRole);
            """)
    }

    /// Refuses a schema where a tenant-scoped table could be read across tenants.
    private func checkRowLevelSecurity(on connection: PostgresConnection) throws {
        let rows = try connection.execute(
            """
            SELECT c.relname AS name, c.relrowsecurity AS enabled, c.relforcerowsecurity AS forced,
                   EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid) AS has_policy
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
            WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')
            ORDER BY c.relname
            """, [schema])
        var problems: [String] = []
        for row in rows {
            let name: String = try row.decode("name")
            if try !row.decode("enabled", as: Bool.self) { problems.append("\(name): row level security is off") }
            if try !row.decode("forced", as: Bool.self) {
                problems.append("\(name): row level security is not forced (FORCE ROW LEVEL SECURITY)")
            }
            if try !row.decode("has_policy", as: Bool.self) { problems.append("\(name): no policy") }
        }
        guard problems.isEmpty else {
            throw PostgresError(
                code: .migration,
                message:
                    "tenant-scoped tables in schema \(schema) are not isolated: \(problems.joined(separator: "; "))")
        }
    }

    private static func isPlainIdentifier(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || ("a"..."z").contains(first) else { return false }
        return name.count <= 63
            && name.unicodeScalars.allSatisfy { $0 == "_" || ("a"..."z").contains($0) || ("0"..."9").contains($0) }
    }
}
