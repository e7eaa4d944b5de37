-- 0012_partitioned_log: ledger.events partitioned by position range, partitions made ahead of
-- need, and the bookkeeping archival needs.
--
-- ledger.events              now PARTITION BY RANGE (global_position). The table as it was is
--                            renamed ledger.events_1 and attached as the first partition (no row
--                            is copied: the attach uses a CHECK added first instead of a second
--                            scan under the lock); an empty one is dropped.
-- ledger.event_partitioning  the settings: positions per new partition, partitions kept ahead.
-- ledger.event_partitions    one row per partition ever made: its range and, once archived, when,
--                            how many events and the SHA-256 of the archive file.
-- ledger.attach_event_partition() attaches a table for a range, with the index and trigger
--                            every partition carries (ledger.guard_event_partition).
-- ledger.prepare_partitions() makes partitions until `partitions_ahead` lie wholly above the
--                            head. Run by the migration, `gigctl log partitions prepare`, the
--                            projection daemon at start and hourly, and the nightly job.
--
-- Versions stay unique per stream without a unique constraint across partitions (a partitioned
-- table can only enforce uniqueness on columns that include the partition key): ledger.append
-- draws versions only from the stream's row in ledger.streams (unpartitioned, primary key
-- stream_id), with that row locked to commit, so two appends to one stream serialise and the
-- second continues from the first; no role but the owner can write ledger.events otherwise. Each
-- partition also has a unique index on (stream_id, stream_version): the second line of defence
-- inside a partition, and the index the stream-order read path uses.
--
-- Immutability: the row triggers refusing UPDATE and DELETE are on the parent, and PostgreSQL
-- clones them to every partition, present and future. A TRUNCATE trigger is not cloned, so each
-- partition gets its own (ledger.guard_event_partition, run for every partition attached).
-- DETACH PARTITION is not a change to a row and fires no trigger: only the owner can run it, and
-- that is archival.
--
-- Why not pg_partman: CREATE EXTENSION pg_partman needs a superuser and the package on every
-- server the migration runs on, its background worker needs shared_preload_libraries and a
-- restart, and what the log needs beyond "create the next range" (a unique index and a TRUNCATE
-- trigger per partition, the archive's checksum) it would not do. What is left is the loop below.
--
-- Upgrade note: the migration takes an ACCESS EXCLUSIVE lock on ledger.events for one CHECK scan
-- of the existing rows (seconds per ten million events); writers and readers wait, then resume.

LOCK TABLE ledger.events IN ACCESS EXCLUSIVE MODE;

CREATE TABLE ledger.event_partitioning (
    singleton        boolean NOT NULL DEFAULT true,
    partition_size   bigint  NOT NULL DEFAULT 10000000,
    partitions_ahead integer NOT NULL DEFAULT 4,
    CONSTRAINT event_partitioning_pkey PRIMARY KEY (singleton),
    CONSTRAINT event_partitioning_singleton CHECK (singleton),
    CONSTRAINT event_partitioning_size_positive CHECK (partition_size >= 1),
    CONSTRAINT event_partitioning_ahead_positive CHECK (partitions_ahead >= 1)
);
COMMENT ON TABLE ledger.event_partitioning IS 'How ledger.prepare_partitions() makes partitions of ledger.events: positions per partition, partitions kept ahead of the head.';
INSERT INTO ledger.event_partitioning DEFAULT VALUES;

CREATE TABLE ledger.event_partitions (
    partition_name  text        NOT NULL,
    first_position  bigint      NOT NULL,
    end_position    bigint      NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    archived_at     timestamptz,
    archive_events  bigint,
    archive_sha256  text,
    CONSTRAINT event_partitions_pkey PRIMARY KEY (partition_name),
    CONSTRAINT event_partitions_range CHECK (first_position < end_position),
    CONSTRAINT event_partitions_archive_complete CHECK (
        (archived_at IS NULL) = (archive_events IS NULL) AND (archived_at IS NULL) = (archive_sha256 IS NULL))
);
COMMENT ON TABLE ledger.event_partitions IS 'Every partition of ledger.events ever made: positions [first_position, end_position); once archived, when, how many events and the SHA-256 of the archive file.';

-- The unique index and the TRUNCATE trigger every partition carries.
CREATE FUNCTION ledger.guard_event_partition(p_partition text) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format('CREATE UNIQUE INDEX %I ON ledger.%I (stream_id, stream_version)',
                   p_partition || '_stream_version_key', p_partition);
    EXECUTE format('CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON ledger.%I '
                   'FOR EACH STATEMENT EXECUTE FUNCTION ledger.refuse_change()', p_partition);
END;
$$;

-- ledger.attach_event_partition: attaches the table ledger.<p_partition> (made LIKE
-- ledger.events) for positions [p_first, p_end), then guards it. A CHECK of the range is added
-- first, so ATTACH (SHARE UPDATE EXCLUSIVE on ledger.events: writers and readers go on) skips its
-- own scan, which would run under the lock. Used for new partitions and for archives restored for
-- a rebuild.
CREATE FUNCTION ledger.attach_event_partition(p_partition text, p_first bigint, p_end bigint) RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    EXECUTE format('ALTER TABLE ledger.%I ADD CONSTRAINT %I CHECK (global_position >= %s AND global_position < %s)',
                   p_partition, p_partition || '_range', p_first, p_end);
    EXECUTE format('ALTER TABLE ledger.events ATTACH PARTITION ledger.%I FOR VALUES FROM (%s) TO (%s)',
                   p_partition, p_first, p_end);
    EXECUTE format('ALTER TABLE ledger.%I DROP CONSTRAINT %I', p_partition, p_partition || '_range');
    PERFORM ledger.guard_event_partition(p_partition);
END;
$$;

-- The table as it was becomes the first partition, under names that leave the parent's free.
ALTER TABLE ledger.events RENAME TO events_1;
ALTER TABLE ledger.events_1 RENAME CONSTRAINT events_pkey TO events_1_pkey;
ALTER TABLE ledger.events_1 RENAME CONSTRAINT events_stream_version_key TO events_1_stream_version_key;
ALTER INDEX ledger.events_log_order_idx RENAME TO events_1_log_order_idx;
-- The parent's row triggers are cloned onto it when attached.
DROP TRIGGER events_append_only ON ledger.events_1;

CREATE TABLE ledger.events (LIKE ledger.events_1 INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING COMMENTS)
    PARTITION BY RANGE (global_position);
ALTER TABLE ledger.events ADD CONSTRAINT events_pkey PRIMARY KEY (global_position);
CREATE INDEX events_log_order_idx ON ledger.events (transaction_id, global_position);
ALTER SEQUENCE ledger.events_position_seq OWNED BY ledger.events.global_position;
COMMENT ON TABLE ledger.events IS 'Every event, in stream order (stream_id, stream_version) and log order (transaction_id, global_position); partitioned by position range (ledger.event_partitions).';

CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON ledger.events
    FOR EACH ROW EXECUTE FUNCTION ledger.refuse_change();
CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON ledger.events
    FOR EACH STATEMENT EXECUTE FUNCTION ledger.refuse_change();

-- The view bound to the old table's OID follows the rename; bind it to the parent again.
CREATE OR REPLACE VIEW read_models.projection_status AS
SELECT p.name, p.version, p.state, p.global_position AS checkpoint_position,
       h.head_position,
       (SELECT count(*) FROM ledger.events e
        WHERE (e.transaction_id, e.global_position) > (p.transaction_id, p.global_position)) AS lag_events,
       coalesce(extract(epoch FROM (
           SELECT now() - min(e.recorded_at) FROM ledger.events e
           WHERE (e.transaction_id, e.global_position) > (p.transaction_id, p.global_position))), 0)::float8 AS lag_seconds,
       p.last_error, p.error_position, p.error_stream, p.error_type, p.events_applied,
       p.lease_owner, p.lease_until, p.updated_at
FROM ledger.projections p
CROSS JOIN (SELECT coalesce(max(global_position), 0) AS head_position FROM ledger.events) h;

DO $$
DECLARE
    v_end bigint;
BEGIN
    -- Above every stored event and every position drawn (a rolled-back append leaves a gap).
    SELECT greatest(coalesce((SELECT max(global_position) FROM ledger.events_1), 0),
                    CASE WHEN s.is_called THEN s.last_value ELSE 0 END) + 1
    INTO v_end FROM ledger.events_position_seq s;
    IF v_end = 1 THEN
        DROP TABLE ledger.events_1;
    ELSE
        EXECUTE format('ALTER TABLE ledger.events_1 ADD CONSTRAINT events_1_range CHECK (global_position >= 1 AND global_position < %s)', v_end);
        EXECUTE format('ALTER TABLE ledger.events ATTACH PARTITION ledger.events_1 FOR VALUES FROM (1) TO (%s)', v_end);
        ALTER TABLE ledger.events_1 DROP CONSTRAINT events_1_range;
        INSERT INTO ledger.event_partitions (partition_name, first_position, end_position) VALUES ('events_1', 1, v_end);
    END IF;
END;
$$;

-- ledger.prepare_partitions: makes partitions, each of partition_size positions after the last
-- one ever made, until partitions_ahead of them lie wholly above the head (the last position
-- drawn). Each is made as a table of its own and then attached, which takes only a SHARE UPDATE
-- EXCLUSIVE lock on ledger.events: writers and readers go on. Concurrent runs queue on the
-- settings row. Returns the names of the partitions made. SECURITY DEFINER, so the projection
-- daemon's role can run it: it makes empty ranges and nothing else.
CREATE FUNCTION ledger.prepare_partitions() RETURNS SETOF text
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_size  bigint;
    v_ahead integer;
    v_head  bigint;
    v_end   bigint;
    v_have  integer;
    v_name  text;
BEGIN
    SELECT partition_size, partitions_ahead INTO v_size, v_ahead FROM ledger.event_partitioning FOR UPDATE;
    SELECT CASE WHEN s.is_called THEN s.last_value ELSE 0 END INTO v_head FROM ledger.events_position_seq s;
    SELECT coalesce(max(end_position), 1) INTO v_end FROM ledger.event_partitions;
    SELECT count(*) INTO v_have FROM ledger.event_partitions WHERE first_position > v_head;
    WHILE v_have < v_ahead OR v_end <= v_head LOOP
        v_name := 'events_' || v_end;
        EXECUTE format('CREATE TABLE ledger.%I (LIKE ledger.events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', v_name);
        PERFORM ledger.attach_event_partition(v_name, v_end, v_end + v_size);
        INSERT INTO ledger.event_partitions (partition_name, first_position, end_position)
        VALUES (v_name, v_end, v_end + v_size);
        IF v_end > v_head THEN
            v_have := v_have + 1;
        END IF;
        v_end := v_end + v_size;
        RETURN NEXT v_name;
    END LOOP;
END;
$$;
COMMENT ON FUNCTION ledger.prepare_partitions IS 'Makes partitions of ledger.events until partitions_ahead of them lie wholly above the head; returns their names.';

SELECT count(*) FROM ledger.prepare_partitions();

REVOKE ALL ON ledger.events, ledger.event_partitioning, ledger.event_partitions FROM PUBLIC;
REVOKE ALL ON FUNCTION ledger.prepare_partitions() FROM PUBLIC;
REVOKE ALL ON FUNCTION ledger.guard_event_partition(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION ledger.attach_event_partition(text, bigint, bigint) FROM PUBLIC;
GRANT SELECT ON ledger.events TO gigledger_writer, gigledger_projector;
GRANT SELECT ON ledger.event_partitions TO gigledger_projector;
GRANT EXECUTE ON FUNCTION ledger.prepare_partitions() TO gigledger_projector;
