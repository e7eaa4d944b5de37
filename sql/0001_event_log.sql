-- 0001_event_log: the append-only event log, GigLedger's only source of truth.
--
-- ledger.streams   one row per stream (aggregate instance): its category and current version.
-- ledger.events    every event ever appended; never updated, deleted or truncated.
-- ledger.commands  the result of every append, by command id, so a repeated command is answered
--                  with its first result and appends nothing.
-- ledger.append()  the only way in: checks expectations, then appends atomically (see below).
--
-- Gap-safe reading: each event stores the id of the transaction that wrote it. Readers order by
-- (transaction_id, global_position) and read only below pg_snapshot_xmin(pg_current_snapshot()),
-- the oldest transaction still running, so they never pass an event that an open transaction may
-- yet commit. A reader's checkpoint is that pair.

CREATE SCHEMA ledger;
COMMENT ON SCHEMA ledger IS 'GigLedger event log (append-only). Write only through ledger.append().';

CREATE TABLE ledger.streams (
    stream_id   text        NOT NULL,
    category    text        NOT NULL,
    version     bigint      NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT streams_pkey PRIMARY KEY (stream_id),
    CONSTRAINT streams_version_nonnegative CHECK (version >= 0),
    CONSTRAINT streams_category_matches CHECK (category = split_part(stream_id, '-', 1))
);
COMMENT ON TABLE ledger.streams IS 'One row per stream: category and current version (number of events).';

CREATE SEQUENCE ledger.events_position_seq AS bigint NO CYCLE;

CREATE TABLE ledger.events (
    global_position bigint      NOT NULL DEFAULT nextval('ledger.events_position_seq'),
    stream_id       text        NOT NULL,
    stream_version  bigint      NOT NULL,
    category        text        NOT NULL,
    event_type      text        NOT NULL,
    schema_version  integer     NOT NULL,
    data            jsonb       NOT NULL,
    metadata        jsonb       NOT NULL,
    occurred_at     timestamptz NOT NULL,
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    transaction_id  xid8        NOT NULL DEFAULT pg_current_xact_id(),
    CONSTRAINT events_pkey PRIMARY KEY (global_position),
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version),
    CONSTRAINT events_stream_version_positive CHECK (stream_version >= 1),
    CONSTRAINT events_event_type_format CHECK (event_type ~ '^[A-Z][A-Za-z0-9]{0,99}$'),
    CONSTRAINT events_schema_version_positive CHECK (schema_version >= 1),
    CONSTRAINT events_data_is_object CHECK (jsonb_typeof(data) = 'object'),
    CONSTRAINT events_metadata_is_object CHECK (jsonb_typeof(metadata) = 'object')
);
ALTER SEQUENCE ledger.events_position_seq OWNED BY ledger.events.global_position;
COMMENT ON TABLE ledger.events IS 'Every event, in stream order (stream_id, stream_version) and log order (transaction_id, global_position).';
COMMENT ON COLUMN ledger.events.transaction_id IS 'Writing transaction (pg_current_xact_id()); gap-safe readers order by it.';
COMMENT ON COLUMN ledger.events.occurred_at IS 'Business time, supplied by the command (backfills, simulation); recorded_at is when it was stored.';

-- Read paths: a stream in order (events_stream_version_key), the whole log in gap-safe order
-- (below), a position (events_pkey: the head and lookups by position). Nothing more.
CREATE INDEX events_log_order_idx ON ledger.events (transaction_id, global_position);

CREATE TABLE ledger.commands (
    command_id  uuid        NOT NULL,
    result      jsonb       NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT commands_pkey PRIMARY KEY (command_id)
);
COMMENT ON TABLE ledger.commands IS 'The first result of every append, by command id (idempotency).';

CREATE TABLE ledger.subscription_checkpoints (
    subscription    text        NOT NULL,
    transaction_id  xid8        NOT NULL,
    global_position bigint      NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT subscription_checkpoints_pkey PRIMARY KEY (subscription)
);
COMMENT ON TABLE ledger.subscription_checkpoints IS 'Where each subscription has read to, written in the same transaction as its effects.';

