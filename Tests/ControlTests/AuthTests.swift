import Control
import Foundation
import RPCCore
import RPCModels
import Runtime
import RuntimeSecurity
import ServiceTestSupport
import Testing

@Suite("Control auth")
struct AuthTests {
    @Test func bootstrapFromConfigurationThenLoginAndWhoAmI() async throws {
        let slug = uniqueSlug()
        let environment = [
            "BOOTSTRAP_TENANT_SLUG": slug, "BOOTSTRAP_OWNER_EMAIL": "Boss@Example.com",
            "BOOTSTRAP_OWNER_PASSWORD": "bootstrap-password-1",
        ]
        let fixture = try await ControlFixture.start(environment)
        let login = try await fixture.login(slug, "boss@example.com", "bootstrap-password-1")
        #expect(login.tenant?.slug == slug)
        #expect(login.user?.email == "boss@example.com")
        #expect(login.user?.roles == [.owner])
        #expect(login.user?.lastLoginAt != nil)
        let tokens = try #require(login.tokens)
        #expect(tokens.refreshToken.hasPrefix("rt_"))
        let expires = try #require(tokens.accessTokenExpiresAt?.date)
        #expect(expires.timeIntervalSinceNow > 800 && expires.timeIntervalSinceNow <= 901)

        let who = try await fixture.auth.whoAmI(.init(), metadata: bearerMetadata(tokens.accessToken))
        #expect(who.principalKind == .user)
        #expect(who.user?.id == login.user?.id)
        #expect(who.tenant?.id == login.tenant?.id)
        #expect(who.roles == [.owner])
        try await fixture.stop()

        // A second start with the same keys changes nothing: the same tenant and owner.
        let again = try await ControlFixture.start(environment)
        let second = try await again.login(slug, "boss@example.com", "bootstrap-password-1")
        #expect(second.tenant?.id == login.tenant?.id)
        #expect(second.user?.id == login.user?.id)
        try await again.stop()
    }

    @Test func createTenantNeedsTheBootstrapTokenAndValidInput() async throws {
        let fixture = try await ControlFixture.start()
        var request = Agentplane_V1_CreateTenantRequest()
        request.slug = uniqueSlug()
        request.ownerEmail = "a@example.com"
        request.ownerPassword = "long-enough-password"
        #expect(await statusCode { try await fixture.tenants.createTenant(request) } == .unauthenticated)
        #expect(
            await statusCode {
                try await fixture.tenants.createTenant(request, metadata: bearerMetadata("wrong-token"))
            } == .unauthenticated)
        let token = bearerMetadata(bootstrapToken)
        var bad = request
        bad.slug = "Bad Slug"
        let slugError = await rpcError { try await fixture.tenants.createTenant(bad, metadata: token) }
        #expect(slugError?.code == .invalidArgument)
        #expect(slugError?.details?.violations.first?.field == "slug")
        bad = request
        bad.ownerPassword = "short"
        #expect(await statusCode { try await fixture.tenants.createTenant(bad, metadata: token) } == .invalidArgument)
        bad = request
        bad.ownerEmail = "not-an-email"
        #expect(await statusCode { try await fixture.tenants.createTenant(bad, metadata: token) } == .invalidArgument)

