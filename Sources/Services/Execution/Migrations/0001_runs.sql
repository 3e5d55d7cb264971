-- Runs of flows: their metadata and what is needed to continue them on any replica.
CREATE TABLE runs (
    id text PRIMARY KEY,
    tenant_id text NOT NULL,
    agent_id text NOT NULL DEFAULT '',
    agent_version integer NOT NULL DEFAULT 0,
    conversation_id text NOT NULL DEFAULT '',
    input_message_id text NOT NULL DEFAULT '',
    status text NOT NULL,
    started_by text NOT NULL DEFAULT '',
    flow_json text NOT NULL,
    input text NOT NULL DEFAULT '',
    inputs_json text NOT NULL DEFAULT '{}',
    max_steps integer NOT NULL DEFAULT 0,
    timeout_ms bigint NOT NULL DEFAULT 0,
    omit_state_updates boolean NOT NULL DEFAULT false,
    last_sequence bigint NOT NULL DEFAULT 0,
    step_count integer NOT NULL DEFAULT 0,
    current_node_id text NOT NULL DEFAULT '',
    pending_interrupt_json text NOT NULL DEFAULT '',
    answer text NOT NULL DEFAULT '',
    message_id text NOT NULL DEFAULT '',
    error_code text NOT NULL DEFAULT '',
    error_message text NOT NULL DEFAULT '',
    error_node_id text NOT NULL DEFAULT '',
    error_retryable boolean NOT NULL DEFAULT false,
    prompt_tokens bigint NOT NULL DEFAULT 0,
    completion_tokens bigint NOT NULL DEFAULT 0,
    replayed_from_run_id text NOT NULL DEFAULT '',
    replayed_from_checkpoint_id text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);

CREATE INDEX runs_tenant_created ON runs (tenant_id, created_at DESC, id DESC);

-- At most one active run per conversation: a second Execute is ABORTED.
CREATE UNIQUE INDEX runs_one_active_per_conversation ON runs (tenant_id, conversation_id)
    WHERE conversation_id <> '' AND status IN ('pending', 'running', 'waiting_for_input');

ALTER TABLE runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE runs FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON runs
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