-- Immutability, enforced by the database itself.
CREATE FUNCTION ledger.refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger.% is append-only: % is not allowed', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'GL403',
              HINT = 'Events are facts: correct one by appending a compensating event.';
END;
$$;

CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON ledger.events
    FOR EACH ROW EXECUTE FUNCTION ledger.refuse_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON ledger.events
    FOR EACH STATEMENT EXECUTE FUNCTION ledger.refuse_change();
CREATE TRIGGER commands_append_only BEFORE UPDATE OR DELETE ON ledger.commands
    FOR EACH ROW EXECUTE FUNCTION ledger.refuse_change();
CREATE TRIGGER commands_no_truncate BEFORE TRUNCATE ON ledger.commands
    FOR EACH STATEMENT EXECUTE FUNCTION ledger.refuse_change();
CREATE TRIGGER streams_no_delete BEFORE DELETE ON ledger.streams
    FOR EACH ROW EXECUTE FUNCTION ledger.refuse_change();
CREATE TRIGGER streams_no_truncate BEFORE TRUNCATE ON ledger.streams
    FOR EACH STATEMENT EXECUTE FUNCTION ledger.refuse_change();

-- ledger.append: one round trip appends events to one or more streams atomically.
--
--   p_command_id       idempotency key: a repeat returns the first result (with "duplicate": true)
--   p_streams          the streams written, each once, in ascending order (rows are locked in
--                      this order, so concurrent multi-stream appends cannot deadlock)
--   p_expected         per stream: -1 any, -2 stream exists, 0 no stream, n > 0 exactly version n
--   p_event_streams    per event: 1-based index into p_streams
--   p_types, p_schema_versions, p_data, p_metadata, p_occurred_at: per event
--
-- Returns {"commandId", "streams": [name], "versions": [version after], "eventStreams": [index],
--          "eventVersions": [version], "positions": [position]} (per event, in the order given).
-- Errors: SQLSTATE GL409 wrong expected version (DETAIL is JSON {"stream","expected","actual"}),
--         GL422 malformed arguments. Every expectation is checked, each with the stream's row
--         locked, before any position is drawn. A retry racing its first attempt waits on the
--         stream row or the commands key and then fails (GL409 or 23505 on commands_pkey); the
--         client then answers with the stored first result.
CREATE FUNCTION ledger.append(
    p_command_id      uuid,
    p_streams         text[],
    p_expected        bigint[],
    p_event_streams   integer[],
    p_types           text[],
    p_schema_versions integer[],
    p_data            jsonb[],
    p_metadata        jsonb[],
    p_occurred_at     timestamptz[]
) RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_stream_count integer := coalesce(cardinality(p_streams), 0);
    v_event_count  integer := coalesce(cardinality(p_types), 0);
    v_versions     bigint[] := '{}';
    v_counts       integer[];
    v_event_versions bigint[];
    v_positions    bigint[];
    v_version      bigint;
    v_expected     bigint;
    v_stream       text;
    v_result       jsonb;
    i              integer;
