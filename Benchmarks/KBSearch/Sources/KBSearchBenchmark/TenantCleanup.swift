import RuntimePostgres

/// Removes benchmark tenants' rows from the `kb` schema directly (as the login user, a superuser
/// on the project's PostgreSQL, which row-level security does not bind): the service's
/// DeleteDocument leaves the tenant's change log and its `kb.index_tenants` row behind, and a run
/// that failed half-way leaves everything. Other test runs load every tenant into memory, so no
/// benchmark tenant may outlive its run.
struct TenantCleanup {
    /// Tenant ids of this benchmark start with it, so that leftovers of an interrupted run are found.
    static let tenantPrefix = "kbbench-release-"

    let pool: PostgresPool

    init(databaseURL: String) {
        pool = PostgresPool(
            configuration: .init(
                connectionString: databaseURL, maximumConnections: 1, statementTimeout: .seconds(600),
                applicationName: "kb-search-benchmark"))
    }

    /// Deletes every row of `tenant`; the rows deleted.
    @discardableResult
    func purge(tenant: String) async throws -> Int {
        var deleted = 0
        // Chunks would go with their documents (ON DELETE CASCADE); deleted first so they are counted.
        for (table, column) in [
            ("kb.chunks", "tenant_id"), ("kb.documents", "tenant_id"), ("kb.changes", "tenant_id"),
            ("kb.index_tenants", "tenant"),
        ] {
            let rows = try await pool.query(
                "WITH gone AS (DELETE FROM \(table) WHERE \(column) = $1 RETURNING 1) SELECT count(*) AS n FROM gone",
                tenant)
            deleted += try rows.first?.decode("n", as: Int.self) ?? 0
        }
        return deleted
    }

    /// Benchmark tenants with rows left in any `kb` table (an earlier run that was killed).
    func leftovers() async throws -> [String] {
        let pattern = Self.tenantPrefix + "%"
        return try await pool.query(
            """
            SELECT tenant_id AS tenant FROM kb.documents WHERE tenant_id LIKE $1
            UNION SELECT tenant_id FROM kb.changes WHERE tenant_id LIKE $1
            UNION SELECT tenant FROM kb.index_tenants WHERE tenant LIKE $1
            """, pattern
        ).map { try $0.decode("tenant", as: String.self) }
    }

    /// Rows of `tenant` still in the `kb` tables.
    func remainingRows(tenant: String) async throws -> Int {
        let rows = try await pool.query(
            """
            SELECT (SELECT count(*) FROM kb.documents WHERE tenant_id = $1)
                + (SELECT count(*) FROM kb.chunks WHERE tenant_id = $1)
                + (SELECT count(*) FROM kb.changes WHERE tenant_id = $1)
                + (SELECT count(*) FROM kb.index_tenants WHERE tenant = $1) AS total
            """, tenant)
        return try rows.first?.decode("total", as: Int.self) ?? 0
    }

    func close() { pool.close() }
}
