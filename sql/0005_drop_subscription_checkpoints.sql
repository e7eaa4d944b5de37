-- 0005: retire ledger.subscription_checkpoints.
--
-- The table kept the checkpoints of EventStore.Subscription, which nothing outside its own tests
-- used. The log is now followed through one primitive (EventStore.follow / LogListener) whose
-- consumers own their checkpoints: the projection engine keeps them in ledger.projections,
-- moved in each batch's transaction; gigctl log tail and the HTTP event stream keep them in
-- memory or in the client's Last-Event-ID. Dropping the table drops its primary key, its comment
-- and the privileges granted on it to gigledger_projector.
--
-- Upgrade note: a deployment that stored checkpoints here through Subscription (none shipped)
-- must copy them out before migrating.

DROP TABLE ledger.subscription_checkpoints;
