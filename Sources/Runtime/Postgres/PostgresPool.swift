import Dispatch
import Saturating
import Synchronization

/// A bounded pool of PostgreSQL connections with a wait timeout.
///
/// Blocking libpq calls run on each connection's own dispatch queue, never on an event loop.
/// A connection that broke (the server restarted, say) is dropped when it comes back, and a
/// new one is opened on demand, so the pool recovers by itself.
public final class PostgresPool: Sendable {
    /// How the pool connects and how much it allows.
    public struct Configuration: Sendable {
        /// A libpq connection string or `postgresql://` URI.
        public var connectionString: String
        /// Connections open at most.
        public var maximumConnections: Int
        /// How long a caller waits for a free connection before `poolTimeout`.
        public var waitTimeout: Duration
        /// Server-side limit per statement (`statement_timeout`); nil leaves the server's.
        public var statementTimeout: Duration?
        /// The role every connection switches to (`SET ROLE`) before use, so that row-level
        /// security binds even when the login user is a superuser or owns the tables; nil keeps
        /// the login user. Services use `PostgresMigrator.applicationRole`.
        public var role: String?
        /// Shown in `pg_stat_activity`, to tell a service's connections apart.
        public var applicationName: String?

        /// A configuration: 8 connections, 5 s wait, 30 s statements.
        public init(
            connectionString: String, maximumConnections: Int = 8, waitTimeout: Duration = .seconds(5),
            statementTimeout: Duration? = .seconds(30), role: String? = nil, applicationName: String? = nil
        ) {
            self.connectionString = connectionString
            self.maximumConnections = maximumConnections
            self.waitTimeout = waitTimeout
            self.statementTimeout = statementTimeout
            self.role = role
            self.applicationName = applicationName
        }
    }

    private enum Grant: Sendable {
        case connection(PostgresConnection)
        case mayOpen
    }

    private struct State {
        var idle: [PostgresConnection] = []
        var open = 0
        var waiters: [Int: CheckedContinuation<Grant, any Error>] = [:]
        var waiterOrder: [Int] = []
        var nextWaiter = 0
        var closed = false
    }

    /// The configuration.
    public let configuration: Configuration
    private let state = Mutex(State())

    /// A pool; connections open when first needed.
    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Connections currently open (idle or in use).
    public var openConnections: Int { state.withLock { $0.open } }

    /// Runs one statement on any connection. A statement that fails because its connection
    /// broke runs once more on a fresh connection.
    public func query(_ sql: String, _ parameters: (any PostgresEncodable)?...) async throws -> [PostgresRow] {
        do {
            return try await withConnection { try await $0.query(sql, parameters) }
        } catch let error as PostgresError where error.code == .connection {
            // The server probably restarted: the idle connections are as broken as this one.
            discardIdleConnections()
            return try await withConnection { try await $0.query(sql, parameters) }
        }
    }

    /// Runs `body` with a connection of its own, returned to the pool afterwards.
    public func withConnection<R: Sendable>(_ body: (PostgresSession) async throws -> R) async throws -> R {
        let connection = try await acquire()
        do {
            let result = try await withTaskExecutorPreference(connection.executor) {
                try await body(PostgresSession(connection: connection))
            }
            // A statement that committed (`queryCommitting`) bars only its own transaction.
            _ = connection.takeCommittedWithStatement()
            release(connection)
            return result
        } catch {
            _ = connection.takeCommittedWithStatement()
            release(connection)
            throw error
        }
    }

    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    ///
    /// With a `tenant`, the transaction runs with `app.tenant_id` set to it (`SET LOCAL`), which
    /// row-level security policies compare each row's `tenant_id` against; the setting ends with
    /// the transaction, so a pooled connection never carries one tenant's context into another's.
    public func transaction<R: Sendable>(
        tenant: String? = nil, _ body: (PostgresSession) async throws -> R
    ) async throws -> R {
        try await withConnection { session in
            session.connection.beginWithNextStatement(tenant: tenant)
            do {
                let result = try await body(session)
                let committed = session.connection.takeCommittedWithStatement()
                if !session.connection.dropUnbegunTransaction(), !committed {
                    _ = try await session.query("COMMIT", [])
                }
                return result
            } catch {
                // A failed COMMIT (sent with the last statement) ended the transaction already;
                // ROLLBACK then only draws a warning.
                _ = session.connection.takeCommittedWithStatement()
                if !session.connection.dropUnbegunTransaction() { _ = try? await session.query("ROLLBACK", []) }
                throw error
            }
        }
    }

    /// Closes the idle connections; connections in use close when they come back.
    public func close() {
        let waiters = state.withLock { state in
            state.closed = true
            state.open -= state.idle.count
            state.idle.removeAll()
            defer {
                state.waiters.removeAll()
                state.waiterOrder.removeAll()
            }
            return Array(state.waiters.values)
        }
        for waiter in waiters {
            waiter.resume(throwing: PostgresError(code: .connection, message: "the pool is closed"))
        }
    }

    private func discardIdleConnections() {
        let discarded = state.withLock { state in
            defer {
                state.open -= state.idle.count
                state.idle.removeAll()
            }
            return state.idle
        }
        _ = discarded  // closed (PQfinish) as the last references go away
    }

