import Foundation

/// The one place that knows every stored event type: the aggregate it belongs to, its current
/// schema version, and how data written by each older version becomes the current shape.
///
/// Every reader goes through a registry: the command handler's fold, time travel
/// (`gigctl streams state`), the projectors, `gigctl streams show`. Writers stamp the current
/// version from it. The shipped one is ``marketplace``; a test may build a variant (say, one
/// type at a version 2 with an upcaster from 1) and hand it to the handler and the projectors.
///
/// Upcasting is step by step: data stored as version 1 of a type at version 3 goes through the
/// upcaster from 1 (giving 2), then the one from 2 (giving 3), then decodes as the payload
/// struct, which is always the current shape. Events at the current version decode directly.
///
/// ```swift
/// registry.register(GigEvent.GigPosted.self, version: 2, upcasts: [
///     EventRegistry.Upcast(from: 1, example: v1Sample) { v1 in
///         var v2 = v1
///         v2["experience"] = "any"
///         return v2
///     }
/// ]) { GigEvent.gigPosted($0) }
/// ```
public struct EventRegistry: Sendable {
    /// How data of one schema version becomes the next.
    public struct Upcast: Sendable {
        /// The version this step reads; it returns version `from + 1`.
        public let from: Int
        /// A payload as version `from` stored it: the tests run it through every later step and
        /// decode the result, so each registered path is proven to read.
        public let example: JSONValue
        /// The transformation. Throw for data it cannot carry forward.
        public let transform: @Sendable (JSONValue) throws -> JSONValue

        /// A step reading version `from` into version `from + 1`; `example` is a version-`from`
        /// payload the tests carry through every later step.
        public init(from: Int, example: JSONValue, _ transform: @escaping @Sendable (JSONValue) throws -> JSONValue) {
            self.from = from
            self.example = example
            self.transform = transform
        }
    }

    /// One registered event type.
    public struct Schema: Sendable {
        /// The stored type name, e.g. `GigPosted`.
        public let type: String
        /// The aggregate whose streams hold it.
        public let category: StreamCategory
        /// The current schema version: what writers stamp and the payload struct's shape.
        public let version: Int
        /// The steps from older versions, by the version each reads.
        public let upcasts: [Int: Upcast]
        let decodeCurrent: @Sendable (Data) throws(DomainError) -> MarketplaceEvent

        /// The versions below ``version`` with no upcaster: data stored at or below the highest
        /// of them cannot be read. Empty for a well-formed registration (a test checks it).
        public var missingUpcasts: [Int] { (1..<max(1, version)).filter { upcasts[$0] == nil } }
    }

    private var byType: [String: Schema] = [:]

    /// Opens the envelopes of personal fields (``PersonalData``) before decoding; `nil` (the
    /// command handler's fold, the projectors) leaves them sealed: no rule and no read model
    /// reads a personal field.
    public private(set) var reader: (any PersonalDataReader)?

    /// An empty registry; see ``marketplace`` for the shipped one.
    public init() {}

    /// This registry, decoding personal fields to their plaintext through `reader`, or to
    /// ``PersonalData/placeholder`` where the subject's key was destroyed. Time travel, `streams
    /// show` and `privacy export` read this way.
    public func revealing(with reader: any PersonalDataReader) -> EventRegistry {
        var copy = self
        copy.reader = reader
        return copy
    }

    /// `event` with its personal fields opened by ``reader`` (unchanged without one, and for
    /// plaintext written before encryption began).
    ///
    /// - Throws: ``DomainError/Code/undecodableEvent`` when a key exists but does not open a
    ///   field (corrupt or tampered data).
    public func reveal(_ event: EncodedEvent) throws(DomainError) -> EncodedEvent {
        guard let reader, PersonalData.fields[event.type] != nil else { return event }
        do {
            let opened = try PersonalData.mapFields(of: event.type, in: event.data) { value, field in
                guard let envelope = PersonalDataEnvelope(parsing: value) else { return value }
                return try reader.open(envelope, context: PersonalData.context(type: event.type, field: field.key))
                    ?? PersonalData.placeholder
            }
            guard let opened else { return event }
            return EncodedEvent(type: event.type, schemaVersion: event.schemaVersion, data: opened)
        } catch {
            throw DomainError(
                .undecodableEvent,
                "A personal field of a \(event.type) event does not open with its subject's key: the stored event is corrupt or was altered.",
                cause: error)
        }
    }

    /// Registers `Payload` (the current shape) as version `version` of its type, with the steps
    /// from older versions, replacing an earlier registration of the type. `wrap` puts a payload
    /// in its aggregate's event enum.
    public mutating func register<Payload: EventPayload, Event: DomainEvent>(
        _ payload: Payload.Type, version: Int = 1, upcasts: [Upcast] = [],
        as wrap: @escaping @Sendable (Payload) -> Event
    ) {
        let type = Payload.eventType
        byType[type] = Schema(
            type: type, category: Event.category, version: version,
            upcasts: Dictionary(upcasts.map { ($0.from, $0) }, uniquingKeysWith: { _, last in last }),
            decodeCurrent: { data throws(DomainError) in
                wrap(try EventCoding.decode(Payload.self, from: data, type: type, version: version)).marketplaceEvent
            })
    }

