-- 0015_group_append_at_once: a group's commands decided and written together, a few statements
-- for the whole group instead of a subtransaction and a full ledger.append per command.
--
-- ledger.append_group_at_once() does what ledger.append_group did command by command, at once:
--   1. one statement locks the group's existing streams in ascending (byte) order, FOR UPDATE,
--      and reads the command ids already stored;
--   2. the commands are decided in order, in memory: a command id stored before, or accepted
--      earlier in the group, is answered with that first result ("duplicate": true); otherwise
--      every expectation of the command is checked against its streams' running versions (what
--      the commands before it in the group left them at) before any of it is applied, and the
--      first that fails is the command's GL409, worded and detailed as ledger.append words it;
--   3. one statement writes what was accepted: the events (positions drawn in the order given),
--      the streams' new versions (new streams created), the commands' results.
-- It raises, and so declines the group, whenever a command would not be accepted or refused
-- exactly as ledger.append would do it: malformed arguments (GL422), a constraint of the log
-- (an event type, a non-object payload), a stream created by another transaction since it was
-- read, a racing retry of a command id (commands_pkey), a deadlock. ledger.append_group then runs
-- ledger.append command by command in subtransactions, as before, and that path answers each
-- command exactly: nothing of the declined attempt remains (its subtransaction is rolled back).
--
-- Every guarantee holds on both paths: expectations checked before positions are drawn, a
-- command's streams all or nothing, idempotency (racing retries through the fallback), one
-- transaction id for the whole group (gap-safe readers see all of it or none), the log append-only.
-- The result per command is what ledger.append returns; the signature of ledger.append_group is
-- unchanged, so clients do not change.
--
-- All three functions (and ledger.append, altered at the end) run their statements with generic
-- plans (plan_cache_mode = force_generic_plan): planned once per session, not at every call.

