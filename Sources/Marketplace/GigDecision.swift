/// What a gig command decides: events for the gig stream and, when a bid is accepted, the first
/// events of the new contract's stream.
///
/// The handler appends both in one atomic, multi-stream append: the gig stream at the version it
/// read, the contract stream expecting no stream (``writes()`` says so), so there is never an
/// awarded gig without its contract, nor two contracts for one gig.
public struct GigDecision: Hashable, Sendable {
    /// The first events of a contract stream started by the decision.
    public struct StartedContract: Hashable, Sendable {
        /// The new contract's id: the stream `contract-<id>` is created by the append.
        public let contractID: ContractID
        /// Its first events (`ContractStarted`).
        public let events: [ContractEvent]

        /// The start of contract `contractID` with `events`.
        public init(contractID: ContractID, events: [ContractEvent]) {
            self.contractID = contractID
            self.events = events
        }
    }

    /// The gig the decision is about.
    public let gigID: GigID
    /// Events for `gig-<gigID>`.
    public let gigEvents: [GigEvent]
    /// Events for a new `contract-<id>` stream, when a bid was accepted.
    public let startedContract: StartedContract?

    /// A decision appending `gigEvents` to the gig's stream and, when given, starting
    /// `startedContract`.
    public init(gigID: GigID, gigEvents: [GigEvent], startedContract: StartedContract? = nil) {
        self.gigID = gigID
        self.gigEvents = gigEvents
        self.startedContract = startedContract
    }

    /// A decision that changes nothing (the command had already taken effect).
    public static func nothing(_ gigID: GigID) -> GigDecision { GigDecision(gigID: gigID, gigEvents: []) }

    /// Whether the decision appends nothing.
    public var isEmpty: Bool { gigEvents.isEmpty && (startedContract?.events.isEmpty ?? true) }

    /// The encoded appends, one per stream with events: the gig's (version as read), then the new
    /// contract's (no stream), encoded through `registry`.
    public func writes(in registry: EventRegistry = .marketplace) throws(DomainError) -> [StreamWrite] {
        var writes: [StreamWrite] = []
        if !gigEvents.isEmpty {
            writes.append(
                try StreamWrite(
                    stream: gigID.stream, expectation: .versionAsRead, events: gigEvents, registry: registry))
        }
        if let startedContract, !startedContract.events.isEmpty {
            writes.append(
                try StreamWrite(
                    stream: startedContract.contractID.stream, expectation: .noStream, events: startedContract.events,
                    registry: registry))
        }
        return writes
    }
}
