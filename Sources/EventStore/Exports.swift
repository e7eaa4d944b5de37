// The shared vocabulary (`JSONValue`, `ErrorClassification`) is part of this module's API: its
// errors are classified with it and its callers pass JSON values. Re-exported so that a client
// imports EventStore alone, as before the vocabulary moved to a module of its own.
@_exported import LedgerBasics