CREATE FUNCTION ledger.append_group_at_once(
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
    p_occurred_at     timestamptz[],
    OUT results       jsonb[],
    OUT error_states  text[],
    OUT error_messages text[],
    OUT error_details text[]
)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_count        integer := cardinality(p_command_ids);
    -- The group's streams that exist, ascending, and each one's running version (locked rows).
    v_names        text[];
    v_start        bigint[];
    v_running      bigint[];
    -- Streams the group creates, with their running versions.
    v_new_names    text[] := '{}';
    v_new_running  bigint[] := '{}';
    -- Command ids stored before this group, and ids accepted in it (with their command's index).
    v_stored_ids   uuid[];
    v_stored       jsonb[];
    v_group_ids    uuid[] := '{}';
    v_group_index  integer[] := '{}';
    v_duplicate_of integer[];
    -- Per command: where its events start among the accepted ones (NULL: not accepted).
    v_first_accepted integer[];
    -- The accepted commands' events, in order.
    e_streams      text[] := '{}';
    e_versions     bigint[] := '{}';
    e_types        text[] := '{}';
    e_schema       integer[] := '{}';
    e_data         jsonb[] := '{}';
    e_metadata     jsonb[] := '{}';
    e_occurred     timestamptz[] := '{}';
    v_positions    bigint[];
    -- One command's working values.
    v_streams      integer;
    v_events       integer;
    v_first_stream integer := 1;
    v_first_event  integer := 1;
    v_counts       integer[];
    v_after        bigint[];
    v_event_versions bigint[];
    v_left         integer[];
    v_slot         integer;
    v_current      bigint;
    v_expected     bigint;
    v_stream       text;
    v_index        integer;
    v_conflict     boolean;
    v_holds        boolean;
    v_rows         bigint;
    v_written      bigint;
    i              integer;
    j              integer;
BEGIN
    -- The per-command counts must add up to the arrays (checked again after the loop, which
    -- reads them); ledger.append_group words the error when it has declined.
    IF v_count IS NULL OR v_count = 0
       OR cardinality(p_stream_counts) IS DISTINCT FROM v_count
       OR cardinality(p_event_counts) IS DISTINCT FROM v_count
       OR cardinality(p_expected) IS DISTINCT FROM cardinality(p_streams)
       OR cardinality(p_types) IS DISTINCT FROM cardinality(p_event_streams)
       OR cardinality(p_schema_versions) IS DISTINCT FROM cardinality(p_event_streams)
       OR cardinality(p_data) IS DISTINCT FROM cardinality(p_event_streams)
       OR cardinality(p_metadata) IS DISTINCT FROM cardinality(p_event_streams)
       OR cardinality(p_occurred_at) IS DISTINCT FROM cardinality(p_event_streams) THEN
        RAISE EXCEPTION 'append_group arrays do not add up' USING ERRCODE = 'GL422';
    END IF;
    results := array_fill(NULL::jsonb, ARRAY[v_count]);
    error_states := array_fill(NULL::text, ARRAY[v_count]);
    error_messages := array_fill(NULL::text, ARRAY[v_count]);
    error_details := array_fill(NULL::text, ARRAY[v_count]);
    v_duplicate_of := array_fill(NULL::integer, ARRAY[v_count]);
    v_first_accepted := array_fill(NULL::integer, ARRAY[v_count]);

    -- 1. Lock what exists, ascending; read what was stored.
    SELECT l.names, l.versions, c.ids, c.stored_results
    INTO v_names, v_start, v_stored_ids, v_stored
    FROM (SELECT coalesce(array_agg(k.stream_id ORDER BY k.stream_id COLLATE "C"), '{}') AS names,
                 coalesce(array_agg(k.version ORDER BY k.stream_id COLLATE "C"), '{}') AS versions
          FROM (SELECT s.stream_id, s.version FROM ledger.streams s
                WHERE s.stream_id = ANY(p_streams) ORDER BY s.stream_id COLLATE "C" FOR UPDATE) AS k) AS l,
         (SELECT coalesce(array_agg(d.command_id), '{}') AS ids, coalesce(array_agg(d.result), '{}') AS stored_results
          FROM ledger.commands d WHERE d.command_id = ANY(p_command_ids)) AS c;
    v_running := v_start;

    -- 2. Each command in order, in memory.
    FOR i IN 1..v_count LOOP
        v_streams := p_stream_counts[i];
        v_events := p_event_counts[i];
        IF p_command_ids[i] IS NULL OR v_streams IS NULL OR v_streams < 1 OR v_events IS NULL OR v_events < 1 THEN
            RAISE EXCEPTION 'command % has no id, no stream or no event', i USING ERRCODE = 'GL422';
        END IF;
        j := array_position(v_stored_ids, p_command_ids[i]);
        IF j IS NOT NULL THEN
            results[i] := v_stored[j] || '{"duplicate": true}'::jsonb;
        ELSE
            j := array_position(v_group_ids, p_command_ids[i]);
            IF j IS NOT NULL THEN
                v_duplicate_of[i] := v_group_index[j];
            ELSE
                -- Events per stream, each event's stream index checked.
                v_counts := array_fill(0, ARRAY[v_streams]);
                FOR j IN v_first_event..v_first_event + v_events - 1 LOOP
                    v_index := p_event_streams[j];
                    IF v_index IS NULL OR v_index < 1 OR v_index > v_streams THEN
                        RAISE EXCEPTION 'command % names a stream outside its own', i USING ERRCODE = 'GL422';
                    END IF;
                    v_counts[v_index] := v_counts[v_index] + 1;
                END LOOP;
                -- Every expectation, before anything of the command is applied.
                v_conflict := false;
                v_after := array_fill(0::bigint, ARRAY[v_streams]);
                FOR j IN 1..v_streams LOOP
                    v_stream := p_streams[v_first_stream + j - 1];
                    v_expected := p_expected[v_first_stream + j - 1];
                    IF v_stream IS NULL OR v_stream !~ '^[a-z][a-z0-9]{0,39}-[A-Za-z0-9._:-]{1,200}$'
                       OR (j > 1 AND v_stream COLLATE "C" <= p_streams[v_first_stream + j - 2] COLLATE "C")
                       OR v_expected IS NULL OR v_expected < -2 OR v_counts[j] = 0 THEN
                        RAISE EXCEPTION 'command % has a malformed stream', i USING ERRCODE = 'GL422';
                    END IF;
                    v_slot := array_position(v_names, v_stream);
                    IF v_slot IS NOT NULL THEN
                        v_current := v_running[v_slot];
                    ELSE
                        v_slot := array_position(v_new_names, v_stream);
                        v_current := CASE WHEN v_slot IS NULL THEN NULL ELSE v_new_running[v_slot] END;
                    END IF;
                    v_holds := CASE v_expected
                                   WHEN -1 THEN true
                                   WHEN 0 THEN v_current IS NULL
                                   WHEN -2 THEN v_current IS NOT NULL
                                   ELSE v_current IS NOT DISTINCT FROM v_expected
                               END;
                    IF v_holds THEN
                        v_after[j] := coalesce(v_current, 0) + v_counts[j];
                    ELSE
                        error_states[i] := 'GL409';
                        error_messages[i] := format('wrong expected version for stream %s', v_stream);
                        error_details[i] := jsonb_build_object(
                            'stream', v_stream, 'expected', v_expected, 'actual', coalesce(v_current, 0))::text;
                        v_conflict := true;
                        EXIT;
                    END IF;
                END LOOP;
                IF NOT v_conflict THEN
                    -- Applied: running versions move, the events join the group's.
                    FOR j IN 1..v_streams LOOP
                        v_stream := p_streams[v_first_stream + j - 1];
                        v_slot := array_position(v_names, v_stream);
                        IF v_slot IS NOT NULL THEN
                            v_running[v_slot] := v_after[j];
                        ELSE
                            v_slot := array_position(v_new_names, v_stream);
                            IF v_slot IS NULL THEN
                                v_new_names := v_new_names || v_stream;
                                v_new_running := v_new_running || v_after[j];
                            ELSE
                                v_new_running[v_slot] := v_after[j];
                            END IF;
                        END IF;
                    END LOOP;
                    v_left := v_counts;
                    v_event_versions := array_fill(0::bigint, ARRAY[v_events]);
                    v_first_accepted[i] := cardinality(e_streams) + 1;
                    FOR j IN 1..v_events LOOP
                        v_index := p_event_streams[v_first_event + j - 1];
                        v_event_versions[j] := v_after[v_index] - v_left[v_index] + 1;
                        v_left[v_index] := v_left[v_index] - 1;
                        e_streams := e_streams || p_streams[v_first_stream + v_index - 1];
                        e_versions := e_versions || v_event_versions[j];
                    END LOOP;
                    e_types := e_types || p_types[v_first_event:v_first_event + v_events - 1];
                    e_schema := e_schema || p_schema_versions[v_first_event:v_first_event + v_events - 1];
                    e_data := e_data || p_data[v_first_event:v_first_event + v_events - 1];
                    e_metadata := e_metadata || p_metadata[v_first_event:v_first_event + v_events - 1];
                    e_occurred := e_occurred || p_occurred_at[v_first_event:v_first_event + v_events - 1];
                    results[i] := jsonb_build_object(
                        'commandId', p_command_ids[i],
                        'streams', to_jsonb(p_streams[v_first_stream:v_first_stream + v_streams - 1]),
                        'versions', to_jsonb(v_after),
                        'eventStreams', to_jsonb(p_event_streams[v_first_event:v_first_event + v_events - 1]),
                        'eventVersions', to_jsonb(v_event_versions));
                    v_group_ids := v_group_ids || p_command_ids[i];
                    v_group_index := v_group_index || i;
                END IF;
            END IF;
        END IF;
        v_first_stream := v_first_stream + v_streams;
        v_first_event := v_first_event + v_events;
    END LOOP;

    IF v_first_stream - 1 <> cardinality(p_streams) OR v_first_event - 1 <> cardinality(p_event_streams) THEN
        RAISE EXCEPTION 'append_group arrays do not add up' USING ERRCODE = 'GL422';
    END IF;
    IF cardinality(e_streams) = 0 THEN
        RETURN; -- nothing to write: every command a stored duplicate or a conflict
    END IF;

    -- 3. One statement writes it all; positions are drawn in the order given.
    WITH drawn AS (
        INSERT INTO ledger.events (stream_id, stream_version, category, event_type, schema_version,
                                   data, metadata, occurred_at)
        SELECT e.s, e.v, split_part(e.s, '-', 1), e.t, e.sv, e.d, e.m, coalesce(e.o, now())
        FROM unnest(e_streams, e_versions, e_types, e_schema, e_data, e_metadata, e_occurred)
             AS e(s, v, t, sv, d, m, o)
        RETURNING global_position
    ), ordered AS (
        SELECT array_agg(d.global_position ORDER BY d.global_position) AS positions FROM drawn d
    ), moved AS (
        UPDATE ledger.streams s SET version = u.v, updated_at = now()
        FROM unnest(v_names, v_start, v_running) AS u(n, b, v)
        WHERE s.stream_id = u.n AND u.v <> u.b
        RETURNING 1
    ), created AS (
        -- A stream created meanwhile by another transaction inserts nothing here: declined below.
        INSERT INTO ledger.streams (stream_id, category, version)
        SELECT u.n, split_part(u.n, '-', 1), u.v FROM unnest(v_new_names, v_new_running) AS u(n, v)
        ORDER BY u.n COLLATE "C"
        ON CONFLICT (stream_id) DO NOTHING
        RETURNING 1
    ), recorded AS (
        INSERT INTO ledger.commands (command_id, result)
        SELECT v_group_ids[k], results[v_group_index[k]] || jsonb_build_object('positions', to_jsonb(
                   o.positions[v_first_accepted[v_group_index[k]]:
                               v_first_accepted[v_group_index[k]] + p_event_counts[v_group_index[k]] - 1]))
        FROM generate_subscripts(v_group_ids, 1) AS k, ordered o
        RETURNING 1
    )
    SELECT o.positions, (SELECT count(*) FROM created), (SELECT count(*) FROM moved) + (SELECT count(*) FROM recorded)
    INTO v_positions, v_rows, v_written
    FROM ordered o;
    IF v_rows <> cardinality(v_new_names) THEN
        RAISE EXCEPTION 'a stream of the group was created by another transaction meanwhile' USING ERRCODE = 'GL409';
    END IF;

    FOR i IN 1..v_count LOOP
        IF v_first_accepted[i] IS NOT NULL THEN
            results[i] := results[i] || jsonb_build_object('positions',
                to_jsonb(v_positions[v_first_accepted[i]:v_first_accepted[i] + p_event_counts[i] - 1]))
                || '{"duplicate": false}'::jsonb;
        ELSIF v_duplicate_of[i] IS NOT NULL THEN
            results[i] := (results[v_duplicate_of[i]] - 'duplicate') || '{"duplicate": true}'::jsonb;
        END IF;
    END LOOP;
END;
$$;

COMMENT ON FUNCTION ledger.append_group_at_once IS 'A group''s commands decided in order and written together in a few statements; raises to decline (ledger.append_group then goes command by command).';
REVOKE ALL ON FUNCTION ledger.append_group_at_once(uuid[], integer[], integer[], text[], bigint[], integer[], text[], integer[], jsonb[], jsonb[], timestamptz[]) FROM PUBLIC;

-- ledger.append_group: at once when it can, command by command in subtransactions when declined.
-- The arguments and the rows returned are as in 0010_group_append.
CREATE OR REPLACE FUNCTION ledger.append_group(
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
SET plan_cache_mode = force_generic_plan
AS $$
DECLARE
    v_count       integer := coalesce(cardinality(p_command_ids), 0);
    v_stream_sum  bigint;
    v_event_sum   bigint;
    v_first_stream integer := 1;
    v_first_event  integer := 1;
    v_streams     integer;
    v_events      integer;
    v_results     jsonb[];
    v_states      text[];
    v_messages    text[];
    v_details     text[];
    v_at_once     boolean := false;
    i             integer;
BEGIN
    BEGIN
        SELECT a.results, a.error_states, a.error_messages, a.error_details
        INTO v_results, v_states, v_messages, v_details
        FROM ledger.append_group_at_once(
            p_command_ids, p_stream_counts, p_event_counts, p_streams, p_expected, p_event_streams,
            p_types, p_schema_versions, p_data, p_metadata, p_occurred_at) AS a;
        v_at_once := true;
    EXCEPTION WHEN OTHERS THEN
        v_at_once := false; -- declined: nothing of it remains; command by command below
    END;
    IF v_at_once THEN
        RETURN QUERY SELECT u.r, u.s, u.m, u.d, NULL::text
                     FROM unnest(v_results, v_states, v_messages, v_details) AS u(r, s, m, d);
        RETURN;
    END IF;

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

COMMENT ON FUNCTION ledger.append_group IS 'Appends several commands in one transaction, each outcome its own: at once (ledger.append_group_at_once) when it can, else ledger.append per command in a subtransaction.';

-- ledger.append (0001) keeps its body; its statements are planned once per session instead of at
-- every call. PostgreSQL kept choosing custom plans for them (a custom plan of a statement over
-- unnest() of a parameter array looks cheaper than the generic one, which guesses ten elements),
-- so every append planned its statements again: ~45 % of a 1-event append's server CPU in a
-- single session (BENCHMARKS.md, "Group append at once"). The generic plans are the same index
-- lookups and scans of the arrays given.
ALTER FUNCTION ledger.append(uuid, text[], bigint[], integer[], text[], integer[], jsonb[], jsonb[], timestamptz[])
    SET plan_cache_mode = force_generic_plan;
