import Control
import Foundation
import RPCCore
import RPCModels
import Runtime
import RuntimeSecurity
import ServiceTestSupport
import Testing

@Suite("Control passwords: change my password, an admin's reset")
struct PasswordTests {
    static func change(_ current: String, _ new: String) -> Agentplane_V1_ChangePasswordRequest {
        var request = Agentplane_V1_ChangePasswordRequest()
        request.currentPassword = current
        request.newPassword = new
        return request
    }

    static func refresh(_ fixture: ControlFixture, _ token: String) async -> Status.Code? {
        var request = Agentplane_V1_RefreshRequest()
        request.refreshToken = token
        return await statusCode { _ = try await fixture.auth.refresh(request) }
    }

    @Test("ChangePassword: the current one checked, limits at and past them, the other sessions end, this one stays")
    func changePassword() async throws {
        let fixture = try await ControlFixture.start()
        let tenant = try await fixture.createTenant()
        let old = tenant.ownerPassword
        let this = try await fixture.login(tenant.slug, tenant.ownerEmail, old)
        let other = try await fixture.login(tenant.slug, tenant.ownerEmail, old)
        let caller = bearerMetadata(this.tokens?.accessToken ?? "")

        let wrong = await rpcError {
            try await fixture.auth.changePassword(Self.change("not-it-at-all", "x" + old), metadata: caller)
        }
        #expect(wrong?.code == .permissionDenied && wrong?.details?.reason == "WRONG_PASSWORD")
        for (request, field) in [
            (Self.change("", "a-new-password-1"), "current_password"),
            (Self.change(old, "eleven-char"), "new_password"),
            (Self.change(old, String(repeating: "n", count: 1025)), "new_password"),
            (Self.change(String(repeating: "c", count: 1025), "a-new-password-1"), "current_password"),
            (Self.change(old, old), "new_password"),
        ] {
            let error = await rpcError { try await fixture.auth.changePassword(request, metadata: caller) }
            #expect(error?.code == .invalidArgument && violationFields(error) == [field], "\(field)")
        }
        #expect(
            await statusCode { try await fixture.auth.changePassword(Self.change(old, "x" + old)) } == .unauthenticated)