BEGIN
    IF p_command_id IS NULL OR v_stream_count = 0 OR v_event_count = 0 THEN
        RAISE EXCEPTION 'an append needs a command id, at least one stream and at least one event'
            USING ERRCODE = 'GL422';
    END IF;
    IF coalesce(cardinality(p_expected), 0) <> v_stream_count
       OR coalesce(cardinality(p_event_streams), 0) <> v_event_count
       OR coalesce(cardinality(p_schema_versions), 0) <> v_event_count
       OR coalesce(cardinality(p_data), 0) <> v_event_count
       OR coalesce(cardinality(p_metadata), 0) <> v_event_count
       OR coalesce(cardinality(p_occurred_at), 0) <> v_event_count THEN
        RAISE EXCEPTION 'append arrays differ in length' USING ERRCODE = 'GL422';
    END IF;

    -- 1. Idempotency: a command id seen before gets its first result back.
    SELECT c.result INTO v_result FROM ledger.commands c WHERE c.command_id = p_command_id;
    IF FOUND THEN
        RETURN v_result || '{"duplicate": true}'::jsonb;
    END IF;

    v_counts := array_fill(0, ARRAY[v_stream_count]);
    FOR i IN 1..v_event_count LOOP
        IF p_event_streams[i] IS NULL OR p_event_streams[i] < 1 OR p_event_streams[i] > v_stream_count THEN
            RAISE EXCEPTION 'event % names stream index %, outside 1..%', i, p_event_streams[i], v_stream_count
                USING ERRCODE = 'GL422';
        END IF;
        v_counts[p_event_streams[i]] := v_counts[p_event_streams[i]] + 1;
    END LOOP;

    -- 2. Expectations, stream by stream in ascending order, before any position is drawn. Each
    --    statement locks the stream's row and moves its version only if the expectation holds.
    FOR i IN 1..v_stream_count LOOP
        v_stream := p_streams[i];
        v_expected := p_expected[i];
        IF v_stream IS NULL OR v_stream !~ '^[a-z][a-z0-9]{0,39}-[A-Za-z0-9._:-]{1,200}$' THEN
            RAISE EXCEPTION 'stream name % is not of the form category-id', quote_nullable(v_stream)
                USING ERRCODE = 'GL422';
        END IF;
        -- Byte order (COLLATE "C"), as clients sort, whatever the database's collation.
        IF i > 1 AND v_stream COLLATE "C" <= p_streams[i - 1] COLLATE "C" THEN
            RAISE EXCEPTION 'streams must be distinct and in ascending order' USING ERRCODE = 'GL422';
        END IF;
        IF v_expected IS NULL OR v_expected < -2 THEN
            RAISE EXCEPTION 'expected version % is not valid', v_expected USING ERRCODE = 'GL422';
        END IF;
        IF v_counts[i] = 0 THEN
            RAISE EXCEPTION 'stream % has no events in this append', v_stream USING ERRCODE = 'GL422';
        END IF;

        v_version := NULL;
        IF v_expected = -1 THEN
            INSERT INTO ledger.streams AS s (stream_id, category, version)
            VALUES (v_stream, split_part(v_stream, '-', 1), v_counts[i])
            ON CONFLICT (stream_id) DO UPDATE SET version = s.version + v_counts[i], updated_at = now()
            RETURNING s.version INTO v_version;
        ELSIF v_expected = 0 THEN
            -- A concurrent creator makes this wait for it and then insert nothing: a conflict,
            -- never a silent merge.
            INSERT INTO ledger.streams (stream_id, category, version)
            VALUES (v_stream, split_part(v_stream, '-', 1), v_counts[i])
            ON CONFLICT (stream_id) DO NOTHING
            RETURNING version INTO v_version;
        ELSE
            UPDATE ledger.streams s SET version = s.version + v_counts[i], updated_at = now()
            WHERE s.stream_id = v_stream AND (v_expected = -2 OR s.version = v_expected)
            RETURNING s.version INTO v_version;
        END IF;
        IF v_version IS NULL THEN
            SELECT s.version INTO v_version FROM ledger.streams s WHERE s.stream_id = v_stream;
            RAISE EXCEPTION 'wrong expected version for stream %', v_stream
                USING ERRCODE = 'GL409',
                      DETAIL = jsonb_build_object('stream', v_stream, 'expected', v_expected, 'actual', coalesce(v_version, 0))::text,
                      HINT = 'Re-read the stream, decide again, and append with the version read.';
        END IF;
        v_versions := v_versions || v_version;
    END LOOP;

    -- 3. The events, in the order given, with contiguous versions; positions are drawn here.
    v_event_versions := array_fill(0::bigint, ARRAY[v_event_count]);
    FOR i IN 1..v_event_count LOOP
        v_event_versions[i] := v_versions[p_event_streams[i]] - v_counts[p_event_streams[i]] + 1;
        v_counts[p_event_streams[i]] := v_counts[p_event_streams[i]] - 1;
    END LOOP;
    WITH inserted AS (
        INSERT INTO ledger.events (stream_id, stream_version, category, event_type, schema_version,
                                   data, metadata, occurred_at)
        SELECT p_streams[e.s], e.v, split_part(p_streams[e.s], '-', 1), e.t, e.sv, e.d, e.m, coalesce(e.o, now())
        FROM unnest(p_event_streams, v_event_versions, p_types, p_schema_versions, p_data, p_metadata, p_occurred_at)
             AS e(s, v, t, sv, d, m, o)
        RETURNING global_position
    )
    SELECT array_agg(global_position ORDER BY global_position) INTO v_positions FROM inserted;

    v_result := jsonb_build_object(
        'commandId', p_command_id, 'streams', to_jsonb(p_streams), 'versions', to_jsonb(v_versions),
        'eventStreams', to_jsonb(p_event_streams), 'eventVersions', to_jsonb(v_event_versions),
        'positions', to_jsonb(v_positions));
    INSERT INTO ledger.commands (command_id, result) VALUES (p_command_id, v_result);
    RETURN v_result || '{"duplicate": false}'::jsonb;
