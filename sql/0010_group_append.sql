-- 0010_group_append: several commands' appends in one transaction and one round trip.
--
-- ledger.append_group runs ledger.append for each command in the order given, each in a
-- subtransaction of its own (a PL/pgSQL block with an exception handler), so a conflict, a
-- malformed append or a duplicate command id in one command never undoes or fails another: the
-- command's subtransaction is rolled back and its error returned in its row. The caller commits
-- once for all of them; nothing is acknowledged before that commit (the client resumes its callers
-- only after it). Every guarantee of ledger.append holds per command, because it is ledger.append
-- that runs: expectations before positions, streams locked in ascending order, idempotency (a
-- command id repeated later in the same group sees the first one's result), one transaction id for
-- the whole group (gap-safe readers see all of it or none of it).
--
--   p_command_ids        per command: its idempotency key
--   p_stream_counts      per command: how many of p_streams/p_expected are its
--   p_event_counts       per command: how many of the per-event arrays are its
--   p_streams, p_expected: the commands' stream arrays, concatenated in command order
--   p_event_streams      per event: 1-based index into its own command's streams
--   p_types, p_schema_versions, p_data, p_metadata, p_occurred_at: per event, concatenated
--
-- Returns one row per command, in order: `result` (what ledger.append returned) or the error
-- (`error_state` SQLSTATE, `error_message`, `error_detail`, `error_constraint`).
-- A group whose arrays do not add up raises GL422 and stores nothing.
CREATE FUNCTION ledger.append_group(
    p_command_ids     uuid[],
    p_stream_counts   integer[],
    p_event_counts    integer[],
    p_streams         text[],
    p_expected        bigint[],
    p_event_streams   integer[],
    p_types           text[],
    p_schema_versions integer[],
    p_data            jsonb[],
    p_metadata        jsonb[],
    p_occurred_at     timestamptz[]
) RETURNS TABLE (result jsonb, error_state text, error_message text, error_detail text, error_constraint text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_count       integer := coalesce(cardinality(p_command_ids), 0);
    v_stream_sum  bigint;
    v_event_sum   bigint;
    v_first_stream integer := 1;
    v_first_event  integer := 1;
    v_streams     integer;
    v_events      integer;
    i             integer;
BEGIN
    SELECT sum(n) INTO v_stream_sum FROM unnest(p_stream_counts) AS n;
    SELECT sum(n) INTO v_event_sum FROM unnest(p_event_counts) AS n;
    IF v_count = 0
       OR coalesce(cardinality(p_stream_counts), 0) <> v_count
       OR coalesce(cardinality(p_event_counts), 0) <> v_count
       OR EXISTS (SELECT 1 FROM unnest(p_stream_counts || p_event_counts) AS n WHERE n IS NULL OR n < 1)
       OR v_stream_sum <> coalesce(cardinality(p_streams), 0)
       OR v_stream_sum <> coalesce(cardinality(p_expected), 0)
       OR v_event_sum <> coalesce(cardinality(p_event_streams), 0)
       OR v_event_sum <> coalesce(cardinality(p_types), 0)
       OR v_event_sum <> coalesce(cardinality(p_schema_versions), 0)
       OR v_event_sum <> coalesce(cardinality(p_data), 0)
       OR v_event_sum <> coalesce(cardinality(p_metadata), 0)
       OR v_event_sum <> coalesce(cardinality(p_occurred_at), 0) THEN
        RAISE EXCEPTION 'append_group arrays do not add up: each command needs at least one stream and one event'
            USING ERRCODE = 'GL422';
    END IF;

    FOR i IN 1..v_count LOOP
        v_streams := p_stream_counts[i];
        v_events := p_event_counts[i];
        result := NULL;
        error_state := NULL;
        error_message := NULL;
        error_detail := NULL;
        error_constraint := NULL;
        BEGIN
            result := ledger.append(
                p_command_ids[i],
                p_streams[v_first_stream:v_first_stream + v_streams - 1],
                p_expected[v_first_stream:v_first_stream + v_streams - 1],
                p_event_streams[v_first_event:v_first_event + v_events - 1],
                p_types[v_first_event:v_first_event + v_events - 1],
                p_schema_versions[v_first_event:v_first_event + v_events - 1],
                p_data[v_first_event:v_first_event + v_events - 1],
                p_metadata[v_first_event:v_first_event + v_events - 1],
                p_occurred_at[v_first_event:v_first_event + v_events - 1]);
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS
                error_state = RETURNED_SQLSTATE,
                error_message = MESSAGE_TEXT,
                error_detail = PG_EXCEPTION_DETAIL,
                error_constraint = CONSTRAINT_NAME;
        END;
        RETURN NEXT;
        v_first_stream := v_first_stream + v_streams;
        v_first_event := v_first_event + v_events;
    END LOOP;
END;
$$;

COMMENT ON FUNCTION ledger.append_group IS 'Runs ledger.append for several commands in one transaction, each in its own subtransaction; one result or error row per command.';

REVOKE ALL ON FUNCTION ledger.append_group(uuid[], integer[], integer[], text[], bigint[], integer[], text[], integer[], jsonb[], jsonb[], timestamptz[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ledger.append_group(uuid[], integer[], integer[], text[], bigint[], integer[], text[], integer[], jsonb[], jsonb[], timestamptz[]) TO gigledger_writer;
