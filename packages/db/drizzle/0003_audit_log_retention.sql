-- Retention for the append-only audit trail. The trigger still refuses UPDATE, TRUNCATE and any
-- DELETE, except the one audit_log_prune() makes: it names, for its own transaction only, a cut-off
-- at least a day old, and the trigger lets through rows older than that cut-off and nothing else.
CREATE OR REPLACE FUNCTION "audit_log_append_only"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  cutoff timestamptz;
BEGIN
  IF TG_OP = 'DELETE' THEN
    cutoff := nullif(current_setting('nimbus.audit_prune_before', true), '')::timestamptz;
    IF cutoff IS NOT NULL AND cutoff <= now() - interval '1 day' AND OLD.at < cutoff THEN
      RETURN OLD;
    END IF;
  END IF;
  RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;
--> statement-breakpoint
-- Deletes at most max_rows of the records older than keep_days (oldest first); returns how many.
-- Called in a loop by the server's retention timer, so one call never holds the table for long.
CREATE FUNCTION "audit_log_prune"(keep_days integer, max_rows integer) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  cutoff timestamptz := now() - make_interval(days => keep_days);
  deleted bigint;
BEGIN
  IF keep_days IS NULL OR keep_days < 1 THEN
    RAISE EXCEPTION 'audit retention must keep at least one day, not %', keep_days
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  PERFORM set_config('nimbus.audit_prune_before', cutoff::text, true);
  DELETE FROM "audit_log" WHERE "id" IN (
    SELECT "id" FROM "audit_log" WHERE "at" < cutoff ORDER BY "id" LIMIT max_rows
  );
  GET DIAGNOSTICS deleted = ROW_COUNT;
  PERFORM set_config('nimbus.audit_prune_before', '', true);
  RETURN deleted;
END
$$;
