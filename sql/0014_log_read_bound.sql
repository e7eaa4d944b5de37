-- 0014: the roles that read the log may read its position sequence's last value.
--
-- The gap-safe read (EventStore.readStored) bounds its positions from above by
-- (SELECT last_value FROM ledger.events_position_seq): no event can lie above the last position
-- drawn, so the bound drops nothing, and being an init plan it is known when the executor starts,
-- where PostgreSQL prunes the partitions made ahead of the head (sql/0012) from the Merge Append
-- ("Subplans Removed"): without it every gap-safe read opened every partition's index, the empty
-- ones too. SELECT on a sequence reads it (last_value, currval); it does not draw from it
-- (nextval needs USAGE or UPDATE, which ledger.append keeps).

GRANT SELECT ON SEQUENCE ledger.events_position_seq TO gigledger_writer, gigledger_projector;
