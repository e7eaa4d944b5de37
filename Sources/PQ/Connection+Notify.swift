internal import CLibPQ
import Foundation

/// A message sent with `NOTIFY channel, 'payload'` (or `pg_notify`).
public struct Notification: Sendable, Hashable {
    /// The channel it was sent on.
    public let channel: String
    /// The text sent with it (empty when none).
    public let payload: String
    /// The server process that sent it.
    public let senderPID: Int32
}

extension Connection {
    /// Starts receiving notifications on `channel` (`LISTEN`).
    public func listen(_ channel: String) async throws(PQError) {
        try await execute("LISTEN \(identifier: channel)")
    }

    /// Stops receiving notifications on `channel` (`UNLISTEN`).
    public func unlisten(_ channel: String) async throws(PQError) {
        try await execute("UNLISTEN \(identifier: channel)")
    }

    /// Sends `payload` to every session listening on `channel` (delivered when this session's
    /// transaction commits).
    public func notify(_ channel: String, payload: String = "") async throws(PQError) {
        try await execute("SELECT pg_notify(\(channel), \(payload))")
    }

    /// Waits until a notification arrives on a channel this session listens to, or `timeout`
    /// passes (then returns `nil`). Blocks in `poll(2)` on this connection's own thread, so it
    /// costs nothing while idle; a cancelled task stops waiting within 100 ms.
    public func waitForNotification(timeout: Duration) async throws(PQError) -> Notification? {
        let conn = try liveHandle()
        let deadline = ContinuousClock.now.advanced(by: timeout)
        while true {
            if let pending = try takeNotification(conn) { return pending }
            if Task.isCancelled {
                throw PQError(.cancelled, "Stopped waiting for a notification: the task was cancelled.")
            }
            let remaining = ContinuousClock.now.duration(to: deadline)
            if remaining <= .zero { return nil }
            let slice = min(remaining, .milliseconds(100))
            let millis = Int32(
                max(1, slice.components.seconds * 1000 + slice.components.attoseconds / 1_000_000_000_000_000))
            var descriptor = pollfd(fd: PQsocket(conn), events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, millis)
            if ready < 0 && errno != EINTR {
                throw PQError(.connectionLost, "Waiting for notifications failed (poll errno \(errno)).")
            }
            if ready > 0 && PQconsumeInput(conn) == 0 { throw lostOrFailed(query: nil) }
        }
    }

    private func takeNotification(_ conn: OpaquePointer) throws(PQError) -> Notification? {
        if PQconsumeInput(conn) == 0 { throw lostOrFailed(query: nil) }
        guard let raw = PQnotifies(conn) else { return nil }
        defer { PQfreemem(raw) }
        let value = raw.pointee
        return Notification(
            channel: value.relname.map { String(cString: $0) } ?? "",
            payload: value.extra.map { String(cString: $0) } ?? "",
            senderPID: value.be_pid)
    }
}