        #expect(this.user?.passwordTemporary == false)  // the tenant's owner chose their own
        // At the limits: 12 characters, 1024 bytes.
        let twelve = "twelve-chars"
        let changed = try await fixture.auth.changePassword(Self.change(old, twelve), metadata: caller)
        #expect(changed.endedSessions == 1)
        let longest = String(repeating: "l", count: 1024)
        #expect(
            try await fixture.auth.changePassword(Self.change(twelve, longest), metadata: caller).endedSessions == 0)

        // The other session ended: its access token is refused and its refresh token too.
        let otherToken = bearerMetadata(other.tokens?.accessToken ?? "")
        #expect(await statusCode { try await fixture.auth.whoAmI(.init(), metadata: otherToken) } == .unauthenticated)
        #expect(await Self.refresh(fixture, other.tokens?.refreshToken ?? "") == .unauthenticated)
        // This one carries on, and refreshes.
        #expect(try await fixture.auth.whoAmI(.init(), metadata: caller).user?.id == tenant.ownerID)
        #expect(await Self.refresh(fixture, this.tokens?.refreshToken ?? "") == .ok)
        // Only the new password signs in.
        #expect(
            await statusCode { _ = try await fixture.login(tenant.slug, tenant.ownerEmail, old) } == .unauthenticated)
        #expect(try await fixture.login(tenant.slug, tenant.ownerEmail, longest).user?.id == tenant.ownerID)

        // Not with an API key (no session) nor a service token.
        var keyRequest = Agentplane_V1_CreateApiKeyRequest()
        keyRequest.name = "k"
        keyRequest.roles = [.member]
        let key = try await fixture.users.createApiKey(keyRequest, metadata: caller)
        #expect(
            await statusCode {
                try await fixture.auth.changePassword(Self.change(longest, old), metadata: bearerMetadata(key.secret))
            } == .failedPrecondition)
        let service = try await serviceBearer(service: "execution", tenant: tenant.id)
        #expect(
            await statusCode { try await fixture.auth.changePassword(Self.change(longest, old), metadata: service) }
                == .permissionDenied)
        try await fixture.stop()
    }

    @Test("ChangePassword attempts count against the account's sign-in limit (not the address's)")
    func changePasswordIsRateLimited() async throws {
        // An address of its own (as a trusted proxy forwards it): 127.0.0.1's counter is every suite's.
        let fixture = try await ControlFixture.start([
            "LOGIN_MAX_FAILURES": "3", "LOGIN_MAX_FAILURES_PER_ADDRESS": "3", "TRUSTED_PROXIES": "127.0.0.1",
        ])
        let address = uniqueClientAddress()
        let tenant = try await fixture.createTenant()
        let login = try await fixture.auth.login(
            AuthLimitTests.login(tenant, password: tenant.ownerPassword), metadata: forwarded(address))
        let caller = forwarded(address, bearer: login.tokens?.accessToken ?? "")
        var other = Agentplane_V1_CreateUserRequest()
        other.email = "other@example.com"
        other.password = "other-password-123"
        other.roles = [.member]
        _ = try await fixture.users.createUser(other, metadata: caller)
        for _ in 0..<3 {
            #expect(
                await statusCode {
                    try await fixture.auth.changePassword(
                        Self.change("wrong-password-1", "a-new-password-1"), metadata: caller)
                } == .permissionDenied)
        }
        let limited = await rpcError {
            try await fixture.auth.changePassword(
                Self.change(tenant.ownerPassword, "a-new-password-1"), metadata: caller)
        }
        #expect(limited?.code == .resourceExhausted && limited?.details?.reason == "LOGIN_RATE_LIMITED")
        #expect(try await fixture.auth.whoAmI(.init(), metadata: caller).user?.id == tenant.ownerID)
        // The address's budget was not spent: another user signs in from it.
        let signedIn = try await fixture.auth.login(
            AuthLimitTests.login(tenant, email: other.email, password: other.password), metadata: forwarded(address))
        #expect(signedIn.user?.email == other.email)
        try await fixture.stop()
    }

    @Test("ResetPassword: an admin sets a temporary password, the user's sessions end; owners, self, other tenants")
    func resetPassword() async throws {
        let fixture = try await ControlFixture.start()
        let tenant = try await fixture.createTenant()
        let owner = try await fixture.ownerMetadata(tenant)
        let admin = try await fixture.user(.admin, in: tenant)
        let member = try await fixture.user(.member, in: tenant)
        let memberUser = try #require(
            try await fixture.users.getUser(.init(userID: member.id), metadata: owner).user)
        func reset(_ id: String, _ password: String) -> Agentplane_V1_ResetPasswordRequest {
            var request = Agentplane_V1_ResetPasswordRequest()
            request.userID = id
            request.password = password
            return request
        }

        for (request, field) in [
            (reset("", "temporary-password"), "user_id"), (reset(member.id, "eleven-char"), "password"),
            (reset(member.id, String(repeating: "p", count: 1025)), "password"),
        ] {
            let error = await rpcError { try await fixture.users.resetPassword(request, metadata: admin.metadata) }
            #expect(error?.code == .invalidArgument && violationFields(error) == [field], "\(field)")
        }
        let temporary = String(repeating: "t", count: 1024)
        #expect(memberUser.passwordTemporary)  // an admin chose the first one too (CreateUser)
        let done = try await fixture.users.resetPassword(reset(member.id, temporary), metadata: admin.metadata)
        #expect(done.user?.id == member.id && done.endedSessions == 1 && done.user?.passwordTemporary == true)
        #expect(!wireContains(done, temporary))
        #expect(
            await statusCode { try await fixture.auth.whoAmI(.init(), metadata: member.metadata) } == .unauthenticated)
        #expect(
            await statusCode { _ = try await fixture.login(tenant.slug, memberUser.email, "user-password-1234") }
                == .unauthenticated)
        let signedIn = try await fixture.login(tenant.slug, memberUser.email, temporary)
        #expect(signedIn.user?.id == member.id && signedIn.user?.passwordTemporary == true)
        // Changed by its user, it is theirs: no longer temporary.
        _ = try await fixture.auth.changePassword(
            Self.change(temporary, "the-member-s-own-1"), metadata: bearerMetadata(signedIn.tokens?.accessToken ?? ""))
        #expect(
            try await fixture.login(tenant.slug, memberUser.email, "the-member-s-own-1").user?.passwordTemporary
                == false)

        // An owner's password needs an owner; nobody resets their own; a builder may not at all.
        #expect(
            await statusCode {
                try await fixture.users.resetPassword(
                    reset(tenant.ownerID, "temporary-password"), metadata: admin.metadata)
            }
                == .permissionDenied)
        #expect(
            await statusCode {
                try await fixture.users.resetPassword(reset(admin.id, "temporary-password"), metadata: admin.metadata)
            }
                == .failedPrecondition)
        #expect(
            try await fixture.users.resetPassword(reset(admin.id, "temporary-password"), metadata: owner).user?.id
                == admin.id)
        let builder = try await fixture.user(.builder, in: tenant)
        #expect(
            await statusCode {
                try await fixture.users.resetPassword(
                    reset(member.id, "temporary-password"), metadata: builder.metadata)
            }
                == .permissionDenied)

        // Another tenant's owner: NOT_FOUND, and nothing changed.
        let otherTenant = try await fixture.createTenant()
        let otherOwner = try await fixture.ownerMetadata(otherTenant)
        #expect(
            await statusCode {
                try await fixture.users.resetPassword(reset(member.id, "hijacked-password"), metadata: otherOwner)
            }
                == .notFound)
        #expect(try await fixture.login(tenant.slug, memberUser.email, "the-member-s-own-1").user?.id == member.id)
        try await fixture.stop()
    }
}
