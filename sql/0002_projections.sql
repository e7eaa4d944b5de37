-- 0002_projections: where projectors keep their place, and the schema of the read models.
--
-- ledger.projections   one row per projector and version: checkpoint (gap-safe pair), state,
--                      the event that stopped it, and a lease naming the one active instance.
-- read_models          the schema downstream services read (role gigledger_reader).

CREATE TABLE ledger.projections (
    name            text        NOT NULL,
    version         integer     NOT NULL,
    transaction_id  xid8        NOT NULL DEFAULT '0',
    global_position bigint      NOT NULL DEFAULT 0,
    state           text        NOT NULL DEFAULT 'idle',
    last_error      text,
    error_position  bigint,
    error_stream    text,
    error_type      text,
    lease_owner     text,
    lease_until     timestamptz,
    events_applied  bigint      NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT projections_pkey PRIMARY KEY (name, version),
    CONSTRAINT projections_state_known CHECK (state IN ('idle', 'running', 'failed')),
    CONSTRAINT projections_version_positive CHECK (version >= 1)
);
COMMENT ON TABLE ledger.projections IS 'Each projector''s checkpoint, state, last error and lease (one active instance).';

CREATE SCHEMA read_models;
COMMENT ON SCHEMA read_models IS 'GigLedger read models for downstream services (read with gigledger_reader).';

GRANT USAGE ON SCHEMA read_models TO gigledger_reader, gigledger_projector;
GRANT CREATE ON SCHEMA read_models TO gigledger_projector;
-- Read-model tables are created by whoever runs the projectors: the migrating role (locally) or
-- gigledger_projector (in production). Either way readers may read them and projectors write them.
ALTER DEFAULT PRIVILEGES IN SCHEMA read_models GRANT SELECT ON TABLES TO gigledger_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA read_models GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO gigledger_projector;
ALTER DEFAULT PRIVILEGES FOR ROLE gigledger_projector IN SCHEMA read_models GRANT SELECT ON TABLES TO gigledger_reader;
REVOKE ALL ON ledger.projections FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON ledger.projections TO gigledger_projector;

-- What each projector has done and how far behind the log it is.
CREATE VIEW read_models.projection_status AS
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
COMMENT ON VIEW read_models.projection_status IS 'Per projector: checkpoint, head of the log, lag in events and seconds, state, last error.';
GRANT SELECT ON read_models.projection_status TO gigledger_reader, gigledger_projector;
