extension Connection {
    /// Whether the server is a standby replaying a primary's WAL (`pg_is_in_recovery()`): it
    /// then refuses writes and `LISTEN`, and a `NOTIFY` on the primary never reaches it, so a
    /// reader there that waits for news polls instead.
    public func isInRecovery() async throws(PQError) -> Bool {
        try await query("SELECT pg_is_in_recovery()").first?.decode(Bool.self, at: 0) ?? false
    }
}
