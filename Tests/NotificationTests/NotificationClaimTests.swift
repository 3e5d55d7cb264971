import Foundation
import Notification
import RPCCore
import RPCModels
import RuntimeConfig
import RuntimePostgres
import ServiceTestSupport
import Testing

extension NotificationServiceTests {
    /// Writes a pending delivery claimed by a dispatcher that has since crashed (its claim ends
    /// `leaseMilliseconds` from now), as the superuser; returns its id and the claim's end as the
    /// database's time.
    private func insertCrashedClaim(
        tenant: String, channel: Int, attempts: Int, maxAttempts: Int, leaseMilliseconds: Int
    ) async throws -> String {
        let admin = PostgresPool(configuration: .init(connectionString: testDatabaseURL, maximumConnections: 1))
        defer { admin.close() }
        let id = UUID().uuidString.lowercased()
        _ = try await admin.query(
            """
            INSERT INTO notification.deliveries (id, tenant_id, channel, target_display, title, body, severity,
                status, attempts, max_attempts, next_attempt_at, claim_id, claimed_until)
            VALUES ($1::uuid, $2, $3, '', 'crashed', 'claimed by a dispatcher that died', 1, 'pending', $4, $5,
                now() - interval '1 second', gen_random_uuid(), now() + $6::int8 * interval '1 millisecond')
            """, id, tenant, channel, attempts, maxAttempts, leaseMilliseconds)
        return id
    }

    @Test("A crashed dispatcher's claim is retried once its lease ends, not before, counting the lost attempt")
    func expiredClaimIsRetried() async throws {
        let fixture = try await NotificationFixture.start()
        let tenant = uniqueTenant()
        let id = try await insertCrashedClaim(
            tenant: tenant, channel: 4, attempts: 1, maxAttempts: 4, leaseMilliseconds: 1500)
        let delivery = try await fixture.waitFor(id, tenant: tenant)
        #expect(delivery.status == .delivered)
        // The attempt cut off by the crash counts, then the retry: 1 + 1 + 1.
        #expect(delivery.attempts == 3)
        #expect(delivery.lastError.contains("interrupted"))
        // Not before the lease ended (both times are the database's).
        let admin = PostgresPool(configuration: .init(connectionString: testDatabaseURL, maximumConnections: 1))
        defer { admin.close() }
        let rows = try await admin.query(
            """
            SELECT delivered_at >= created_at + interval '1500 milliseconds' AS after_lease,
                claim_id IS NULL AND claimed_until IS NULL AS released
            FROM notification.deliveries WHERE id = $1::uuid
            """, id)
        #expect(try rows.first?.decode("after_lease", as: Bool.self) == true)
        #expect(try rows.first?.decode("released", as: Bool.self) == true)
        try await fixture.stop()
    }

    @Test("A claim lost on the last allowed attempt fails the delivery instead of retrying it forever")
    func expiredClaimOnLastAttemptFails() async throws {
        let fixture = try await NotificationFixture.start()
        let tenant = uniqueTenant()
        // A webhook without a target would fail as "has no target" if it were attempted again.
        let id = try await insertCrashedClaim(
            tenant: tenant, channel: 3, attempts: 3, maxAttempts: 4, leaseMilliseconds: 200)
        let delivery = try await fixture.waitFor(id, tenant: tenant)
        #expect(delivery.status == .failed)
        #expect(delivery.attempts == 4)
        #expect(delivery.lastError.contains("interrupted"))
        try await fixture.stop()
    }

    @Test("Claim lease and concurrency keys: at their limits and past them")
    func claimSettingsLimits() {
        func problems(_ environment: [String: String]) -> Set<String> {
            var reader = ConfigReader(environment: environment, arguments: [])
            _ = NotificationSettings.read(&reader)
            return Set(reader.problems.map(\.key))
        }
        let defaults = NotificationSettings()
        #expect(defaults.claimLease > defaults.httpTimeout)
        #expect(problems([:]).isEmpty)
        // The lease must outlast an attempt.
        #expect(
            problems(["NOTIFICATION_HTTP_TIMEOUT": "10s", "NOTIFICATION_CLAIM_LEASE": "10s"]) == [
                "NOTIFICATION_CLAIM_LEASE"
            ])
        #expect(problems(["NOTIFICATION_HTTP_TIMEOUT": "10s", "NOTIFICATION_CLAIM_LEASE": "10001ms"]).isEmpty)
        #expect(
            problems(["NOTIFICATION_TENANT_CONCURRENCY": "1000", "NOTIFICATION_DISPATCH_CONCURRENCY": "1000"]).isEmpty)
        #expect(
            problems(["NOTIFICATION_TENANT_CONCURRENCY": "1001", "NOTIFICATION_DISPATCH_CONCURRENCY": "1001"])
                == ["NOTIFICATION_TENANT_CONCURRENCY", "NOTIFICATION_DISPATCH_CONCURRENCY"])
        #expect(problems(["NOTIFICATION_TENANT_CONCURRENCY": "1"]).isEmpty)
        #expect(problems(["NOTIFICATION_TENANT_CONCURRENCY": "0"]) == ["NOTIFICATION_TENANT_CONCURRENCY"])
    }
}
