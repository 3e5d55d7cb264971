import ArgumentParser
import Foundation
import RPCCore
import RPCHTTP2
import RPCModels
import Synchronization

/// What `login` stores: the session's tokens and whom they belong to.
struct Credentials: Codable, Sendable {
    /// The control address the session was opened with (refreshes go there).
    var server: String
    var tenant: String
    var tenantID: String
    var email: String
    var userID: String
    var accessToken: String
    var accessTokenExpiresAt: Date
    var refreshToken: String
    var refreshTokenExpiresAt: Date

    enum CodingKeys: String, CodingKey {
        case server, tenant, email
        case tenantID = "tenant_id"
        case userID = "user_id"
        case accessToken = "access_token"
        case accessTokenExpiresAt = "access_token_expires_at"
        case refreshToken = "refresh_token"
        case refreshTokenExpiresAt = "refresh_token_expires_at"
    }

    /// Takes over a fresh token pair.
    mutating func update(with tokens: Agentplane_V1_TokenPair) {
        accessToken = tokens.accessToken
        accessTokenExpiresAt = tokens.accessTokenExpiresAt?.date ?? Date().addingTimeInterval(15 * 60)
        refreshToken = tokens.refreshToken
        refreshTokenExpiresAt = tokens.refreshTokenExpiresAt?.date ?? Date().addingTimeInterval(30 * 86400)
    }
}

/// The credentials file `<dir>/credentials.json` (mode 0600, in a 0700 folder).
struct CredentialStore: Sendable {
    /// The folder.
    let directory: String

    /// `~/.config/agentplane`, or `$XDG_CONFIG_HOME/agentplane`.
    static var defaultDirectory: String {
        if let xdg = Environment.value("XDG_CONFIG_HOME") { return xdg + "/agentplane" }
        return FileManager.default.homeDirectoryForCurrentUser.path + "/.config/agentplane"
    }