END;
$$;
-- ledger.lock_streams: locks the rows of existing streams (in ascending order) for the rest of
-- the caller's transaction. A writer that lost a race calls it before reading, deciding and
-- appending, so no other append to those streams can slip in between: they wait, then conflict,
-- then queue here in turn. Streams that do not exist yet are skipped (nothing to lock).
CREATE FUNCTION ledger.lock_streams(p_streams text[]) RETURNS void
LANGUAGE sql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT NULL::void FROM (
        SELECT 1 FROM ledger.streams WHERE stream_id = ANY(p_streams) ORDER BY stream_id COLLATE "C" FOR UPDATE
    ) AS locked
$$;

COMMENT ON FUNCTION ledger.append IS 'Appends events to one or more streams atomically, with expected versions and an idempotent command id.';

-- Roles (cluster-wide, so created only if missing). The migrating role needs CREATEROLE.
DO $$
DECLARE r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['gigledger_writer', 'gigledger_projector', 'gigledger_reader'] LOOP
        BEGIN
            EXECUTE format('CREATE ROLE %I NOLOGIN', r);
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL; -- exists already (another database on this server, or a concurrent migration)
        END;
    END LOOP;
END;
$$;

REVOKE ALL ON SCHEMA ledger FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA ledger FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA ledger FROM PUBLIC;
REVOKE ALL ON FUNCTION ledger.append(uuid, text[], bigint[], integer[], text[], integer[], jsonb[], jsonb[], timestamptz[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION ledger.refuse_change() FROM PUBLIC;
REVOKE ALL ON FUNCTION ledger.lock_streams(text[]) FROM PUBLIC;

-- Writer: appends (only through ledger.append) and reads streams to decide commands.
GRANT USAGE ON SCHEMA ledger TO gigledger_writer, gigledger_projector;
GRANT SELECT ON ledger.events, ledger.streams, ledger.commands TO gigledger_writer;
GRANT EXECUTE ON FUNCTION ledger.append(uuid, text[], bigint[], integer[], text[], integer[], jsonb[], jsonb[], timestamptz[]) TO gigledger_writer;
GRANT EXECUTE ON FUNCTION ledger.lock_streams(text[]) TO gigledger_writer;
-- Projector: reads the log, keeps its checkpoints (read-model grants come with the read schema).
GRANT SELECT ON ledger.events, ledger.streams TO gigledger_projector;
GRANT SELECT, INSERT, UPDATE ON ledger.subscription_checkpoints TO gigledger_projector;
