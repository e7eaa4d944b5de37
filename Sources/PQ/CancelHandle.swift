internal import CLibPQ
import Foundation

/// Sends a cancel request for the statement a connection is running, from any thread.
///
/// `@unchecked Sendable` is sound: `cancel`, `running`, `generation` and `requested` are only read
/// or written while `lock` is held, and libpq documents `PQcancel` as safe to call from a thread other than the one
/// using the connection. The `PGcancel` object is freed only in `deinit`, when no one can call.
final class CancelHandle: @unchecked Sendable {
    private let lock = NSLock()
    private var cancel: OpaquePointer?
    private var running: UInt64 = 0
    private var generation: UInt64 = 0
    private var requested = false

    init(_ cancel: OpaquePointer?) { self.cancel = cancel }

    deinit { if let cancel { PQfreeCancel(cancel) } }

    /// Marks a statement as running; returns its ticket for ``requestCancel(_:)``.
    func begin() -> UInt64 {
        lock.lock()
        defer { lock.unlock() }
        generation &+= 1
        running = generation
        requested = false
        return generation
    }

    /// Marks the statement as finished; returns whether a cancel was requested for it.
    @discardableResult
    func end() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        running = 0
        return requested
    }

    /// Asks the server to cancel statement `ticket` if it is still the one running. The request
    /// travels on its own short connection, so it runs on a Dispatch thread, never on the
    /// cooperative pool.
    func requestCancel(_ ticket: UInt64) {
        DispatchQueue.global().async { [self] in
            lock.lock()
            defer { lock.unlock() }
            guard running == ticket, let cancel else { return }
            requested = true
            var buffer = [CChar](repeating: 0, count: 256)
            _ = PQcancel(cancel, &buffer, Int32(buffer.count))
        }
    }
}
