import PQ

/// The log after a checkpoint, as an asynchronous sequence of gap-safe batches: catch-up first,
/// then (``Mode/live``) new events as they are appended, until the task is cancelled.
///
/// Made by ``EventStore/follow(after:filter:batchSize:mode:fallbackPoll:)``. Each batch carries
/// ``LogBatch/next``, the checkpoint just after it; the consumer owns that checkpoint (keeps it in
/// memory, stores it with its effects, or hands it to a client as ``LogCheckpoint/token``), and
/// following again from it continues with the next event: none is skipped, none repeated, even
/// when transactions commit out of position order (see ``EventStore/readAll(after:limit:categories:types:)``).
/// Every event's own ``StoredEvent/checkpoint`` is a resume point too (the batch's `next` is its
/// last event's), so a stream that sends events one by one can label each with its token (an
/// HTTP `id:` line, answered by `Last-Event-ID`) and resume after any of them.
///
/// Live, it sleeps on ``LogListener`` between batches: woken by the append's `NOTIFY`, looking
/// again by itself while events are held back by an older open transaction, and at least every
/// fallback poll. Cancelling the consuming task ends the sequence promptly (`next()` returns
/// `nil`); a database failure is thrown as ``EventStoreError``. With an `idleAfter` duration it
/// also returns a batch with no events (``LogBatch/next`` unchanged) whenever that long has
/// passed without one: a consumer that must show it is alive (an HTTP event stream's heartbeat)
/// needs no timer of its own.
///
/// ```swift
/// for try await batch in store.follow(after: checkpoint, filter: LogFilter(categories: ["gig"])) {
///     for event in batch.events { print(event.position, event.type) }
///     checkpoint = batch.next
/// }
/// ```
public struct LogFollow: AsyncSequence, Sendable {
    /// Each element is a batch of events as stored, with the checkpoint just after it.
    public typealias Element = LogBatch<StoredEvent>

    /// Whether the sequence ends once caught up.
    public enum Mode: Sendable, Hashable {
        /// Catch up, then wait for new events until cancelled.
        case live
        /// End when a read returns nothing (events held back by an open transaction are not
        /// waited for): what is readable now.
        case untilCaughtUp
    }

    let store: EventStore
    let checkpoint: LogCheckpoint
    let filter: LogFilter
    let batchSize: Int
    let mode: Mode
    let fallbackPoll: Duration
    let idleAfter: Duration?

    public func makeAsyncIterator() -> Iterator {
        Iterator(follow: self, cursor: checkpoint)
    }

    /// Reads the batches. Following live it holds a ``LogListener`` connection, closed when the
    /// sequence ends or the iterator is dropped.
    public struct Iterator: AsyncIteratorProtocol {
        let follow: LogFollow
        var cursor: LogCheckpoint
        var listener: ListenerHandle?
        var finished = false
        var lastReturned = ContinuousClock.now

        init(follow: LogFollow, cursor: LogCheckpoint) {
            self.follow = follow
            self.cursor = cursor
        }

        /// The next batch after the last one returned (or after the starting checkpoint).
        public mutating func next() async throws -> LogBatch<StoredEvent>? {
            guard !finished else { return nil }
            do {
                if follow.mode == .live && listener == nil {
                    // Listen before the first read, so nothing appended after it goes unnoticed.
                    let handle = ListenerHandle(
                        LogListener(
                            config: follow.store.pool.config,
                            fallbackPoll: Swift.min(follow.fallbackPoll, follow.idleAfter ?? follow.fallbackPoll),
                            logger: follow.store.logger))
                    listener = handle
                    try await handle.listener.start()
                }
                while !Task.isCancelled {
                    let events = try await follow.store.readStored(
                        after: cursor, filter: follow.filter, limit: follow.batchSize)
                    if let last = events.last {
                        cursor = last.checkpoint
                        lastReturned = .now
                        return LogBatch(events: events, next: cursor)
                    }
                    guard let listener else { break }
                    if let idleAfter = follow.idleAfter, lastReturned.duration(to: .now) >= idleAfter {
                        lastReturned = .now
                        return LogBatch(events: [], next: cursor)
                    }
                    let heldBack = try await follow.store.hasEvents(after: cursor, filter: follow.filter)
                    try await listener.listener.wait(after: heldBack ? .heldBack : .caughtUp)
                }
            } catch {
                await finish()
                if Task.isCancelled { return nil }
                throw EventStore.mapReadError(error)
            }
            await finish()
            return nil
        }

        private mutating func finish() async {
            finished = true
            if let listener {
                self.listener = nil
                await listener.listener.close()
            }
        }
    }

    /// Owns a listener for an iterator; closes it when the iterator is dropped without finishing
    /// (a consumer that `break`s out of its loop).
    final class ListenerHandle: Sendable {
        let listener: LogListener
        init(_ listener: LogListener) { self.listener = listener }
        deinit {
            let listener = self.listener
            Task { await listener.close() }
        }
    }
}

extension EventStore {
    /// Follows the log from `checkpoint`: the one way to read the log as it grows (see
    /// ``LogFollow``).
    ///
    /// - Parameters:
    ///   - checkpoint: where to start (exclusive): ``LogCheckpoint/start``, a batch's
    ///     ``LogBatch/next``, a stored or client-given ``LogCheckpoint/token``, or one of
    ///     ``checkpoint(atPosition:)``, ``checkpoint(beforeLatest:filter:)``, ``headCheckpoint()``.
    ///   - filter: only some categories or types (others are passed over, checkpoint included).
    ///   - batchSize: the most events per batch.
    ///   - mode: ``LogFollow/Mode/live`` (default) or ``LogFollow/Mode/untilCaughtUp``.
    ///   - fallbackPoll: live, the longest sleep without a notification.
    ///   - idleAfter: live, return a batch with no events when this long has passed without a
    ///     batch (a heartbeat); `nil` (default) never does.
    public func follow(
        after checkpoint: LogCheckpoint = .start, filter: LogFilter = .all, batchSize: Int = 500,
        mode: LogFollow.Mode = .live, fallbackPoll: Duration = .seconds(5), idleAfter: Duration? = nil
    ) -> LogFollow {
        LogFollow(
            store: self, checkpoint: checkpoint, filter: filter, batchSize: max(1, batchSize), mode: mode,
            fallbackPoll: fallbackPoll, idleAfter: idleAfter)
    }
}
