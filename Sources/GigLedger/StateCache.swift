import Synchronization

/// Folded aggregate states by stream, so loading a stream reads only the events appended since
/// the cached version (a hot gig with thousands of bids is not re-read whole for every bid), and
/// a stream's next command is decided on the state its last append left, without a read.
/// States are values, so a cached one can never be changed behind the cache's back; an entry
/// behind the log costs one refused append and a read of the events since (``MarketplaceService``).
/// Bounded: when full, the oldest half is dropped.
final class StateCache: Sendable {
    private struct Entry {
        var state: any Sendable
        var version: Int64
        var stamp: UInt64
    }

    private struct Storage {
        var entries: [String: Entry] = [:]
        var clock: UInt64 = 0
        /// Streams that recently lost a race, and until when to go straight to taking turns.
        var hot: [String: ContinuousClock.Instant] = [:]
    }

    private let storage = Mutex(Storage())
    let capacity: Int

    init(capacity: Int) { self.capacity = max(0, capacity) }

    /// Remembers that `stream` is contended, for `duration`.
    func markHot(_ stream: String, for duration: Duration = .seconds(5)) {
        storage.withLock { storage in
            let now = ContinuousClock.now
            if storage.hot.count > 1000 { storage.hot = storage.hot.filter { $0.value > now } }
            storage.hot[stream] = now.advanced(by: duration)
        }
    }

    /// Whether `stream` lost a race recently.
    func isHot(_ stream: String) -> Bool {
        storage.withLock { storage in
            guard let until = storage.hot[stream] else { return false }
            return until > ContinuousClock.now
        }
    }

    /// Forgets every cached state of `stream` (keys end in `/<stream>`): for when the server has
    /// fewer events of it than the cache saw — a restored backup, or commits lost to
    /// `synchronous_commit = off` and a crash. `put` never lowers a version, so without this a
    /// stale entry would make every attempt on the stream conflict.
    func forget(stream: String) {
        storage.withLock { storage in
            storage.entries = storage.entries.filter { !$0.key.hasSuffix("/" + stream) }
        }
    }

    /// Forgets every cached state (after an erasure: the states hold opened personal fields).
    func removeAll() {
        storage.withLock { $0.entries.removeAll() }
    }

    func get<State: Sendable>(_ key: String, as _: State.Type) -> (State, Int64)? {
        storage.withLock { storage in
            guard let entry = storage.entries[key], let state = entry.state as? State else { return nil }
            return (state, entry.version)
        }
    }

    func put<State: Sendable>(_ key: String, _ state: State, version: Int64) {
        guard capacity > 0 else { return }
        storage.withLock { storage in
            if let existing = storage.entries[key], existing.version >= version { return }
            storage.clock &+= 1
            storage.entries[key] = Entry(state: state, version: version, stamp: storage.clock)
            if storage.entries.count > capacity {
                let cutoff = storage.entries.values.map(\.stamp).sorted()[storage.entries.count / 2]
                storage.entries = storage.entries.filter { $0.value.stamp >= cutoff }
            }
        }
    }
}
