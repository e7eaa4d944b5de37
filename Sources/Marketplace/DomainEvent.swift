import Foundation

/// An aggregate's event enum: each case wraps one ``EventPayload``.
///
/// Which types exist, their schema versions and how older versions are read are not declared
/// here but in one place, ``EventRegistry/marketplace``; encoding and decoding go through it.
public protocol DomainEvent: Hashable, Sendable {
    /// The category of the streams that hold these events.
    static var category: StreamCategory { get }

    /// The wrapped data.
    var payload: any EventPayload { get }

    /// This event among all the marketplace's events.
    var marketplaceEvent: MarketplaceEvent { get }

    /// `event` as this aggregate's event; `nil` when it belongs to another aggregate.
    init?(_ event: MarketplaceEvent)
}

extension DomainEvent {
    /// The stored type name of this event, e.g. `BidPlaced`.
    public var eventType: String { type(of: payload).eventType }

    /// The storage form of this event, stamped with the type's current schema version in
    /// `registry`.
    ///
    /// - Throws: ``DomainError/Code/unencodableEvent`` (only for values `decide` never produces,
    ///   such as a time outside the years 1970–9999, or for a type `registry` lacks).
    public func encoded(in registry: EventRegistry = .marketplace) throws(DomainError) -> EncodedEvent {
        try registry.encode(self)
    }

    /// Reads a stored event through `registry`, upcasting data of an older schema version.
    ///
    /// - Throws: ``DomainError/Code/unknownEventType`` for a type `registry` does not have or
    ///   that belongs to another aggregate, ``DomainError/Code/unsupportedSchemaVersion`` for a
    ///   version it cannot read, and ``DomainError/Code/undecodableEvent`` for data that does not
    ///   fit the type.
    public static func decode(_ event: EncodedEvent, in registry: EventRegistry = .marketplace)
        throws(DomainError) -> Self
    {
        try registry.decode(event, as: Self.self)
    }

    /// Reads a stored event from its three columns (see ``decode(_:in:)``).
    public static func decode(
        type: String, schemaVersion: Int, data: Data, in registry: EventRegistry = .marketplace
    ) throws(DomainError) -> Self {
        try decode(EncodedEvent(type: type, schemaVersion: schemaVersion, data: data), in: registry)
    }
}

/// Any marketplace event: the aggregate's enum, by stream category. What
/// ``EventRegistry/decode(_:)`` returns for readers of the whole log (projectors).
public enum MarketplaceEvent: Hashable, Sendable {
    case freelancer(FreelancerEvent)
    case client(ClientEvent)
    case gig(GigEvent)
    case contract(ContractEvent)
    case privacy(PrivacyEvent)

    /// The wrapped data.
    public var payload: any EventPayload {
        switch self {
        case .freelancer(let event): event.payload
        case .client(let event): event.payload
        case .gig(let event): event.payload
        case .contract(let event): event.payload
        case .privacy(let event): event.payload
        }
    }

    /// The stored type name, e.g. `BidPlaced`.
    public var eventType: String { type(of: payload).eventType }
}
