import Foundation
import Logging
import PQ
import Synchronization

/// Many followers of the log in one process, one reader: the HTTP event stream's fan-out.
///
/// ``EventStore/follow(after:filter:batchSize:mode:fallbackPoll:idleAfter:)`` gives each follower a
/// listening session of its own and its own reads, which is right for one follower and wrong for
/// a hundred at the head of the log: a hundred `LISTEN` sessions woken by every append, a hundred
/// gap-safe reads of the same new events. A broadcast follows the log **once** (``run()``), keeps
/// the latest events in a window of bounded size, and serves its followers
/// (``follow(after:filter:batchSize:idleAfter:)``) from that window:
///
/// - The window holds every event after its ``base`` up to its head, in gap-safe order, with none
///   missing: it is filled only by one gap-safe follow. So a follower whose checkpoint is at or
///   after the base gets exactly the window's events after its checkpoint — the same events, in
///   the same order, as its own follow would read.
/// - A follower behind the base (it starts at the beginning of the log, or resumes from an old
///   `Last-Event-ID`, or fell out of the window because it is slow) reads the database itself,
///   gap-safe as ever, until it reaches the window. So a slow follower costs reads, never memory:
///   the window is the only memory, and it has a fixed number of events.
/// - The base starts at the **gap-safe horizon** (every transaction older than the oldest one
///   still open is over, so no event at or before it can still appear) and moves up as the window
///   drops its oldest events.
///
/// Followers wait on a signal the broadcast raises after each batch it adds and at least every
/// `tick` (its reader returns an empty batch when idle), and check their own `idleAfter` then: a
/// heartbeat needs no timer per follower. If the reader fails (the database is gone), it logs,
/// raises the signal, and starts again after a second from where it was; its followers behind the
/// window keep reading the database themselves meanwhile, the others wait.
///
/// Run it for as long as followers may ask (`gigledger serve` runs it as a service); cancelling
/// ``run()`` ends it. Its followers end when their own task is cancelled.
public final class LogBroadcast: Sendable {
    /// The store it follows.
    public let store: EventStore
    /// The fewest of the latest events the window keeps (it holds up to twice as many between
    /// two trims).
    public let window: Int
    /// The most events one read of the shared reader takes.
    public let batchSize: Int
    /// The longest time between two signals to followers.
    public let tick: Duration
    let logger: Logger
    let state = Mutex(State())

    struct State {
        /// The window: events after `base`, in gap-safe order.
        var events: [StoredEvent] = []
        /// Every event up to here is either dropped from the window or was there before the
        /// broadcast started; `nil` until the reader has found the horizon.
        var base: LogCheckpoint?
        /// The reader's checkpoint: just after the window's last event.
        var head: LogCheckpoint?
        /// The followers' signals, by follower.
        var waiters: [Int: AsyncStream<Void>.Continuation] = [:]
        var nextWaiter = 0
    }

    /// A broadcast of `store`'s log keeping at least the latest `window` events (at least 1).
    public init(
        store: EventStore, window: Int = 10_000, batchSize: Int = 1_000, tick: Duration = .seconds(1),
        logger: Logger? = nil
    ) {
        self.store = store
        self.window = max(1, window)
        self.batchSize = max(1, batchSize)
        self.tick = tick
        self.logger = logger ?? store.logger
    }

    /// How many followers wait on it now (say, the open HTTP event streams).
    public var followers: Int { state.withLock { $0.waiters.count } }

    /// Follows the log and fills the window until the task is cancelled; a failure is logged and
    /// the reader starts again from where it was after a second.
    public func run() async {
        while !Task.isCancelled {
            do {
                let from: LogCheckpoint
                if let head = state.withLock({ $0.head }) {
                    from = head
                } else {
                    let horizon = try await store.gapSafeHorizon()
                    state.withLock {
                        $0.base = horizon
                        $0.head = horizon
                    }
                    from = horizon
                }
                for try await batch in store.follow(after: from, batchSize: batchSize, idleAfter: tick) {
                    publish(batch)
                }
            } catch {
                logger.warning(
                    "the log broadcast's reader failed; it starts again in a second",
                    metadata: ["error": "\(error)"])
                signal()
                try? await Task.sleep(for: .seconds(1))
            }
        }
        signal()
    }

    /// Adds a batch to the window (dropping its oldest events beyond ``window``) and wakes the
    /// followers.
    func publish(_ batch: LogBatch<StoredEvent>) {
        state.withLock { state in
            state.events.append(contentsOf: batch.events)
            state.head = batch.next
            // Trimmed to `window` once it holds twice that: one move of the array per `window`
            // events rather than one per batch.
            if state.events.count > 2 * window {
                let excess = state.events.count - window
                state.base = state.events[excess - 1].checkpoint
                state.events.removeFirst(excess)
            }
            for waiter in state.waiters.values { waiter.yield() }
        }
    }

    func signal() {
        state.withLock { state in
            for waiter in state.waiters.values { waiter.yield() }
        }
    }

    /// The first event of the window after `checkpoint` (ours for a checkpoint at or after the
    /// base), or where the follower must go instead.
    enum Look {
        /// Events after the checkpoint, those of the filter (perhaps none), and the checkpoint
        /// just after the last event looked at.
        case events([StoredEvent], next: LogCheckpoint)
        /// Nothing after the checkpoint yet.
        case waiting
        /// The checkpoint is before the window: read the database (the base, if known, is where
        /// the window starts).
        case behind(base: LogCheckpoint?)
    }

