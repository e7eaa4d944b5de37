-- 0007_read_contract: what the read contract (sql/READ_MODELS.md, docs/JSON.md) needs of the schema.
--
-- read_models.projection_checkpoints   each projector's checkpoint, readable by gigledger_reader
--                                      (ledger.projections is not), so every query result can say
--                                      which position of the log it reflects, read in the same
--                                      snapshot as its rows; a primary-key lookup, unlike
--                                      projection_status, which counts the lag.
--
-- One timestamp type: `week_start` was `timestamp` in price_weeks_v1 and `timestamptz` in
-- competition_skill_weeks_v1. The price views (owned by the price_trends projector, which
-- creates them) now say `timestamptz`, round percentiles to 1 decimal, and serve a trend row for
-- every (skill, currency) with prices; a view's column types cannot change in place, so the old
-- views are dropped here, in read_models and in any build schema, and the projector creates the
-- new ones when it next starts (`gigctl projections run`, or the daemon's start).

CREATE VIEW read_models.projection_checkpoints AS
SELECT p.name, p.version, p.global_position AS checkpoint_position, p.state
FROM ledger.projections p;
COMMENT ON VIEW read_models.projection_checkpoints IS 'Per projector and version: the global position of the last event applied, and its state.';
GRANT SELECT ON read_models.projection_checkpoints TO gigledger_reader, gigledger_projector;

DO $$
DECLARE
    s name;
BEGIN
    FOR s IN SELECT nspname FROM pg_namespace WHERE nspname = 'read_models' OR nspname LIKE 'gigledger\_build\_%' LOOP
        EXECUTE format('DROP VIEW IF EXISTS %I.price_trends_v1', s);
        EXECUTE format('DROP VIEW IF EXISTS %I.rate_guidance_v1', s);
        EXECUTE format('DROP VIEW IF EXISTS %I.price_weeks_v1', s);
    END LOOP;
END
$$;
