-- Conversations with an agent; status and the paused run's interrupt track where its latest run stands.
CREATE TABLE conversations (
    tenant_id text NOT NULL,
    id text NOT NULL,
    agent_id text NOT NULL,
    agent_version integer NOT NULL DEFAULT 0,
    title text NOT NULL DEFAULT '',
    -- agentplane.v1.ConversationStatus number.
    status integer NOT NULL DEFAULT 1,
    active_run_id text NOT NULL DEFAULT '',
    -- A serialized agentplane.v1.Interrupt while WAITING_FOR_INPUT; empty otherwise.
    pending_interrupt bytea NOT NULL DEFAULT ''::bytea,
    created_by text NOT NULL,
    metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    last_message_at timestamptz,
    -- Ordering key of ListConversations: the last message, else the creation.
    last_activity_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX conversations_by_activity ON conversations (tenant_id, last_activity_at DESC, id DESC);
ALTER TABLE conversations ENABLE ROW LEVEL SECURITY;
ALTER TABLE conversations FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON conversations
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

-- Immutable messages; seq orders them (oldest first) and pages ListMessages.
CREATE TABLE messages (
    tenant_id text NOT NULL,
    id text NOT NULL,
    seq bigserial NOT NULL,
    conversation_id text NOT NULL,
    -- agentplane.v1.MessageRole number.
    role integer NOT NULL,
    content text NOT NULL,
    run_id text NOT NULL DEFAULT '',
    author_id text NOT NULL DEFAULT '',
    metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- AppendMessage's key; a retry with it returns the saved message.
    idempotency_key text,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, id),
    UNIQUE (tenant_id, idempotency_key),
    FOREIGN KEY (tenant_id, conversation_id) REFERENCES conversations (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX messages_by_conversation ON messages (tenant_id, conversation_id, seq);
ALTER TABLE messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE messages FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON messages
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
