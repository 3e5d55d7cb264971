-- The LLM gateway's own state: each tenant's provider configuration (API key sealed by the
-- secret box) and usage counters per tenant, model and hour.

CREATE TABLE provider_configs (
    tenant_id text PRIMARY KEY,
    -- The configuration without the key, as JSON (provider, base URL, routes, allow-list,
    -- defaults, limits, timeout); see ProviderConfiguration.swift.
    config jsonb NOT NULL,
    -- Base64 of the secret box's output, bound to the tenant; NULL: no key stored.
    api_key_sealed text,
    revision bigint NOT NULL,
    updated_by text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE provider_configs ENABLE ROW LEVEL SECURITY;
ALTER TABLE provider_configs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON provider_configs
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

CREATE TABLE usage_hourly (
    tenant_id text NOT NULL,
    model text NOT NULL,
    hour timestamptz NOT NULL,
    requests bigint NOT NULL DEFAULT 0,
    failed_requests bigint NOT NULL DEFAULT 0,
    prompt_tokens bigint NOT NULL DEFAULT 0,
    completion_tokens bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, hour, model)
);
ALTER TABLE usage_hourly ENABLE ROW LEVEL SECURITY;
ALTER TABLE usage_hourly FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON usage_hourly
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
