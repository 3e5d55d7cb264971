-- The size limits a run got when it started (its tenant's, lowered to the platform's maxima), so a
-- resume or a takeover runs under the same ones; 0: the platform's current maximum.
ALTER TABLE runs
    ADD COLUMN max_state_bytes bigint NOT NULL DEFAULT 0,
    ADD COLUMN max_node_output_bytes bigint NOT NULL DEFAULT 0,
    ADD COLUMN max_event_bytes bigint NOT NULL DEFAULT 0;
