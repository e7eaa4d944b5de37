/// Encoded events for one stream, with what the append must expect of that stream.
///
/// A handler turns each into one stream of an atomic, multi-stream append.
public struct StreamWrite: Hashable, Sendable {
    /// What the append must check of the stream's version.
    public enum Expectation: Hashable, Sendable {
        /// The version the handler read before deciding (optimistic concurrency).
        case versionAsRead
        /// The stream must not exist yet: it is created by this append (a new contract).
        case noStream
    }

    /// The stream to append to.
    public let stream: MarketplaceStream
    /// The version check for the append.
    public let expectation: Expectation
    /// The events, in order.
    public let events: [EncodedEvent]

    /// Already encoded `events` for `stream`, to append under `expectation`.
    public init(stream: MarketplaceStream, expectation: Expectation, events: [EncodedEvent]) {
        self.stream = stream
        self.expectation = expectation
        self.events = events
    }

    /// Encodes `events` for `stream` through `registry` (which stamps each type's version).
    public init<Event: DomainEvent>(
        stream: MarketplaceStream, expectation: Expectation = .versionAsRead, events: [Event],
        registry: EventRegistry = .marketplace
    ) throws(DomainError) {
        var encoded: [EncodedEvent] = []
        encoded.reserveCapacity(events.count)
        for event in events {
            encoded.append(try registry.encode(event))
        }
        self.init(stream: stream, expectation: expectation, events: encoded)
    }
}