    private func acquire() async throws -> PostgresConnection {
        enum Next {
            case use(PostgresConnection)
            case open
            case wait
        }
        let next: Next = try state.withLock { state in
            if state.closed { throw PostgresError(code: .connection, message: "the pool is closed") }
            if let connection = state.idle.popLast() { return .use(connection) }
            if state.open < configuration.maximumConnections {
                state.open += 1
                return .open
            }
            return .wait
        }
        switch next {
        case .use(let connection):
            guard connection.isAliveAfterIdle else {
                handBackSlot()  // drops the dead connection
                return try await acquire()
            }
            return connection
        case .open:
            return try await open()
        case .wait:
            switch try await waitForGrant() {
            case .connection(let connection): return connection
            case .mayOpen: return try await open()
            }
        }
    }

    private func open() async throws -> PostgresConnection {
        var settings: [String: String] = [:]
        if let timeout = configuration.statementTimeout {
            settings["statement_timeout"] = String(timeout.saturatingMilliseconds)
        }
        if let role = configuration.role { settings["role"] = role }
        if let name = configuration.applicationName { settings["application_name"] = name }
        let connectionString = configuration.connectionString
        let connectionSettings = settings
        do {
            return try await withCheckedThrowingContinuation { continuation in
                DispatchQueue.global().async {
                    continuation.resume(
                        with: Result {
                            try PostgresConnection(connectionString: connectionString, settings: connectionSettings)
                        })
                }
            }
        } catch {
            // The slot is free again: let a waiter try.
            handBackSlot()
            throw error
        }
    }

    private func waitForGrant() async throws -> Grant {
        let timeout = configuration.waitTimeout
        return try await withCheckedThrowingContinuation { continuation in
            let id = state.withLock { state in
                let id = state.nextWaiter
                state.nextWaiter += 1
                state.waiters[id] = continuation
                state.waiterOrder.append(id)
                return id
            }
            Task {
                try? await Task.sleep(for: timeout)
                let expired = self.state.withLock { state -> CheckedContinuation<Grant, any Error>? in
                    state.waiterOrder.removeAll { $0 == id }
                    return state.waiters.removeValue(forKey: id)
                }
                expired?.resume(
                    throwing: PostgresError(
                        code: .poolTimeout,
                        message:
                            "no connection became free within \(timeout) (pool of \(self.configuration.maximumConnections))"
                    ))
            }
        }
    }

    private func nextWaiter(_ state: inout State) -> CheckedContinuation<Grant, any Error>? {
        while !state.waiterOrder.isEmpty {
            let id = state.waiterOrder.removeFirst()
            if let waiter = state.waiters.removeValue(forKey: id) { return waiter }
        }
        return nil
    }

    private func release(_ connection: PostgresConnection) {
        let healthy = connection.isHealthy
        let (waiter, grant): (CheckedContinuation<Grant, any Error>?, Grant?) = state.withLock { state in
            if state.closed || !healthy {
                state.open -= 1
                guard !state.closed, let waiter = nextWaiter(&state) else { return (nil, nil) }
                state.open += 1
                return (waiter, .mayOpen)
            }
            if let waiter = nextWaiter(&state) { return (waiter, .connection(connection)) }
            state.idle.append(connection)
            return (nil, nil)
        }
        if let waiter, let grant { waiter.resume(returning: grant) }
    }

    private func handBackSlot() {
        let waiter = state.withLock { state -> CheckedContinuation<Grant, any Error>? in
            state.open -= 1
            guard let waiter = nextWaiter(&state) else { return nil }
            state.open += 1
            return waiter
        }
        waiter?.resume(returning: .mayOpen)
    }
}

/// A connection checked out of the pool: statements on it run in order.
public struct PostgresSession: Sendable {
    let connection: PostgresConnection

    /// Runs one statement; parameters travel apart from the SQL text.
    public func query(_ sql: String, _ parameters: [(any PostgresEncodable)?]) async throws -> [PostgresRow] {
        try await run(sql, parameters, commit: false)
    }

    /// Runs the last statement of a `PostgresPool.transaction` body, with the transaction's
    /// COMMIT in the same round trip; the transaction then commits no more (and refuses any
    /// further statement). When the statement fails, nothing is committed and the body's error
    /// path rolls back as usual.
    public func queryCommitting(_ sql: String, _ parameters: (any PostgresEncodable)?...) async throws
        -> [PostgresRow]
    {
        try await run(sql, parameters, commit: true)
    }

    /// As `queryCommitting(_:_:)`, with the parameters in an array.
    public func queryCommitting(_ sql: String, _ parameters: [(any PostgresEncodable)?]) async throws
        -> [PostgresRow]
    {
        try await run(sql, parameters, commit: true)
    }

    private func run(_ sql: String, _ parameters: [(any PostgresEncodable)?], commit: Bool) async throws
        -> [PostgresRow]
    {
        let connection = connection
        if connection.executor.isCurrent { return try connection.execute(sql, parameters, commit: commit) }
        return try await withCheckedThrowingContinuation { continuation in
            connection.queue.async {
                continuation.resume(with: Result { try connection.execute(sql, parameters, commit: commit) })
            }
        }
    }

    /// Runs one statement; parameters travel apart from the SQL text.
    public func query(_ sql: String, _ parameters: (any PostgresEncodable)?...) async throws -> [PostgresRow] {
        try await query(sql, parameters)
    }
}
