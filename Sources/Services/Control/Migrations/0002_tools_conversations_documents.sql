-- Tools: configuration per kind; secrets are one SecretBox-sealed JSON object per tool (context
-- "<tenant>/tool/<id>/secrets"), with their names kept in clear so they can be listed.
CREATE TABLE tools (
    tenant_id text NOT NULL,
    id text NOT NULL,
    name text NOT NULL,
    description text NOT NULL DEFAULT '',
    kind integer NOT NULL,
    config jsonb NOT NULL DEFAULT '{}'::jsonb,
    input_schema jsonb,
    secrets_sealed text NOT NULL DEFAULT '',
    secret_names jsonb NOT NULL DEFAULT '[]'::jsonb,
    timeout_ms bigint NOT NULL DEFAULT 0,
    enabled boolean NOT NULL DEFAULT true,
    revision bigint NOT NULL DEFAULT 1,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name)
);
ALTER TABLE tools ENABLE ROW LEVEL SECURITY;
ALTER TABLE tools FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tools
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

-- Results of ExecuteTool by idempotency key: a retry with the same arguments replays the result.
CREATE TABLE tool_executions (
    tenant_id text NOT NULL,
    idempotency_key text NOT NULL,
    tool_id text NOT NULL,
    -- SHA-256 of the tool id and the canonical JSON of the arguments.
    request_hash text NOT NULL,
    result jsonb NOT NULL,
    elapsed_ms bigint NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, idempotency_key)
);
ALTER TABLE tool_executions ENABLE ROW LEVEL SECURITY;
ALTER TABLE tool_executions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tool_executions
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
