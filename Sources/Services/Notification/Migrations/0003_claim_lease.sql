-- Claims with a lease instead of a row lock held during the HTTP call: a dispatcher claims a
-- batch of due deliveries (claim_id, claimed_until), commits, sends without holding a
-- connection, and records each outcome in its own transaction, only while the claim is its own.
-- A claim that is not released (the dispatcher crashed) expires at claimed_until.
ALTER TABLE deliveries ADD COLUMN claim_id uuid;
ALTER TABLE deliveries ADD COLUMN claimed_until timestamptz;

-- The claims in flight, per tenant (few rows: a claim is cleared when its outcome is recorded).
CREATE INDEX deliveries_claimed ON deliveries (tenant_id) WHERE claim_id IS NOT NULL;
-- The due deliveries of one tenant, oldest first; and the tenants having pending deliveries.
CREATE INDEX deliveries_tenant_due ON deliveries (tenant_id, next_attempt_at) WHERE status = 'pending';

-- Claims up to `batch` due deliveries for `claimer`, until now() + `lease_ms`, fairly across
-- tenants: a tenant gets at most `per_tenant` claims in flight (counting every dispatcher's),
-- and the batch is filled round-robin (each tenant's oldest due delivery first, tenants with
-- fewer claims in flight first, then by how overdue). Claims are taken one claimer at a time
-- (an advisory lock for the statement's transaction), so the per-tenant count is exact.
--
-- An expired claim first counts as an interrupted attempt (the dispatcher holding it crashed
-- mid-attempt); when that uses up the delivery's attempts it fails, so a delivery that crashes
-- its dispatcher is not retried forever. A dispatcher that stops gracefully releases its claims
-- without counting them.
--
-- SECURITY DEFINER, like claim_due_delivery: the dispatcher works across tenants while the
-- application role is bound by row-level security. It returns only ids, tenant ids and counts.
CREATE FUNCTION claim_due_deliveries(claimer uuid, batch integer, per_tenant integer, lease_ms bigint)
RETURNS TABLE (id uuid, tenant_id text, attempts integer)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = notification, pg_temp
AS $$
BEGIN
    -- 'notification.claim' as a number: one claimer at a time, across replicas.
    PERFORM pg_advisory_xact_lock(7262, 1);
    UPDATE notification.deliveries d
    SET attempts = d.attempts + 1,
        last_error = 'the attempt was interrupted: its dispatcher stopped before recording an outcome',
        last_response_code = 0, claim_id = NULL, claimed_until = NULL,
        status = CASE WHEN d.attempts + 1 >= d.max_attempts THEN 'failed' ELSE d.status END,
        next_attempt_at = CASE WHEN d.attempts + 1 >= d.max_attempts THEN NULL ELSE d.next_attempt_at END,
        target_sealed = CASE WHEN d.attempts + 1 >= d.max_attempts THEN NULL ELSE d.target_sealed END
    WHERE d.claim_id IS NOT NULL AND d.claimed_until <= now() AND d.status = 'pending';

    RETURN QUERY
    WITH RECURSIVE tenants (tenant_id) AS (
        -- Each tenant with pending deliveries once, by a skip scan of deliveries_tenant_due.
        (SELECT p.tenant_id FROM notification.deliveries p WHERE p.status = 'pending'
         ORDER BY p.tenant_id LIMIT 1)
        UNION ALL
        SELECT (SELECT p.tenant_id FROM notification.deliveries p
                WHERE p.status = 'pending' AND p.tenant_id > t.tenant_id ORDER BY p.tenant_id LIMIT 1)
        FROM tenants t WHERE t.tenant_id IS NOT NULL
    ),
    busy AS (
        SELECT t.tenant_id,
            (SELECT count(*) FROM notification.deliveries c
             WHERE c.tenant_id = t.tenant_id AND c.claim_id IS NOT NULL AND c.status = 'pending')::integer
                AS in_flight
        FROM tenants t WHERE t.tenant_id IS NOT NULL
    ),
    candidates AS (
        SELECT c.id, b.in_flight + c.turn AS round, c.next_attempt_at
        FROM busy b
        CROSS JOIN LATERAL (
            SELECT d.id, d.next_attempt_at, row_number() OVER (ORDER BY d.next_attempt_at, d.id) AS turn
            FROM notification.deliveries d
            WHERE d.tenant_id = b.tenant_id AND d.status = 'pending' AND d.next_attempt_at <= now()
                AND d.claim_id IS NULL
            ORDER BY d.next_attempt_at, d.id
            LIMIT greatest(per_tenant - b.in_flight, 0)
        ) c
    ),
    chosen AS (
        SELECT candidates.id FROM candidates ORDER BY round, next_attempt_at, id LIMIT greatest(batch, 0)
    )
    UPDATE notification.deliveries d
    SET claim_id = claimer, claimed_until = now() + lease_ms * interval '1 millisecond'
    FROM chosen
    WHERE d.id = chosen.id AND d.status = 'pending' AND d.claim_id IS NULL
    RETURNING d.id, d.tenant_id, d.attempts;
END
$$;
REVOKE ALL ON FUNCTION claim_due_deliveries(uuid, integer, integer, bigint) FROM PUBLIC;

-- Replicas of the previous version (during a rolling deploy) claim with claim_due_delivery():
-- it now passes over deliveries claimed by this version, so one delivery is never sent by two.
CREATE OR REPLACE FUNCTION claim_due_delivery() RETURNS TABLE (id uuid, tenant_id text)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = notification, pg_temp
AS $$
    SELECT d.id, d.tenant_id
    FROM notification.deliveries d
    WHERE d.status = 'pending' AND d.next_attempt_at <= now()
        AND (d.claim_id IS NULL OR d.claimed_until <= now())
    ORDER BY d.next_attempt_at
    LIMIT 1
    FOR UPDATE SKIP LOCKED
$$;
