-- The knowledge base: indexed documents, their chunks (text, full-text vector, embedding) and a
-- per-tenant change log that replicas follow to keep their in-memory vector indexes current.

CREATE TABLE documents (
    tenant_id text NOT NULL,
    document_id text NOT NULL,
    title text NOT NULL,
    tags text[] NOT NULL DEFAULT '{}',
    content_type text NOT NULL,
    text_bytes bigint NOT NULL,
    chunk_count integer NOT NULL,
    embedding_model text NOT NULL,
    embedding_dimensions integer NOT NULL,
    indexed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, document_id)
);

CREATE TABLE chunks (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id text NOT NULL,
    document_id text NOT NULL,
    chunk_index integer NOT NULL,
    title text NOT NULL,
    tags text[] NOT NULL DEFAULT '{}',
    heading_path text[] NOT NULL DEFAULT '{}',
    text text NOT NULL,
    -- Title and headings weigh more than the body.
    tsv tsvector NOT NULL,
    -- float32 little-endian, L2-normalised.
    embedding bytea NOT NULL,
    FOREIGN KEY (tenant_id, document_id) REFERENCES documents (tenant_id, document_id) ON DELETE CASCADE
);
CREATE INDEX chunks_document ON chunks (tenant_id, document_id);
CREATE INDEX chunks_tsv ON chunks USING gin (tsv);

-- One row per IndexDocument or DeleteDocument, in commit order within a tenant (writers of one
-- tenant take a transaction-level advisory lock), so "seq > my watermark" is every change a
-- replica has not applied yet.
CREATE TABLE changes (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id text NOT NULL,
    document_id text NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX changes_tenant_seq ON changes (tenant_id, seq);

ALTER TABLE documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE documents FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON documents
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE chunks ENABLE ROW LEVEL SECURITY;
ALTER TABLE chunks FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON chunks
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));

ALTER TABLE changes ENABLE ROW LEVEL SECURITY;
ALTER TABLE changes FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON changes
    USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