        let created = try await fixture.tenants.createTenant(request, metadata: token)
        #expect(created.tenant?.slug == request.slug)
        #expect(created.owner?.roles == [.owner])
        #expect(await statusCode { try await fixture.tenants.createTenant(request, metadata: token) } == .alreadyExists)
        try await fixture.stop()
    }

    @Test func loginRejectsEmptyFieldsAndWrongCredentialsAlike() async throws {
        let fixture = try await ControlFixture.start()
        let tenant = try await fixture.createTenant()
        #expect(await statusCode { try await fixture.auth.login(.init()) } == .invalidArgument)
        #expect(
            await statusCode { try await fixture.login(tenant.slug, tenant.ownerEmail, "") } == .invalidArgument)
        let wrongPassword = await rpcError {
            try await fixture.login(tenant.slug, tenant.ownerEmail, "wrong-password-1")
        }
        let unknownEmail = await rpcError {
            try await fixture.login(tenant.slug, "nobody@example.com", "whatever-12345")
        }
        let unknownTenant = await rpcError {
            try await fixture.login(uniqueSlug(), tenant.ownerEmail, "whatever-12345")
        }
        #expect(wrongPassword?.code == .unauthenticated)
        #expect(unknownEmail?.code == .unauthenticated)
        #expect(unknownTenant?.code == .unauthenticated)
        #expect(wrongPassword?.message == unknownEmail?.message)
        #expect(unknownEmail?.message == unknownTenant?.message)
        try await fixture.stop()
    }

    @Test func refreshRotatesAndReuseRevokesTheFamily() async throws {
        let fixture = try await ControlFixture.start()
        let tenant = try await fixture.createTenant()
        let first = try #require(try await fixture.login(tenant.slug, tenant.ownerEmail, tenant.ownerPassword).tokens)

        var refresh = Agentplane_V1_RefreshRequest()
        refresh.refreshToken = first.refreshToken
        let second = try #require(try await fixture.auth.refresh(refresh).tokens)
        #expect(second.refreshToken != first.refreshToken)
        #expect(second.accessToken != first.accessToken)
        #expect(
            await statusCode { try await fixture.auth.whoAmI(.init(), metadata: bearerMetadata(second.accessToken)) }
                == .ok)

        var next = Agentplane_V1_RefreshRequest()
        next.refreshToken = second.refreshToken
        let third = try #require(try await fixture.auth.refresh(next).tokens)

        // The first token again: theft is assumed, the whole session ends.
        let reuse = await rpcError { try await fixture.auth.refresh(refresh) }
        #expect(reuse?.code == .unauthenticated)
        #expect(reuse?.message.contains("already used") == true)
        var latest = Agentplane_V1_RefreshRequest()
        latest.refreshToken = third.refreshToken
        #expect(await statusCode { try await fixture.auth.refresh(latest) } == .unauthenticated)
        #expect(
            await statusCode { try await fixture.auth.whoAmI(.init(), metadata: bearerMetadata(third.accessToken)) }
                == .unauthenticated)
        // Every access token of the family, not only the newest, is denylisted.
        #expect(
            await statusCode { try await fixture.auth.whoAmI(.init(), metadata: bearerMetadata(second.accessToken)) }
                == .unauthenticated)

        // A fresh login is a new session and works.
        let fresh = try #require(try await fixture.login(tenant.slug, tenant.ownerEmail, tenant.ownerPassword).tokens)
        #expect(
            await statusCode { try await fixture.auth.whoAmI(.init(), metadata: bearerMetadata(fresh.accessToken)) }
                == .ok)
        try await fixture.stop()
    }

    @Test func refreshTokenDefects() async throws {
        let fixture = try await ControlFixture.start()
        let tenant = try await fixture.createTenant()
        let tokens = try #require(try await fixture.login(tenant.slug, tenant.ownerEmail, tenant.ownerPassword).tokens)
        #expect(await statusCode { try await fixture.auth.refresh(.init()) } == .invalidArgument)
        for defect in [
            "garbage", "rt_", tokens.refreshToken + "x", String(tokens.refreshToken.dropLast()),
            tokens.accessToken, "rt_" + String(repeating: "A", count: 43) + ".dGVuYW50",
        ] {
            var request = Agentplane_V1_RefreshRequest()
            request.refreshToken = defect
            #expect(await statusCode { try await fixture.auth.refresh(request) } == .unauthenticated, "\(defect)")
        }
        try await fixture.stop()
    }

    @Test func accessTokenDefectsAreUnauthenticated() async throws {
        let fixture = try await ControlFixture.start()
        let tenant = try await fixture.createTenant()
        let tokens = try #require(try await fixture.login(tenant.slug, tenant.ownerEmail, tenant.ownerPassword).tokens)
        #expect(await statusCode { try await fixture.auth.whoAmI(.init()) } == .unauthenticated)
        for defect in [
            "not-a-jwt", tokens.accessToken + "x", String(tokens.accessToken.dropLast(3)),
            tokens.refreshToken, "apk_unknown",
        ] {
            #expect(
                await statusCode { try await fixture.auth.whoAmI(.init(), metadata: bearerMetadata(defect)) }
                    == .unauthenticated, "defect: \(defect)")
        }
        try await fixture.stop()
    }

    @Test func logoutRevokesTheAccessTokenAndTheRefreshToken() async throws {
        let fixture = try await ControlFixture.start()
        let tenant = try await fixture.createTenant()
        let tokens = try #require(try await fixture.login(tenant.slug, tenant.ownerEmail, tenant.ownerPassword).tokens)
        let other = try #require(try await fixture.login(tenant.slug, tenant.ownerEmail, tenant.ownerPassword).tokens)
        let metadata = bearerMetadata(tokens.accessToken)
        _ = try await fixture.auth.logout(.init(), metadata: metadata)
        #expect(await statusCode { try await fixture.auth.whoAmI(.init(), metadata: metadata) } == .unauthenticated)
        var refresh = Agentplane_V1_RefreshRequest()
        refresh.refreshToken = tokens.refreshToken
        #expect(await statusCode { try await fixture.auth.refresh(refresh) } == .unauthenticated)
        // The other session is untouched, until all_sessions ends it too.
        let otherMetadata = bearerMetadata(other.accessToken)
        #expect(await statusCode { try await fixture.auth.whoAmI(.init(), metadata: otherMetadata) } == .ok)
        let third = try #require(try await fixture.login(tenant.slug, tenant.ownerEmail, tenant.ownerPassword).tokens)
        var all = Agentplane_V1_LogoutRequest()
        all.allSessions = true
        _ = try await fixture.auth.logout(all, metadata: bearerMetadata(third.accessToken))
        #expect(
            await statusCode { try await fixture.auth.whoAmI(.init(), metadata: otherMetadata) } == .unauthenticated)
        refresh.refreshToken = other.refreshToken
        #expect(await statusCode { try await fixture.auth.refresh(refresh) } == .unauthenticated)
        #expect(await statusCode { try await fixture.auth.logout(.init()) } == .unauthenticated)

        // Logout with an older access token of a refreshed session ends that session too.
        let fourth = try #require(
            try await fixture.login(tenant.slug, tenant.ownerEmail, tenant.ownerPassword).tokens)
        refresh.refreshToken = fourth.refreshToken
        let rotated = try #require(try await fixture.auth.refresh(refresh).tokens)
        _ = try await fixture.auth.logout(.init(), metadata: bearerMetadata(fourth.accessToken))
        #expect(
            await statusCode { try await fixture.auth.whoAmI(.init(), metadata: bearerMetadata(rotated.accessToken)) }
                == .unauthenticated)
        refresh.refreshToken = rotated.refreshToken
        #expect(await statusCode { try await fixture.auth.refresh(refresh) } == .unauthenticated)
        try await fixture.stop()
    }

    @Test func loginIsRateLimitedPerEmail() async throws {
        let fixture = try await ControlFixture.start(["LOGIN_MAX_FAILURES": "3", "LOGIN_FAILURE_WINDOW": "60s"])
        let tenant = try await fixture.createTenant()
        var member = Agentplane_V1_CreateUserRequest()
        member.email = "member@example.com"
        member.password = "member-password-1"
        member.roles = [.member]
        _ = try await fixture.users.createUser(member, metadata: try await fixture.ownerMetadata(tenant))
        for _ in 0..<3 {
            #expect(
                await statusCode { try await fixture.login(tenant.slug, tenant.ownerEmail, "wrong-password-1") }
                    == .unauthenticated)
        }
        // Now even the right password is refused until the window ends.
        let limited = await rpcError { try await fixture.login(tenant.slug, tenant.ownerEmail, tenant.ownerPassword) }
        #expect(limited?.code == .resourceExhausted)
        let retry = try #require(limited?.details?.retryAfter?.duration)
        #expect(retry > .zero && retry <= .seconds(60))
        // Another email of the same tenant is not affected.
        #expect(await statusCode { try await fixture.login(tenant.slug, member.email, member.password) } == .ok)
        try await fixture.stop()
    }

    @Test func loginIsRateLimitedPerClientAddress() async throws {
        // The address counter is shared by every test from 127.0.0.1, so it may already be past
        // the limit: the limit must bite within that many attempts, for any account. The window
        // is long because the counter's expiry is set when it is created: with a short one, slow
        // logins (scrypt on a loaded machine) could see it expire and restart midway.
        let limit = 4
        let fixture = try await ControlFixture.start([
            "LOGIN_MAX_FAILURES_PER_ADDRESS": String(limit), "LOGIN_FAILURE_WINDOW": "10m",
        ])
        let tenant = try await fixture.createTenant()
        var statuses: [Status.Code?] = []
        for attempt in 0...limit {
            statuses.append(
                await statusCode {
                    try await fixture.login(tenant.slug, "guess\(attempt)@example.com", "wrong-pass-123")
                })
        }
        #expect(statuses.contains(.resourceExhausted))
        #expect(statuses.allSatisfy { $0 == .unauthenticated || $0 == .resourceExhausted })
        let right = await rpcError { try await fixture.login(tenant.slug, tenant.ownerEmail, tenant.ownerPassword) }
        #expect(right?.code == .resourceExhausted)
        try await fixture.stop()
    }

    @Test func tenantSettingsWithOptimisticConcurrency() async throws {
        let fixture = try await ControlFixture.start()
        let tenant = try await fixture.createTenant()
        let owner = try await fixture.ownerMetadata(tenant)
        let current = try #require(try await fixture.tenants.getTenant(.init(), metadata: owner).tenant)
        #expect(current.id == tenant.id && current.slug == tenant.slug)
        var update = Agentplane_V1_UpdateTenantSettingsRequest()
        var settings = Agentplane_V1_TenantSettings()
        settings.timeZone = "Europe/Berlin"
        settings.maxRunSteps = 50
        update.settings = settings
        update.displayName = "Acme"
        update.expectedRevision = current.revision
        let updated = try #require(try await fixture.tenants.updateTenantSettings(update, metadata: owner).tenant)
        #expect(updated.revision == current.revision + 1)
        #expect(updated.displayName == "Acme" && updated.settings?.timeZone == "Europe/Berlin")
        #expect(
            await statusCode { try await fixture.tenants.updateTenantSettings(update, metadata: owner) } == .aborted)
        update.expectedRevision = 0
        settings.timeZone = "Mars/Olympus"
        update.settings = settings
        #expect(
            await statusCode { try await fixture.tenants.updateTenantSettings(update, metadata: owner) }
                == .invalidArgument)
        let read = try await fixture.tenants.getTenant(.init(), metadata: owner).tenant
        #expect(read?.settings?.maxRunSteps == 50 && read?.revision == updated.revision)
        try await fixture.stop()
    }

    @Test func usersAreListedByEmailPageByPage() async throws {
        let fixture = try await ControlFixture.start()
        let tenant = try await fixture.createTenant(owner: "a-owner@example.com")
        let owner = try await fixture.ownerMetadata(tenant)
        for name in ["d", "b", "c"] {
            var request = Agentplane_V1_CreateUserRequest()
            request.email = "\(name)-user@Example.com"
            request.password = "user-password-1234"
            request.roles = name == "c" ? [.builder] : [.member]
            _ = try await fixture.users.createUser(request, metadata: owner)
        }
        var list = Agentplane_V1_ListUsersRequest()
        list.pageSize = 2
        let first = try await fixture.users.listUsers(list, metadata: owner)
        #expect(first.users.map(\.email) == ["a-owner@example.com", "b-user@example.com"])
        list.pageToken = first.nextPageToken
        let second = try await fixture.users.listUsers(list, metadata: owner)
        #expect(second.users.map(\.email) == ["c-user@example.com", "d-user@example.com"])
        #expect(second.nextPageToken.isEmpty)
        var builders = Agentplane_V1_ListUsersRequest()
        builders.role = .builder
        #expect(
            try await fixture.users.listUsers(builders, metadata: owner).users.map(\.email) == ["c-user@example.com"])
        builders.pageToken = first.nextPageToken
        #expect(await statusCode { try await fixture.users.listUsers(builders, metadata: owner) } == .invalidArgument)
        try await fixture.stop()
    }
}