    /// Every registered type, by name.
    public var schemas: [Schema] { byType.values.sorted { $0.type < $1.type } }

    /// The registered type names.
    public var types: Set<String> { Set(byType.keys) }

    /// The registration of `type`, if any.
    public func schema(of type: String) -> Schema? { byType[type] }

    /// The storage form of `event`, stamped with its type's current version.
    ///
    /// - Throws: ``DomainError/Code/unencodableEvent`` for a type this registry lacks or a value
    ///   the storage format cannot hold (both bugs, never input).
    public func encode<Event: DomainEvent>(_ event: Event) throws(DomainError) -> EncodedEvent {
        let payload = event.payload
        let type = Swift.type(of: payload).eventType
        guard let schema = byType[type] else {
            throw DomainError(
                .unencodableEvent,
                "The \(type) event is not registered in the event registry, so it has no schema version: register it in EventRegistry.marketplace. This is a bug in GigLedger."
            )
        }
        return EncodedEvent(type: type, schemaVersion: schema.version, data: try EventCoding.encode(payload))
    }

    /// Reads any stored marketplace event, upcasting data of an older schema version.
    ///
    /// - Throws: ``DomainError/Code/unknownEventType`` for a type this registry does not have,
    ///   ``DomainError/Code/unsupportedSchemaVersion`` for a version newer than the current one
    ///   or one with no upcaster, ``DomainError/Code/undecodableEvent`` for data that does not fit.
    public func decode(_ event: EncodedEvent) throws(DomainError) -> MarketplaceEvent {
        let schema = try schema(for: event)
        let event = try reveal(event)
        if event.schemaVersion == schema.version { return try schema.decodeCurrent(event.data) }
        return try schema.decodeCurrent(try upcast(event, schema).data)
    }

    /// Reads a stored event of `Event`'s aggregate (see ``decode(_:)``).
    ///
    /// - Throws: as ``decode(_:)``; also ``DomainError/Code/unknownEventType`` when the type
    ///   belongs to another aggregate (the stream holds events of the wrong kind).
    public func decode<Event: DomainEvent>(_ event: EncodedEvent, as _: Event.Type) throws(DomainError) -> Event {
        let schema = try schema(for: event)
        guard schema.category == Event.category, let decoded = Event(try decode(event)) else {
            throw DomainError(
                .unknownEventType,
                "The event type \(event.type) belongs to \(schema.category.rawValue) streams, not to a \(Event.category.rawValue) stream: the stream holds events of the wrong kind, which GigLedger never writes."
            )
        }
        return decoded
    }

    /// `event`'s data brought to its type's current schema version (unchanged when it is
    /// already there), its personal fields opened when the registry has a ``reader``, as
    /// `gigctl streams show --upcast` prints it.
    public func upcast(_ event: EncodedEvent) throws(DomainError) -> EncodedEvent {
        let schema = try schema(for: event)
        let event = try reveal(event)
        return event.schemaVersion == schema.version ? event : try upcast(event, schema)
    }

    private func schema(for event: EncodedEvent) throws(DomainError) -> Schema {
        guard let schema = byType[event.type] else {
            throw DomainError(
                .unknownEventType,
                "The event type \(event.type.prefix(80)) (schema version \(event.schemaVersion)) is not one this version of GigLedger knows. If a newer GigLedger wrote it, upgrade; otherwise the event comes from another system and no GigLedger reader can use it."
            )
        }
        guard event.schemaVersion <= schema.version else {
            throw DomainError(
                .unsupportedSchemaVersion,
                "\(event.type) schema version \(event.schemaVersion) is newer than version \(schema.version), the newest this version of GigLedger reads: upgrade GigLedger to read it."
            )
        }
        guard event.schemaVersion >= 1 else {
            throw DomainError(
                .unsupportedSchemaVersion,
                "\(event.type) schema version \(event.schemaVersion) does not exist: versions start at 1. The event was not written by GigLedger."
            )
        }
        return schema
    }

