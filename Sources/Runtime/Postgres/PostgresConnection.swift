private import CLibpq
import Dispatch
import Glibc

/// One libpq connection. It owns the `PGconn` and closes it in `deinit`. Every call blocks,
/// so the pool runs them on the connection's own dispatch queue, never on an event loop.
final class PostgresConnection: @unchecked Sendable {
    private let connection: OpaquePointer
    /// Where this connection's blocking calls run, one at a time; the task holding the
    /// connection runs there too (`PostgresPool.withConnection`).
    let executor = ConnectionExecutor(label: "agentplane.postgres.connection")
    var queue: DispatchQueue { executor.queue }
    /// Statements prepared on this connection, by their SQL: a service runs the same few dozen
    /// statements all day, and the server then parses each once per connection instead of on
    /// every call. Touched only on `queue`.
    private var prepared: [String: String] = [:]
    /// Statements prepared so far, for fresh names.
    private var preparedCount = 0
    /// A transaction asked for and not yet begun: it begins on the same trip to the queue (and
    /// the same round trip to the server) as its first statement, and one that never ran a
    /// statement costs nothing.
    private var pendingBegin: PendingBegin?

    private enum PendingBegin {
        case plain
        case tenant(String)
    }

    /// The most statements kept prepared; SQL past it runs unprepared (text that embeds
    /// values would otherwise grow the server's memory without bound).
    static let preparedLimit = 256

    /// Connects; `connectionString` is a libpq key=value string or a postgresql:// URI.
    init(connectionString: String, settings: [String: String]) throws {
        guard let connection = PQconnectdb(connectionString) else {
            throw PostgresError(code: .connection, message: "libpq could not allocate a connection")
        }
        guard PQstatus(connection) == CONNECTION_OK else {
            let message = Self.text(PQerrorMessage(connection))
            PQfinish(connection)
            throw PostgresError(code: .connection, message: message)
        }
        // Server notices ("table does not exist, skipping") are not errors; libpq would print
        // them on stderr.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
        self.connection = connection
        for (name, value) in settings.sorted(by: { $0.key < $1.key }) {
            _ = try execute("SELECT set_config($1, $2, false)", [name, value])
        }
    }

    deinit {
        PQfinish(connection)
    }

    /// Whether the connection is still usable (libpq notices a broken one after a failure).
    var isHealthy: Bool { !stuckInPipeline && PQstatus(connection) == CONNECTION_OK }
    /// Set when a pipeline could not be left (answers it never read): no statement can run on
    /// the connection any more, so the pool closes it.
    private var stuckInPipeline = false

    /// Whether an idle connection still works: reads whatever the server sent meanwhile
    /// without blocking (libpq's socket is non-blocking), which reveals a connection the
    /// server closed (a restart, an idle timeout) before a statement is lost on it.
    var isAliveAfterIdle: Bool {
        PQconsumeInput(connection) == 1 && isHealthy
    }

    /// Runs one statement with its parameters sent separately from the SQL text (never
    /// spliced into it); returns the rows. With `commit`, the statement ends the transaction
    /// under way: COMMIT travels with it (`committedWithStatement`).
    func execute(_ sql: String, _ parameters: [(any PostgresEncodable)?], commit: Bool = false) throws
        -> [PostgresRow]
    {
        guard !committedWithStatement else {
            throw PostgresError(
                code: .server, message: "the transaction was committed with its last statement; no statement may follow"
            )
        }
        let texts = parameters.map { $0?.postgresText }
        let name = try statementName(sql)
        do {
            if pendingBegin != nil || commit {
                let begin = pendingBegin
                pendingBegin = nil
                if commit { committedWithStatement = true }
                return try executePipelined(begin: begin, sql: sql, name: name, texts: texts, commit: commit)
            }
            let result = withCStrings(texts) { values in
                if let name {
                    PQexecPrepared(connection, name, Int32(texts.count), values, nil, nil, 0)
                } else {
                    PQexecParams(connection, sql, Int32(texts.count), nil, values, nil, nil, 0)
                }
            }
            return try rows(of: result)
        } catch let error as PostgresError where name != nil && error.sqlState == "0A000" {
            // "cached plan must not change result type": a migration changed a table under a
            // prepared statement; prepare it afresh next time. Outside a transaction the old
            // one is dropped now (inside, the failed transaction refuses any statement).
            prepared[sql] = nil
            if let name, PQtransactionStatus(connection) == PQTRANS_IDLE,
                let dropped = PQexec(connection, "DEALLOCATE \(name)")
            {
                PQclear(dropped)
            }
            throw error
        }
    }

