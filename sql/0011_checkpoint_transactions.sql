-- 0011: read_models.projection_checkpoints also gives each checkpoint's transaction id.
--
-- A checkpoint is a (transaction id, position) pair: the log's gap-safe order. With the pair in
-- the view, one query reads projector checkpoints for everyone: query results (the position they
-- reflect, read in the same snapshot as their rows) and readers waiting for their own write
-- (the HTTP service's minPosition compares pairs), as gigledger_reader, which cannot read
-- ledger.projections. A column added at the end: the view keeps its grants and its readers.

CREATE OR REPLACE VIEW read_models.projection_checkpoints AS
SELECT p.name, p.version, p.global_position AS checkpoint_position, p.state, p.transaction_id
FROM ledger.projections p;
COMMENT ON VIEW read_models.projection_checkpoints IS 'Per projector and version: the global position of the last event applied, its state, and the transaction id of that event (the checkpoint is the pair).';