    /// The credentials file.
    var path: String { directory + "/credentials.json" }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return encoder
    }()

    /// The stored credentials; nil when there are none. A file that cannot be read is an error
    /// (rather than "not logged in") so that a broken file is not silently ignored.
    func load() throws -> Credentials? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        do {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            return try decoder.decode(Credentials.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw CLIFailure("cannot read \(path): \(error.localizedDescription); remove it and log in again")
        }
    }

    /// Writes the credentials atomically: a private temporary file renamed over the old one, so
    /// a concurrent reader never sees half a file and the tokens are never world-readable.
    func save(_ credentials: Credentials) throws {
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let data = try Self.encoder.encode(credentials)
        let temporary = path + ".\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw CLIFailure("cannot write \(temporary): \(String(cString: strerror(errno)))") }
        let written = data.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        guard written == data.count, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw CLIFailure("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Removes the credentials; true when there were some.
    @discardableResult
    func remove() throws -> Bool {
        guard FileManager.default.fileExists(atPath: path) else { return false }
        try FileManager.default.removeItem(atPath: path)
        return true
    }

    /// Runs `body` holding an exclusive lock on the folder, so that two agentctl processes do
    /// not both present the same refresh token: the server treats reuse of a rotated token as
    /// theft and ends the session.
    func withLock<T>(_ body: () async throws -> T) async throws -> T {
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let fd = open(directory + "/credentials.lock", O_RDWR | O_CREAT, 0o600)
        guard fd >= 0 else { return try await body() }
        defer { close(fd) }
        flock(fd, LOCK_EX)
        defer { flock(fd, LOCK_UN) }
        return try await body()
    }
}

/// Parses `host:port[,host:port...]`.
func parseTargets(_ text: String, option: String) throws -> [Target] {
    let parts = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    let targets = parts.compactMap { Target($0) }
    guard !targets.isEmpty, targets.count == parts.count, targets.allSatisfy({ !$0.host.isEmpty && $0.port > 0 })
    else {
        throw ValidationError("\(option) must be host:port[,host:port...], not \"\(text)\"")
    }
    return targets
}

/// A connection to one service (its replicas), closed when `body` returns.
func withConnection<T: Sendable>(
    _ address: String, option: String = "--server", _ body: (RPCClient) async throws -> T
) async throws -> T {
    let targets = try parseTargets(address, option: option)
    // A command line user wants to hear quickly that nothing listens there.
    let transport = HTTP2ClientTransport(
        targets: targets, configuration: ClientConfiguration(connectTimeout: .seconds(5)))
    do {
        let result = try await body(RPCClient(transport: transport))
        await transport.close()
        return result
    } catch {
        await transport.close()
        throw error
    }
}

/// A signed-in connection to the control service: hands out `authorization` metadata,
/// refreshing the access token when it has expired (and saving the rotated pair).
final class Session: Sendable {
    /// The control service.
    let control: RPCClient
    /// The control address in use.
    let address: String
    private let store: CredentialStore
    private let state: Mutex<Credentials>

    private init(control: RPCClient, address: String, store: CredentialStore, credentials: Credentials) {
        self.control = control
        self.address = address
        self.store = store
        self.state = Mutex(credentials)
    }

    /// The current credentials.
    var credentials: Credentials { state.withLock { $0 } }

    /// Opens the session stored in the config folder (exit 3 when there is none) and runs
    /// `body` with it.
    static func with<T: Sendable>(_ options: GlobalOptions, _ body: (Session) async throws -> T) async throws -> T {
        let store = options.store
        guard let credentials = try store.load() else { throw CLIFailure.notLoggedIn() }
        let address = options.controlAddress(stored: credentials.server)
        return try await withConnection(address) { client in
            try await body(Session(control: client, address: address, store: store, credentials: credentials))
        }
    }

    /// `authorization` metadata with a valid access token.
    func metadata() async throws -> Metadata {
        var current = credentials
        // A token about to expire could lapse on the way; renew it a little early.
        if current.accessTokenExpiresAt.timeIntervalSinceNow < 20 {
            current = try await refresh(rejected: current.accessToken)
        }
        return ["authorization": .string("Bearer \(current.accessToken)")]
    }

    /// Runs an authenticated call; when the server rejects the token as UNAUTHENTICATED (it
    /// expired early, say), refreshes once and tries again.
    func call<T: Sendable>(_ body: (Metadata) async throws -> T) async throws -> T {
        let metadata = try await metadata()
        do {
            return try await body(metadata)
        } catch let error as RPCError where error.code == .unauthenticated {
            let rejected = metadata.firstString(forKey: "authorization").map { String($0.dropFirst("Bearer ".count)) }
            guard let rejected, (try? await refresh(rejected: rejected)) != nil else {
                throw CLIFailure.notLoggedIn("the session has ended (\(error.message))")
            }
            return try await body(try await self.metadata())
        }
    }

    /// Exchanges the refresh token for a new pair, unless another process already did (then
    /// its pair, saved in the file, is taken).
    @discardableResult
    private func refresh(rejected: String) async throws -> Credentials {
        try await store.withLock {
            if let saved = try store.load(), saved.accessToken != rejected,
                saved.accessTokenExpiresAt.timeIntervalSinceNow > 20
            {
                state.withLock { $0 = saved }
                return saved
            }
            var current = credentials
            guard current.refreshTokenExpiresAt > Date() else {
                throw CLIFailure.notLoggedIn("the session has expired")
            }
            let response: Agentplane_V1_RefreshResponse
            do {
                response = try await Agentplane_V1_AuthService.Client(control).refresh(
                    .init(refreshToken: current.refreshToken), options: CallOptions(timeout: .seconds(30)))
            } catch let error as RPCError where error.code == .unauthenticated || error.code == .invalidArgument {
                _ = try? store.remove()
                throw CLIFailure.notLoggedIn("the session has ended (\(error.message))")
            }
            guard let tokens = response.tokens else { throw CLIFailure("the server sent no tokens") }
            current.update(with: tokens)
            try store.save(current)
            state.withLock { $0 = current }
            return current
        }
    }
}

/// The lines printed for a failed RPC: `error: CODE: message`, then the field violations
/// and retry hint from the `agentplane-error-details-bin` trailer.
func describe(_ error: RPCError) -> [String] {
    var lines = ["\(error.code): \(error.message)"]
    guard let details = errorDetails(error) else { return lines }
    for violation in details.violations {
        lines.append("  - \(violation.field): \(violation.explanation)")
    }
    if let retry = details.retryAfter, retry.seconds > 0 || retry.nanos > 0 {
        lines.append("  retry after \(formatDuration(retry))")
    }
    return lines
}

/// The structured details of a failed RPC, if the server sent any.
func errorDetails(_ error: RPCError) -> Agentplane_V1_ErrorDetails? {
    guard let bytes = error.metadata[binaryValues: "agentplane-error-details-bin"].first else { return nil }
    return try? Agentplane_V1_ErrorDetails(serializedBytes: bytes)
}