    /// Starts a transaction with the next statement; with a tenant, `app.tenant_id` is set for
    /// the transaction only (`set_config(…, true)`, i.e. SET LOCAL). Called while the
    /// connection is checked out and idle, before any statement of the transaction.
    func beginWithNextStatement(tenant: String?) {
        pendingBegin = tenant.map { .tenant($0) } ?? .plain
    }

    /// Whether the transaction asked for never began (no statement ran); it is then forgotten.
    func dropUnbegunTransaction() -> Bool {
        defer { pendingBegin = nil }
        return pendingBegin != nil
    }

    /// Set when a statement carried the transaction's COMMIT (`execute(commit: true)`): the
    /// transaction needs no COMMIT of its own, and no statement may follow in it.
    private(set) var committedWithStatement = false

    /// Whether the transaction was committed with its last statement; forgotten afterwards.
    func takeCommittedWithStatement() -> Bool {
        defer { committedWithStatement = false }
        return committedWithStatement
    }

    /// A statement sent in libpq's pipeline mode with what travels with it, answered in one
    /// round trip: BEGIN and the tenant setting before a transaction's first statement (`begin`),
    /// COMMIT after its last (`commit`); the statement's rows. The first error among them is
    /// thrown once every answer has been read; the transaction is then aborted (a failed BEGIN
    /// leaves none, a COMMIT after a failure is not run), and the caller's ROLLBACK ends it
    /// either way.
    private func executePipelined(
        begin: PendingBegin?, sql: String, name: String?, texts: [String?], commit: Bool
    ) throws -> [PostgresRow] {
        // Prepared once per connection like every statement: parsed and planned once, not in
        // every transaction (before the pipeline: preparing is a round trip of its own).
        let tenantName = try begin.flatMap { begin -> String? in
            guard case .tenant = begin else { return nil }
            return try statementName(Self.setTenant)
        }
        guard PQenterPipelineMode(connection) == 1 else { throw connectionError() }
        defer { if PQexitPipelineMode(connection) != 1 { stuckInPipeline = true } }
        var sent = true
        var queries = 1
        if let begin {
            sent = PQsendQueryParams(connection, "BEGIN", 0, nil, nil, nil, nil, 0) == 1
            queries += 1
            if sent, case .tenant(let tenant) = begin {
                sent = withCStrings([tenant]) { values in
                    if let tenantName {
                        PQsendQueryPrepared(connection, tenantName, 1, values, nil, nil, 0) == 1
                    } else {
                        PQsendQueryParams(connection, Self.setTenant, 1, nil, values, nil, nil, 0) == 1
                    }
                }
                queries += 1
            }
        }
        let statementIndex = queries - 1
        if sent {
            sent = withCStrings(texts) { values in
                if let name {
                    PQsendQueryPrepared(connection, name, Int32(texts.count), values, nil, nil, 0) == 1
                } else {
                    PQsendQueryParams(connection, sql, Int32(texts.count), nil, values, nil, nil, 0) == 1
                }
            }
        }
        if sent, commit {
            sent = PQsendQueryParams(connection, "COMMIT", 0, nil, nil, nil, nil, 0) == 1
            queries += 1
        }
        guard sent, PQpipelineSync(connection) == 1 else { throw connectionError() }
        var outcomes: [Result<[PostgresRow], PostgresError>] = []
        // Each query's answer is a result followed by NULL; the sync point's comes last.
        while outcomes.count < queries {
            guard let result = PQgetResult(connection) else { throw connectionError() }
            if PQresultStatus(result) == PGRES_PIPELINE_ABORTED {
                PQclear(result)
                outcomes.append(.failure(PostgresError(code: .server, message: "not run: an earlier statement failed")))
            } else {
                do {
                    outcomes.append(.success(try rows(of: result)))
                } catch let error as PostgresError {
                    outcomes.append(.failure(error))
                }
            }
            while let extra = PQgetResult(connection) { PQclear(extra) }
        }
        guard let sync = PQgetResult(connection) else { throw connectionError() }
        let synced = PQresultStatus(sync) == PGRES_PIPELINE_SYNC
        PQclear(sync)
        guard synced else { throw connectionError() }
        for case .failure(let error) in outcomes { throw error }
        return try outcomes[statementIndex].get()
    }

