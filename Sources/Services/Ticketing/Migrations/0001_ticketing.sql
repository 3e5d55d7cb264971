-- The built-in ticket store, and the record of tickets created in Zammad.
CREATE TABLE tickets (
    tenant_id text NOT NULL,
    id text NOT NULL,
    -- Insertion order: "newest first" and page cursors, exact and unique.
    seq bigserial NOT NULL,
    number bigint NOT NULL,
    backend smallint NOT NULL,
    external_id text NOT NULL DEFAULT '',
    url text NOT NULL DEFAULT '',
    title text NOT NULL,
    body text NOT NULL DEFAULT '',
    status smallint NOT NULL,
    priority smallint NOT NULL,
    requester text NOT NULL DEFAULT '',
    assignee text NOT NULL DEFAULT '',
    group_name text NOT NULL DEFAULT '',
    tags jsonb NOT NULL DEFAULT '[]',
    conversation_id text NOT NULL DEFAULT '',
    run_id text NOT NULL DEFAULT '',
    revision bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    closed_at timestamptz,
    PRIMARY KEY (tenant_id, id)
);
-- Built-in numbers are unique per tenant; Zammad numbers are unique only per Zammad instance.
CREATE UNIQUE INDEX tickets_builtin_number ON tickets (tenant_id, number) WHERE backend = 1;
CREATE INDEX tickets_number ON tickets (tenant_id, backend, number);
CREATE INDEX tickets_newest ON tickets (tenant_id, seq DESC);
ALTER TABLE tickets ENABLE ROW LEVEL SECURITY;
ALTER TABLE tickets FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tickets
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

CREATE TABLE ticket_comments (
    tenant_id text NOT NULL,
    id text NOT NULL,
    seq bigserial NOT NULL,
    ticket_id text NOT NULL,
    author text NOT NULL DEFAULT '',
    body text NOT NULL,
    agent_only boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    FOREIGN KEY (tenant_id, ticket_id) REFERENCES tickets (tenant_id, id)
);
CREATE INDEX ticket_comments_by_ticket ON ticket_comments (tenant_id, ticket_id, seq);
ALTER TABLE ticket_comments ENABLE ROW LEVEL SECURITY;
ALTER TABLE ticket_comments FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ticket_comments
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

-- The last built-in ticket number of each tenant. Incremented in the transaction that inserts
-- the ticket: the row lock orders concurrent creations and a rollback gives the number back.
CREATE TABLE ticket_counters (
    tenant_id text PRIMARY KEY,
    last_number bigint NOT NULL
);
ALTER TABLE ticket_counters ENABLE ROW LEVEL SECURITY;
ALTER TABLE ticket_counters FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ticket_counters
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

-- CreateTicket idempotency keys, kept 24 hours ([Idempotency] in common.proto).
CREATE TABLE idempotency_keys (
    tenant_id text NOT NULL,
    key text NOT NULL,
    request_hash text NOT NULL,
    ticket_id text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key)
);
CREATE INDEX idempotency_keys_age ON idempotency_keys (tenant_id, created_at);
ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON idempotency_keys
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
