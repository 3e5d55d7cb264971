-- Uploaded documents with their content (bytea: see docs/CONTROL.md, "Documents") and the
-- state of their indexing into the knowledge base.
CREATE TABLE documents (
    tenant_id text NOT NULL,
    id text NOT NULL,
    name text NOT NULL,
    content_type text NOT NULL,
    size_bytes bigint NOT NULL,
    -- Lower-case hex SHA-256 of the content.
    sha256 text NOT NULL,
    tags jsonb NOT NULL DEFAULT '[]'::jsonb,
    -- agentplane.v1.DocumentStatus number.
    status integer NOT NULL,
    status_message text NOT NULL DEFAULT '',
    chunk_count integer NOT NULL DEFAULT 0,
    uploaded_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    indexed_at timestamptz,
    content bytea NOT NULL,
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX documents_by_creation ON documents (tenant_id, created_at DESC, id DESC);
ALTER TABLE documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE documents FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON documents
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