    /// Sets the tenant for the transaction only (SET LOCAL), which row-level security reads.
    private static let setTenant = "SELECT set_config('app.tenant_id', $1, true)"

    /// The connection's last error, as a connection failure.
    private func connectionError() -> PostgresError {
        PostgresError(code: .connection, message: Self.text(PQerrorMessage(connection)).trimmingNewlines())
    }

    /// The name `sql` is prepared under on this connection, preparing it first; nil once the
    /// cache is full. A statement the server refuses throws here, as executing it would.
    private func statementName(_ sql: String) throws -> String? {
        if let name = prepared[sql] { return name }
        guard prepared.count < Self.preparedLimit else { return nil }
        // Names are never reused: one dropped above may still exist on the server.
        preparedCount += 1
        let name = "ap\(preparedCount)"
        _ = try rows(of: PQprepare(connection, name, sql, 0, nil))
        prepared[sql] = name
        return name
    }

    /// The rows of a result (none for a command), or its error; frees the result.
    private func rows(of result: OpaquePointer?) throws -> [PostgresRow] {
        guard let result else {
            throw PostgresError(code: .connection, message: Self.text(PQerrorMessage(connection)))
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            return []
        case PGRES_TUPLES_OK:
            let columns = (0..<PQnfields(result)).map { Self.text(PQfname(result, $0)) }
            return (0..<PQntuples(result)).map { row in
                PostgresRow(
                    columns: columns,
                    values: (0..<Int32(columns.count)).map { column in
                        PQgetisnull(result, row, column) != 0 ? nil : Self.text(PQgetvalue(result, row, column))
                    })
            }
        default:
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            let message = Self.text(PQresultErrorMessage(result)).trimmingNewlines()
            if !isHealthy {
                throw PostgresError(code: .connection, sqlState: state, message: message)
            }
            throw PostgresError.fromServer(sqlState: state, message: message)
        }
    }

    /// Runs trusted SQL that may hold several statements (a migration file) with the simple
    /// query protocol. Never for input: it takes no parameters.
    func executeScript(_ sql: String) throws {
        guard let result = PQexec(connection, sql) else {
            throw PostgresError(code: .connection, message: Self.text(PQerrorMessage(connection)))
        }
        defer { PQclear(result) }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return
        default:
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            let message = Self.text(PQresultErrorMessage(result)).trimmingNewlines()
            throw isHealthy
                ? PostgresError.fromServer(sqlState: state, message: message)
                : PostgresError(code: .connection, sqlState: state, message: message)
        }
    }

    private static func text(_ pointer: UnsafePointer<CChar>?) -> String {
        pointer.map { String(cString: $0) } ?? ""
    }

    private static func text(_ pointer: UnsafeMutablePointer<CChar>?) -> String {
        pointer.map { String(cString: $0) } ?? ""
    }
}

/// Runs `body` with C copies of the strings (NULL for nil), freed afterwards.
private func withCStrings<R>(
    _ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> R
) -> R {
    let copies: [UnsafeMutablePointer<CChar>?] = strings.map { $0.map { strdup($0) } ?? nil }
    defer { copies.forEach { free($0) } }
    let pointers = copies.map { UnsafePointer($0) }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress) }
}

extension String {
    fileprivate func trimmingNewlines() -> String {
        var text = self
        while text.last == "\n" { text.removeLast() }
        return text
    }
}
