-- Recovery of documents whose indexing task was lost (the control plane stopped while a
-- document was PROCESSING): see docs/CONTROL.md, "Documents".
--
-- processing_since: when the current indexing attempt started (the upload, or the sweep's
-- claim). Rows existing before this migration get the migration's time, so their bound runs
-- from the upgrade. index_attempts: attempts started so far, the upload's included.
ALTER TABLE documents ADD COLUMN processing_since timestamptz NOT NULL DEFAULT now();
ALTER TABLE documents ADD COLUMN index_attempts integer NOT NULL DEFAULT 1;

-- agentplane.v1.DocumentStatus PROCESSING = 1.
CREATE INDEX documents_processing ON documents (processing_since) WHERE status = 1;

-- The migration owner (and only it) sees every row: the claim function below runs as the
-- owner, which FORCE ROW LEVEL SECURITY would otherwise restrict when the owner is not a
-- superuser. The application role never matches this policy.
CREATE POLICY index_recovery ON documents TO CURRENT_USER USING (true) WITH CHECK (true);

-- Claims, across tenants, up to max_rows documents PROCESSING since at least stale_ms
-- milliseconds: each claimed row gets a fresh processing_since and one more attempt in the
-- same statement, so another replica's sweep passes over it for the next stale_ms, and SKIP
-- LOCKED keeps two sweeps from claiming one row at once. SECURITY DEFINER because the sweep
-- works across tenants while the application role is bound by row-level security; it returns
-- only ids, tenant ids and the attempt count, and the caller then reads and updates each row
-- under that tenant's context.
CREATE FUNCTION claim_stale_documents(stale_ms bigint, max_rows integer)
RETURNS TABLE (tenant_id text, id text, attempts integer)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = control, pg_temp
AS $$
    UPDATE control.documents AS d
    SET processing_since = now(), index_attempts = d.index_attempts + 1
    FROM (
        SELECT s.tenant_id, s.id FROM control.documents AS s
        WHERE s.status = 1 AND s.processing_since <= now() - stale_ms * interval '1 millisecond'
        ORDER BY s.processing_since
        LIMIT max_rows
        FOR UPDATE SKIP LOCKED
    ) AS stale
    WHERE d.tenant_id = stale.tenant_id AND d.id = stale.id
    RETURNING d.tenant_id, d.id, d.index_attempts
$$;
REVOKE ALL ON FUNCTION claim_stale_documents(bigint, integer) FROM PUBLIC;
