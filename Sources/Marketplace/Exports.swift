// The shared vocabulary (`JSONValue`, for upcasters) is part of this module's API; re-exported so
// that a client of the domain imports Marketplace alone. LedgerBasics is Foundation-only values,
// with no I/O, so the domain still depends on nothing that does I/O.
@_exported import LedgerBasics
