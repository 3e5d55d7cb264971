import ArgumentParser
import Foundation
import RPCCore
import RPCModels

/// `agentctl login`: signs in and stores the session's tokens.
struct Login: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sign in to a tenant and store the session in the config folder.",
        discussion: """
            The password comes from --password, --password-stdin (first line of stdin), \
            AGENTPLANE_PASSWORD, or a prompt when stdin is a terminal.
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "The tenant's slug.") var tenant: String
    @Option(help: "Your email.") var email: String
    @Option(help: "The password (visible in the process list; prefer --password-stdin).") var password: String?
    @Flag(name: .customLong("password-stdin"), help: "Read the password from the first line of stdin.")
    var passwordStdin = false

    func validate() throws {
        if password != nil && passwordStdin {
            throw ValidationError("give either --password or --password-stdin, not both")
        }
    }

    func run() async throws {
        let secret = try readPassword()
        let store = global.store
        let address = global.controlAddress(stored: nil)
        let response = try await withConnection(address) { client in
            try await Agentplane_V1_AuthService.Client(client).login(
                .init(tenantSlug: tenant, email: email, password: secret), options: CallOptions(timeout: .seconds(30)))
        }
        guard let tokens = response.tokens else { throw CLIFailure("the server sent no tokens") }
        var credentials = Credentials(
            server: address, tenant: response.tenant?.slug ?? tenant, tenantID: response.tenant?.id ?? "",
            email: response.user?.email ?? email, userID: response.user?.id ?? "", accessToken: "",
            accessTokenExpiresAt: Date(), refreshToken: "", refreshTokenExpiresAt: Date())
        credentials.update(with: tokens)
        try await store.withLock { try store.save(credentials) }
        if global.json {
            var object = JSONObject()
            object.set("server", address)
            if let tenant = response.tenant { object.set("tenant", tenant.json) }
            if let user = response.user { object.set("user", user.json) }
            object.set("access_token_expires_at", tokens.accessTokenExpiresAt)
            object.set("refresh_token_expires_at", tokens.refreshTokenExpiresAt)
            object.set("credentials", store.path)
            global.output.emit(object.value)
        } else {
            let roles = response.user?.roles.map(\.name).joined(separator: ", ") ?? ""
            Terminal.line("Logged in to \(credentials.tenant) as \(credentials.email) (\(roles)) at \(address).")
        }
    }

    private func readPassword() throws -> String {
        if let password { return password }
        if passwordStdin {
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                throw ValidationError("--password-stdin: stdin gave no password")
            }
            return line
        }
        if let fromEnvironment = Environment.value("AGENTPLANE_PASSWORD") { return fromEnvironment }
        if Terminal.inputIsInteractive, let typed = getpass("Password: ") {
            let text = String(cString: typed)
            if !text.isEmpty { return text }
        }
        throw ValidationError("no password: give --password, --password-stdin or AGENTPLANE_PASSWORD")
    }
}

/// `agentctl logout`: ends the session on the server and forgets it locally.
struct Logout: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "End the session (revoking its tokens) and remove the stored credentials.")

    @OptionGroup var global: GlobalOptions

    @Flag(name: .customLong("all-sessions"), help: "Also end your other sessions.")
    var allSessions = false

    func run() async throws {
        let store = global.store
        guard let credentials = try store.load() else {
            if !global.json { Terminal.line("Not logged in.") }
            if global.json { global.output.emit(.object([("logged_out", .bool(false))])) }
            return
        }
        let address = global.controlAddress(stored: credentials.server)
        do {
            _ = try await withConnection(address) { client in
                try await Agentplane_V1_AuthService.Client(client).logout(
                    .init(allSessions: allSessions),
                    metadata: ["authorization": .string("Bearer \(credentials.accessToken)")],
                    options: CallOptions(timeout: .seconds(15)))
            }
        } catch let error as RPCError where error.code != .unauthenticated {
            // The local credentials go anyway; the server-side session then ends on its own.
            Terminal.note("warning: the server could not end the session: \(error)")
        }
        try store.remove()
        if global.json {
            global.output.emit(.object([("logged_out", .bool(true)), ("email", .string(credentials.email))]))
        } else {
            Terminal.line("Logged out \(credentials.email) from \(credentials.tenant).")
        }
    }
}

/// `agentctl whoami`: who the stored session belongs to, as the server sees it.
struct WhoAmI: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whoami", abstract: "Show the signed-in user, tenant and roles.")

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        try await Session.with(global) { session in
            let response = try await session.call { metadata in
                try await Agentplane_V1_AuthService.Client(session.control).whoAmI(.init(), metadata: metadata)
            }
            let credentials = session.credentials
            if global.json {
                var object = JSONObject()
                object.set("server", session.address)
                if let user = response.user { object.set("user", user.json) }
                if let tenant = response.tenant { object.set("tenant", tenant.json) }
                object.set("roles", response.roles.map(\.name))
                object.set("expires_at", response.expiresAt)
                object.set("session_expires_at", formatISO(credentials.refreshTokenExpiresAt))
                global.output.emit(object.value)
            } else {
                global.output.fields([
                    (
                        "user",
                        "\(response.user?.email ?? credentials.email) (\(response.user?.id ?? credentials.userID))"
                    ),
                    ("tenant", "\(response.tenant?.slug ?? credentials.tenant) (\(response.tenant?.id ?? ""))"),
                    ("roles", response.roles.map(\.name).joined(separator: ", ")),
                    ("server", session.address),
                    ("token expires", formatTime(response.expiresAt)),
                    ("session expires", formatTime(Google_Protobuf_Timestamp(date: credentials.refreshTokenExpiresAt))),
                ])
            }
        }
    }
}