    private func upcast(_ event: EncodedEvent, _ schema: Schema) throws(DomainError) -> EncodedEvent {
        var value: JSONValue
        do { value = try JSONDecoder().decode(JSONValue.self, from: event.data) } catch {
            throw DomainError(
                .undecodableEvent,
                "The data of a \(event.type) v\(event.schemaVersion) event is not JSON: the stored event is corrupt or from another system.",
                cause: error)
        }
        for version in event.schemaVersion..<schema.version {
            guard let step = schema.upcasts[version] else {
                throw DomainError(
                    .unsupportedSchemaVersion,
                    "\(event.type) schema version \(event.schemaVersion) cannot be read: no upcaster turns version \(version) into \(version + 1). Register one with the type in EventRegistry.marketplace (see the storage format article)."
                )
            }
            do { value = try step.transform(value) } catch {
                throw DomainError(
                    .undecodableEvent,
                    "Upcasting a \(event.type) event from schema version \(version) to \(version + 1) failed (\(error)): the stored data does not have the shape version \(version) had.",
                    cause: error)
            }
        }
        let data: Data
        do { data = try EventCoding.encoder().encode(value) } catch {
            throw DomainError(
                .undecodableEvent, "The upcast data of a \(event.type) event cannot be encoded as JSON.",
                cause: error)
        }
        return EncodedEvent(type: event.type, schemaVersion: schema.version, data: data)
    }
}

extension EventRegistry {
    /// Every event type GigLedger writes, at its current schema version, with the upcasters from
    /// the older ones. To change an event's shape, change its payload struct, raise its version
    /// here and add an ``Upcast`` from the previous version (see the storage format article).
    public static let marketplace: EventRegistry = {
        var r = EventRegistry()
        typealias F = FreelancerEvent
        r.register(F.FreelancerRegistered.self) { F.freelancerRegistered($0) }
        r.register(F.SkillsUpdated.self) { F.skillsUpdated($0) }
        r.register(F.RateChanged.self) { F.rateChanged($0) }
        r.register(F.AvailabilityChanged.self) { F.availabilityChanged($0) }
        r.register(F.PreferencesSet.self) { F.preferencesSet($0) }
        r.register(ClientEvent.ClientRegistered.self) { ClientEvent.clientRegistered($0) }
        typealias G = GigEvent
        r.register(G.GigPosted.self, version: 2, upcasts: [Upcasts.gigPostedV1]) { G.gigPosted($0) }
        r.register(G.BidPlaced.self) { G.bidPlaced($0) }
        r.register(G.BidRevised.self) { G.bidRevised($0) }
        r.register(G.BidWithdrawn.self) { G.bidWithdrawn($0) }
        r.register(G.BidDeclined.self) { G.bidDeclined($0) }
        r.register(G.BidAccepted.self) { G.bidAccepted($0) }
        r.register(G.GigClosed.self) { G.gigClosed($0) }
        typealias C = ContractEvent
        r.register(C.ContractStarted.self) { C.contractStarted($0) }
        r.register(C.DeliverySubmitted.self) { C.deliverySubmitted($0) }
        r.register(C.ChangesRequested.self) { C.changesRequested($0) }
        r.register(C.DeliveryApproved.self) { C.deliveryApproved($0) }
        r.register(C.PaymentReleased.self) { C.paymentReleased($0) }
        r.register(C.DisputeOpened.self) { C.disputeOpened($0) }
        r.register(C.DisputeResolved.self) { C.disputeResolved($0) }
        r.register(C.ContractCompleted.self) { C.contractCompleted($0) }
        r.register(C.ContractCancelled.self) { C.contractCancelled($0) }
        r.register(C.ReviewSubmitted.self) { C.reviewSubmitted($0) }
        r.register(PrivacyEvent.PersonalDataErased.self) { PrivacyEvent.personalDataErased($0) }
        return r
    }()
}

/// The steps from older schema versions, one per (type, version); each is documented in the
/// storage format article and kept forever.
enum Upcasts {
    /// `GigPosted` v1 → v2: a version 1 posting said nothing of experience or engagement, so it
    /// reads as `"experience": "any"` and `"engagement": {"kind": "fixedPrice"}` (the budget of a
    /// version 1 gig was always its total price).
    static let gigPostedV1 = EventRegistry.Upcast(
        from: 1,
        example: [
            "gigId": "61000000-0000-4000-8000-000000000001", "clientId": "c1000000-0000-4000-8000-000000000001",
            "title": "Fine-tune a support LLM", "description": "Fine-tune on 20k tickets.\nReport metrics.",
            "skills": ["llm-fine-tuning", "nlp"], "budgetMin": ["currency": "EUR", "minorUnits": 200_000],
            "budgetMax": ["currency": "EUR", "minorUnits": 500_000], "biddingClosesAt": "2026-01-15T00:00:00.000Z",
        ]
    ) { v1 in
        guard case .object(var fields) = v1 else {
            throw DomainError(.undecodableEvent, "A GigPosted v1 event's data is a JSON object.")
        }
        guard fields["experience"] == nil, fields["engagement"] == nil else {
            throw DomainError(
                .undecodableEvent, "A GigPosted v1 event has no experience or engagement: this data is not version 1.")
        }
        fields["experience"] = .string(ExperienceLevel.any.rawValue)
        fields["engagement"] = ["kind": "fixedPrice"]
        return .object(fields)
    }
}
