-- 0003_projection_builds: rebuilds and verifications of projections, built beside the live tables.
--
-- A rebuild builds a projector's tables from position 0 into a shadow schema while the live tables
-- keep serving, then swaps them in in one transaction. A verification builds them into a scratch
-- schema and compares. Each build keeps its own checkpoint here, in the same transaction as its
-- batch, so an interrupted build resumes where it stopped (or is abandoned, dropping its schema).

CREATE TABLE ledger.projection_builds (
    name            text        NOT NULL,
    version         integer     NOT NULL,
    purpose         text        NOT NULL,
    schema_name     text        NOT NULL,
    transaction_id  xid8        NOT NULL DEFAULT '0',
    global_position bigint      NOT NULL DEFAULT 0,
    events_applied  bigint      NOT NULL DEFAULT 0,
    owner           text,
    started_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT projection_builds_pkey PRIMARY KEY (name, version, purpose),
    CONSTRAINT projection_builds_schema_key UNIQUE (schema_name),
    CONSTRAINT projection_builds_purpose_known CHECK (purpose IN ('rebuild', 'verify')),
    CONSTRAINT projection_builds_schema_prefixed CHECK (schema_name LIKE 'gigledger\_build\_%')
);
COMMENT ON TABLE ledger.projection_builds IS
    'Rebuilds and verifications in progress: the schema each builds into and its checkpoint.';

REVOKE ALL ON ledger.projection_builds FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON ledger.projection_builds TO gigledger_projector;

-- Projectors create (and drop) their build schemas.
DO $$
BEGIN
    EXECUTE format('GRANT CREATE ON DATABASE %I TO gigledger_projector', current_database());
END;
$$;
