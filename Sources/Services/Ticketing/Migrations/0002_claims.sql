-- Zammad is called outside transactions. A call that changes something in Zammad first claims
-- what it works on in a short transaction of its own — the idempotency key of a CreateTicket
-- ('key:<key>') or the ticket of an UpdateTicket ('ticket:<id>') — then calls Zammad holding no
-- database connection, then records the result (and ends the claim) in another transaction.
-- Another call for the same key or ticket waits (without a connection) until the claim ends.
-- A claim whose holder crashed expires at expires_at (TICKETING_CLAIM_LEASE) and may be taken over.
CREATE TABLE claims (
    tenant_id text NOT NULL,
    name text NOT NULL,
    token uuid NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, name)
);
ALTER TABLE claims ENABLE ROW LEVEL SECURITY;
ALTER TABLE claims FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON claims
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
