-- Chunk counts per tenant, so that a replica starting up can rebuild the approximate vector
-- index of every tenant at or above the threshold before the first search arrives. Row-level
-- security would hide every row from a query made outside a tenant's transaction, so this
-- table holds no tenant data beyond the id and a count, and carries no tenant_id policy.
CREATE TABLE index_tenants (
    tenant text PRIMARY KEY,
    chunk_count bigint NOT NULL
);
