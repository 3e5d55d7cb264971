-- Retention: finished deliveries (delivered or failed; their secrets are already erased) are
-- deleted once older than NOTIFICATION_RETENTION, and idempotency keys after their 24 hours.
-- Like claim_due_delivery, this runs as the migration owner because the clean-up spans
-- tenants; the owner-only policy below lets it see every key when it is not a superuser.
CREATE POLICY owner_maintenance ON idempotency_keys TO CURRENT_USER USING (true) WITH CHECK (true);

CREATE INDEX deliveries_finished ON deliveries (created_at) WHERE status <> 'pending';

CREATE FUNCTION purge_finished_deliveries(retention_ms bigint) RETURNS bigint
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = notification, pg_temp
AS $$
DECLARE
    removed bigint;
BEGIN
    DELETE FROM notification.idempotency_keys WHERE created_at <= now() - interval '24 hours';
    DELETE FROM notification.deliveries
    WHERE status <> 'pending' AND created_at <= now() - retention_ms * interval '1 millisecond';
    GET DIAGNOSTICS removed = ROW_COUNT;
    RETURN removed;
END
$$;
REVOKE ALL ON FUNCTION purge_finished_deliveries(bigint) FROM PUBLIC;
