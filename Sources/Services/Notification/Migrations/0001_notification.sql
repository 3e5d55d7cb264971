-- The outbox: one row per notification, from Notify until it is delivered or given up.
CREATE TABLE deliveries (
    id uuid PRIMARY KEY,
    tenant_id text NOT NULL,
    channel smallint NOT NULL,
    target_display text NOT NULL,
    -- The target (URL, signing secret, channel override, headers) sealed by the secret box with
    -- the context notification/<tenant>/delivery/<id>/target; NULL for the log channel and once
    -- the delivery is finished, so a secret is kept only as long as it is needed.
    target_sealed text,
    title text NOT NULL,
    body text NOT NULL,
    severity smallint NOT NULL,
    -- The request's payload (google.protobuf.Struct) in protobuf wire format; NULL for none.
    payload bytea,
    conversation_id text NOT NULL DEFAULT '',
    run_id text NOT NULL DEFAULT '',
    idempotency_key text NOT NULL DEFAULT '',
    status text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    max_attempts integer NOT NULL,
    last_error text NOT NULL DEFAULT '',
    last_response_code integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    last_attempt_at timestamptz,
    next_attempt_at timestamptz,
    delivered_at timestamptz
);

CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_tenant_newest ON deliveries (tenant_id, created_at DESC, id DESC);

ALTER TABLE deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON deliveries
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
-- The migration owner (and only it) sees every row: the claim function below runs as the owner,
-- which FORCE ROW LEVEL SECURITY would otherwise restrict when the owner is not a superuser.
-- The application role never matches this policy.
CREATE POLICY dispatcher_claim ON deliveries TO CURRENT_USER USING (true) WITH CHECK (true);

-- Idempotency keys of Notify, kept 24 hours (an older key is replaced by the next call using it).
CREATE TABLE idempotency_keys (
    tenant_id text NOT NULL,
    key text NOT NULL,
    fingerprint text NOT NULL,
    delivery_id uuid NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key)
);

ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON idempotency_keys
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

-- Claims the most overdue pending delivery of any tenant for the calling transaction: the row
-- stays locked (FOR UPDATE) until that transaction ends, and SKIP LOCKED lets other
-- dispatchers (other replicas) pass over it, so one delivery is never attempted twice at once.
-- SECURITY DEFINER because the dispatcher works across tenants while the application role is
-- bound by row-level security; it returns only ids and tenant ids, and the caller then reads
-- and updates the row under that tenant's context.
CREATE FUNCTION claim_due_delivery() RETURNS TABLE (id uuid, tenant_id text)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = notification, pg_temp
AS $$
    SELECT d.id, d.tenant_id
    FROM notification.deliveries d
    WHERE d.status = 'pending' AND d.next_attempt_at <= now()
    ORDER BY d.next_attempt_at
    LIMIT 1
    FOR UPDATE SKIP LOCKED
$$;
REVOKE ALL ON FUNCTION claim_due_delivery() FROM PUBLIC;
