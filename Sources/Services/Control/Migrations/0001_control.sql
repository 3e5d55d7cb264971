-- Tenants: the directory Login resolves a slug in before any tenant is known, so it carries
-- no tenant_id column and no row-level security; every query still names the tenant's id.
CREATE TABLE tenants (
    id text PRIMARY KEY,
    slug text NOT NULL UNIQUE,
    display_name text NOT NULL DEFAULT '',
    -- A serialized agentplane.v1.TenantSettings.
    settings bytea NOT NULL DEFAULT ''::bytea,
    revision bigint NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    tenant_id text NOT NULL,
    id text NOT NULL,
    email text NOT NULL,
    display_name text NOT NULL DEFAULT '',
    -- Comma-separated role names (owner, admin, builder, member).
    roles text NOT NULL,
    -- scrypt$<log2 N>$<r>$<p>$<salt base64>$<hash base64>
    password_hash text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, email)
);
ALTER TABLE users ENABLE ROW LEVEL SECURITY;
ALTER TABLE users FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON users
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

-- A sign-in session: one refresh-token family. Revoking it ends every token of the family.
CREATE TABLE sessions (
    tenant_id text NOT NULL,
    id text NOT NULL,
    user_id text NOT NULL,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX sessions_by_user ON sessions (tenant_id, user_id);
ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sessions
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

-- Refresh tokens by SHA-256 of the token; a used one stays to detect its reuse. Each row also
-- names the access token issued with it, so ending the session can denylist all of them.
CREATE TABLE refresh_tokens (
    tenant_id text NOT NULL,
    token_hash text NOT NULL,
    session_id text NOT NULL,
    access_token_id text NOT NULL,
    access_expires_at timestamptz NOT NULL,
    used_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, token_hash),
    FOREIGN KEY (tenant_id, session_id) REFERENCES sessions (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX refresh_tokens_by_session ON refresh_tokens (tenant_id, session_id);
CREATE INDEX refresh_tokens_by_access_token ON refresh_tokens (tenant_id, access_token_id);
ALTER TABLE refresh_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE refresh_tokens FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON refresh_tokens
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

CREATE TABLE api_keys (
    tenant_id text NOT NULL,
    id text NOT NULL,
    seq bigserial NOT NULL,
    owner_user_id text NOT NULL,
    name text NOT NULL,
    prefix text NOT NULL,
    key_hash text NOT NULL,
    roles text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    last_used_at timestamptz,
    revoked_at timestamptz,
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, key_hash)
);
CREATE INDEX api_keys_by_owner ON api_keys (tenant_id, owner_user_id, seq DESC);
ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON api_keys
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

-- An agent's identity and its newest version number; the row lock orders concurrent saves.
CREATE TABLE agents (
    tenant_id text NOT NULL,
    id text NOT NULL,
    name text NOT NULL,
    latest_version integer NOT NULL,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, name)
);
ALTER TABLE agents ENABLE ROW LEVEL SECURITY;
ALTER TABLE agents FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON agents
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

-- Immutable versions: rows are inserted, never updated.
CREATE TABLE agent_versions (
    tenant_id text NOT NULL,
    agent_id text NOT NULL,
    version integer NOT NULL,
    name text NOT NULL,
    description text NOT NULL DEFAULT '',
    flow_json text NOT NULL,
    tags jsonb NOT NULL DEFAULT '[]',
    metadata jsonb NOT NULL DEFAULT '{}',
    author_id text NOT NULL,
    change_message text NOT NULL,
    restored_from_version integer NOT NULL DEFAULT 0,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, agent_id, version),
    FOREIGN KEY (tenant_id, agent_id) REFERENCES agents (tenant_id, id) ON DELETE CASCADE
);
ALTER TABLE agent_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE agent_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON agent_versions
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
