-- No checkpoint ahead of (or behind) its data: for each shipped projector, the rows of its read
-- model equal the number of events at or before its checkpoint (transaction_id, global_position)
-- in ledger.projections, and each projector's events_applied equals the events at or before its
-- checkpoint (no batch applied twice). Prints one line per mismatch (projector|table|rows|events); no output
-- means every read model matches its checkpoint exactly. Batch and checkpoint commit together,
-- so this holds after any crash, even while writers append (later events sort after the
-- checkpoint in gap-safe order). Used by scripts/chaos and ReliabilityTests.
\set ON_ERROR_STOP 1
BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
WITH cp AS (  -- each projector's newest version
    SELECT DISTINCT ON (name) name, transaction_id, global_position FROM ledger.projections ORDER BY name, version DESC
), upto AS (
    SELECT cp.name, e.event_type, count(*) AS n
    FROM cp JOIN ledger.events e ON (e.transaction_id, e.global_position) <= (cp.transaction_id, cp.global_position)
    WHERE e.event_type IN ('GigPosted', 'BidPlaced', 'FreelancerRegistered')
    GROUP BY 1, 2
), expected AS (
    SELECT cp.name, t.event_type, coalesce(u.n, 0) AS n
    FROM cp CROSS JOIN (VALUES ('GigPosted'), ('BidPlaced'), ('FreelancerRegistered')) t(event_type)
    LEFT JOIN upto u ON u.name = cp.name AND u.event_type = t.event_type
), checks(projector, tbl, actual, event_type) AS (
    VALUES
    ('competition_gigs', 'competition_gigs_v1', (SELECT count(*) FROM read_models.competition_gigs_v1), 'GigPosted'),
    ('competition_gigs', 'competition_bids_v1', (SELECT count(*) FROM read_models.competition_bids_v1), 'BidPlaced'),
    ('competition_skills', 'competition_freelancer_skills_v1 (freelancers)',
        (SELECT count(DISTINCT freelancer_id) FROM read_models.competition_freelancer_skills_v1), 'FreelancerRegistered'),
    ('price_trends', 'price_observations_v1 (budget gigs)',
        (SELECT count(DISTINCT gig_id) FROM read_models.price_observations_v1 WHERE series = 'budget'), 'GigPosted'),
    ('price_trends', 'price_observations_v1 (bids)',
        (SELECT count(DISTINCT bid_id) FROM read_models.price_observations_v1 WHERE series = 'bid'), 'BidPlaced'),
    ('matching', 'match_freelancers_v4', (SELECT count(*) FROM read_models.match_freelancers_v4), 'FreelancerRegistered'),
    ('matching', 'match_gigs_v4', (SELECT count(*) FROM read_models.match_gigs_v4), 'GigPosted')
)
SELECT c.projector || '|' || c.tbl || '|' || c.actual || '|' || coalesce(x.n, -1)
FROM checks c LEFT JOIN expected x ON x.name = c.projector AND x.event_type = c.event_type
WHERE x.n IS DISTINCT FROM c.actual
UNION ALL
-- Every batch counted once: a batch applied twice (two instances, or a retry after a crash)
-- would make events_applied exceed the events at or before the checkpoint.
SELECT p.name || '|events_applied|' || p.events_applied || '|' || n.events
FROM (SELECT DISTINCT ON (name) name, transaction_id, global_position, events_applied
      FROM ledger.projections ORDER BY name, version DESC) p
CROSS JOIN LATERAL (SELECT count(*) AS events FROM ledger.events e
                    WHERE (e.transaction_id, e.global_position) <= (p.transaction_id, p.global_position)) n
WHERE p.events_applied <> n.events;
COMMIT;
