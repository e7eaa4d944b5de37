-- 0004_projection_skips: an operator's decision that a projector skips one event it cannot handle.
--
-- The log is immutable, so an event no projector version can handle (malformed, or of a type the
-- read model should never have seen) is resolved by deciding, on the record, that this
-- projector skips it. Live runs, rebuilds, verifications and replays all honour the decision, so
-- a rebuild still equals the live tables. Recorded with who decided and why; never edited.

CREATE TABLE ledger.projection_skips (
    name            text        NOT NULL,
    version         integer     NOT NULL,
    global_position bigint      NOT NULL,
    reason          text        NOT NULL,
    skipped_by      text        NOT NULL DEFAULT current_user,
    skipped_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT projection_skips_pkey PRIMARY KEY (name, version, global_position),
    CONSTRAINT projection_skips_reason_given CHECK (length(btrim(reason)) > 0)
);
COMMENT ON TABLE ledger.projection_skips IS
    'Events a projector skips by an operator''s recorded decision (gigctl projections skip).';

CREATE TRIGGER projection_skips_append_only BEFORE UPDATE OR DELETE ON ledger.projection_skips
    FOR EACH ROW EXECUTE FUNCTION ledger.refuse_change();

REVOKE ALL ON ledger.projection_skips FROM PUBLIC;
GRANT SELECT ON ledger.projection_skips TO gigledger_projector;