    func look(after checkpoint: LogCheckpoint, filter: LogFilter, limit: Int) -> Look {
        state.withLock { state in
            guard let base = state.base, checkpoint >= base else { return .behind(base: state.base) }
            let events = state.events
            // The first event after the checkpoint: binary search of the ordered window.
            var low = 0
            var high = events.count
            while low < high {
                let middle = (low + high) / 2
                if events[middle].checkpoint > checkpoint { high = middle } else { low = middle + 1 }
            }
            guard low < events.count else { return .waiting }
            var found: [StoredEvent] = []
            var index = low
            // Looks at most a few batches' worth under the lock; the follower comes back for more.
            let end = min(events.count, low + 4 * limit)
            while index < end && found.count < limit {
                if filter.matches(events[index]) { found.append(events[index]) }
                index += 1
            }
            return .events(found, next: events[index - 1].checkpoint)
        }
    }

    func subscribe() -> (id: Int, signals: AsyncStream<Void>) {
        let (signals, continuation) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let id = state.withLock { state in
            let id = state.nextWaiter
            state.nextWaiter += 1
            state.waiters[id] = continuation
            return id
        }
        return (id, signals)
    }

    func unsubscribe(_ id: Int) {
        let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
        waiter?.finish()
    }

    /// The log after `checkpoint` as batches of `filter`'s events, served from the window when
    /// the checkpoint is in it and read from the database until it is: the same events, in the
    /// same order, as ``EventStore/follow(after:filter:batchSize:mode:fallbackPoll:idleAfter:)``
    /// live. With `idleAfter`, a batch with no events comes whenever that long (to within
    /// ``tick``) has passed without one. Ends (returns `nil`) when the consuming task is cancelled.
    public func follow(
        after checkpoint: LogCheckpoint = .start, filter: LogFilter = .all, batchSize: Int = 500,
        idleAfter: Duration? = nil
    ) -> Follow {
        Follow(
            broadcast: self, checkpoint: checkpoint, filter: filter, batchSize: max(1, batchSize), idleAfter: idleAfter)
    }

    /// A follower of a ``LogBroadcast`` (see ``LogBroadcast/follow(after:filter:batchSize:idleAfter:)``).
    public struct Follow: AsyncSequence, Sendable {
        public typealias Element = LogBatch<StoredEvent>
        let broadcast: LogBroadcast
        let checkpoint: LogCheckpoint
        let filter: LogFilter
        let batchSize: Int
        let idleAfter: Duration?

        public func makeAsyncIterator() -> Iterator { Iterator(follow: self, cursor: checkpoint) }

        public struct Iterator: AsyncIteratorProtocol {
            let follow: Follow
            var cursor: LogCheckpoint
            var subscription: Subscription?
            var signals: AsyncStream<Void>.Iterator?
            var lastReturned = ContinuousClock.now

            init(follow: Follow, cursor: LogCheckpoint) {
                self.follow = follow
                self.cursor = cursor
            }

            /// The next batch after the last one returned (or after the starting checkpoint).
            public mutating func next() async throws -> LogBatch<StoredEvent>? {
                let broadcast = follow.broadcast
                if subscription == nil {
                    // Subscribe before the first look, so no batch published after it goes unseen.
                    let (id, stream) = broadcast.subscribe()
                    subscription = Subscription(broadcast: broadcast, id: id)
                    signals = stream.makeAsyncIterator()
                }
                while !Task.isCancelled {
                    switch broadcast.look(after: cursor, filter: follow.filter, limit: follow.batchSize) {
                    case .events(let events, let next):
                        cursor = next
                        if !events.isEmpty { return batch(events) }
                        continue
                    case .behind(let base):
                        let events: [StoredEvent]
                        do {
                            events = try await broadcast.store.readStored(
                                after: cursor, filter: follow.filter, limit: follow.batchSize)
                        } catch {
                            if Task.isCancelled { return nil }
                            throw EventStore.mapReadError(error)
                        }
                        if let last = events.last {
                            cursor = last.checkpoint
                            return batch(events)
                        }
                        // Nothing of the filter is readable after the checkpoint, and every
                        // event up to the base was readable before this read began (the reader
                        // passed it gap-safe): none of the filter lies between them.
                        if let base, cursor < base {
                            cursor = base
                            continue
                        }
                    case .waiting:
                        break
                    }
                    if let idleAfter = follow.idleAfter, lastReturned.duration(to: .now) >= idleAfter {
                        lastReturned = .now
                        return LogBatch(events: [], next: cursor)
                    }
                    guard await signals?.next() != nil else { break }
                }
                subscription = nil
                return nil
            }

            private mutating func batch(_ events: [StoredEvent]) -> LogBatch<StoredEvent> {
                lastReturned = .now
                return LogBatch(events: events, next: cursor)
            }
        }
    }

    /// A follower's place among the waiters, given up when the iterator is dropped.
    final class Subscription: Sendable {
        let broadcast: LogBroadcast
        let id: Int
        init(broadcast: LogBroadcast, id: Int) {
            self.broadcast = broadcast
            self.id = id
        }
        deinit { broadcast.unsubscribe(id) }
    }
}

extension LogFilter {
    /// Whether `event` is one of the filter's (the condition ``append(to:)`` puts in SQL).
    func matches(_ event: StoredEvent) -> Bool {
        if let types, !types.contains(event.type) { return false }
        if let categories {
            let category = event.stream.prefix { $0 != "-" }
            return categories.contains { $0 == category }
        }
        return true
    }
}

extension EventStore {
    /// The gap-safe horizon: just before the oldest transaction still open anywhere on the
    /// server. Every event at or before it is committed and readable (no transaction that could
    /// still add one is open), so following from it misses nothing that commits later.
    public func gapSafeHorizon() async throws(EventStoreError) -> LogCheckpoint {
        let xmin = try await run {
            try await $0.query("SELECT pg_snapshot_xmin(pg_current_snapshot())").scalar(UInt64.self)
        }
        return LogCheckpoint(transactionID: xmin - 1, position: .max)
    }
}
