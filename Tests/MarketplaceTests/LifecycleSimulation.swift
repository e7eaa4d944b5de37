import Foundation
import Marketplace
import Testing

/// An in-memory command handler over gig and contract streams, driven by random numbers: each
/// step turns one `UInt64` into a command (mostly plausible ones, so histories get deep), decides
/// it against the folded stream, appends what it decides, and checks the properties.
struct LifecycleSimulation {
    /// Where a scenario got to, summed over runs to show the generator reaches deep states.
    struct Coverage {
        var eventTypes: [String: Int] = [:]
        var rejections: [String: Int] = [:]
        var noOps = 0
        var conflicts = 0
    }

    // The world outside the gig and contract streams.
    static let clients = [Fixtures.client(1), Fixtures.client(2), Fixtures.client(3)]
    static let unregisteredClient = Fixtures.client(3)
    /// The fifth freelancer is the first client's own freelancer account (same UUID).
    static let freelancers = [
        Fixtures.freelancer(1), Fixtures.freelancer(2), Fixtures.freelancer(3), Fixtures.freelancer(4),
        Fixtures.clientAsFreelancer,
    ]
    static let unregisteredFreelancer = Fixtures.freelancer(4)
    static let gigs = [Fixtures.gig(1), Fixtures.gig(2), Fixtures.gig(3)]
    static let bids = (1...4).map(Fixtures.bid)
    static let contracts = (1...3).map(Fixtures.contract)
    static let deliveries = (1...3).map(Fixtures.delivery)
    static let disputes = (1...2).map(Fixtures.dispute)

    /// Command kinds (see `makeGigCommand` / `makeContractCommand`), repeated by weight.
    static let kinds = [0, 0, 1, 1, 1, 1, 3, 4, 5, 6, 6, 6, 8, 9, 10, 11, 11, 11, 13, 14, 14, 16, 17, 18, 19, 19, 20]

    private(set) var gigEvents: [GigID: [GigEvent]] = [:]
    private(set) var contractEvents: [ContractID: [ContractEvent]] = [:]
    private(set) var gigStates: [GigID: GigState] = [:]
    private(set) var contractStates: [ContractID: ContractState] = [:]
    private(set) var coverage = Coverage()
    private var now = Fixtures.t0
    private var commandNumber = 0

    /// Runs one step.
    mutating func step(_ raw: UInt64, sourceLocation: SourceLocation = #_sourceLocation) {
        var bits = Bits(raw)
        now = now.addingTimeInterval(
            bits.pick(16) == 0 ? Double(1 + bits.pick(5)) * 86_400 : Double(bits.pick(7)) * 3_600)
        commandNumber += 1
        var kind = bits.element(Self.kinds)
        // Steer away from commands on streams that do not exist yet, so histories get deep.
        if gigStates.isEmpty, bits.pick(8) != 0 { kind = 0 }
        if kind > 10, contractStates.isEmpty, bits.pick(8) != 0 { kind = 6 }
        if kind <= 10 {
            runGig(makeGigCommand(kind, &bits), sourceLocation: sourceLocation)
        } else {
            runContract(makeContractCommand(kind, &bits), sourceLocation: sourceLocation)
        }
        checkInvariants(sourceLocation: sourceLocation)
    }

    // MARK: - Deciding and appending

    private mutating func runGig(_ command: GigCommand, sourceLocation: SourceLocation) {
        let gigID = command.gigID
        let state = gigStates[gigID] ?? GigDecider.initialState
        let decision: GigDecision
        do {
            decision = try GigDecider.decide(command, state)
        } catch {
            coverage.rejections[error.code.rawValue, default: 0] += 1
            return
        }
        if decision.isEmpty {
            coverage.noOps += 1
            return
        }
        if let started = decision.startedContract, contractEvents[started.contractID] != nil {
            // The store refuses the whole append: the contract stream must not exist yet.
            coverage.conflicts += 1
            return
        }
        var next = state
        for event in decision.gigEvents {
            next = GigDecider.evolve(next, event)
            gigEvents[gigID, default: []].append(event)
            coverage.eventTypes[event.eventType, default: 0] += 1
        }
        gigStates[gigID] = next
        if let started = decision.startedContract {
            var contract = ContractDecider.initialState
            for event in started.events {
                contract = ContractDecider.evolve(contract, event)
                coverage.eventTypes[event.eventType, default: 0] += 1
            }
            contractEvents[started.contractID] = started.events
            contractStates[started.contractID] = contract
        }
        // The same command again has already taken effect.
        let repeated = GigDecider.decision(command, next)
        #expect(
            (try? repeated.get())?.isEmpty == true, "repeating \(command) decided \(repeated)",
            sourceLocation: sourceLocation)
    }

    private mutating func runContract(_ command: ContractCommand, sourceLocation: SourceLocation) {
        let contractID = command.contractID
        let state = contractStates[contractID] ?? ContractDecider.initialState
        let events: [ContractEvent]
        do {
            events = try ContractDecider.decide(command, state)
        } catch {
            coverage.rejections[error.code.rawValue, default: 0] += 1
            return
        }
        if events.isEmpty {
            coverage.noOps += 1
            return
        }
        var next = state
        for event in events {
            next = ContractDecider.evolve(next, event)
            coverage.eventTypes[event.eventType, default: 0] += 1
        }
        contractEvents[contractID, default: []].append(contentsOf: events)
        contractStates[contractID] = next
        let repeated = ContractDecider.decision(command, next)
        #expect((try? repeated.get()) == [], "repeating \(command) decided \(repeated)", sourceLocation: sourceLocation)
    }

    // MARK: - Properties

    private func checkInvariants(sourceLocation: SourceLocation) {
        for (gigID, events) in gigEvents {
            // Folding the whole stream equals the state evolved step by step.
            #expect(GigDecider.fold(events) == gigStates[gigID], sourceLocation: sourceLocation)
            guard let gig = gigStates[gigID]?.gig else {
                Issue.record("gig \(gigID) has events but no posting", sourceLocation: sourceLocation)
                continue
            }
            let accepted = events.compactMap { event -> GigEvent.BidAccepted? in
                if case .bidAccepted(let accepted) = event { return accepted }
                return nil
            }
            #expect(accepted.count <= 1, "at most one accepted bid per gig", sourceLocation: sourceLocation)
            for event in events {
                if case .bidPlaced(let placed) = event {
                    #expect(
                        placed.freelancerID.uuid != gig.clientID.uuid, "a bid from the gig's own client",
                        sourceLocation: sourceLocation)
                    #expect(placed.amount.currency == gig.currency, sourceLocation: sourceLocation)
                }
            }
            let live = gig.bids.values.filter { $0.status == .live }
            #expect(
                Set(live.map(\.freelancerID)).count == live.count, "one live bid per freelancer",
                sourceLocation: sourceLocation)
            if gig.status != .open {
                #expect(live.isEmpty, "bids lapse when the gig stops being open", sourceLocation: sourceLocation)
            }
            if let award = accepted.first {
                // Never an awarded gig without its contract.
                let start = contractEvents[award.contractID]?.first
                #expect(
                    start
                        == .contractStarted(
                            .init(
                                contractID: award.contractID, gigID: gigID, bidID: award.bidID, clientID: gig.clientID,
                                freelancerID: award.freelancerID, amount: award.agreedAmount,
                                estimatedDays: gig.bids[award.bidID]?.estimatedDays ?? -1,
                                terms: contractStates[award.contractID]?.contract?.terms ?? .standard)),
                    sourceLocation: sourceLocation)
            }
        }
        for (contractID, events) in contractEvents {
            #expect(ContractDecider.fold(events) == contractStates[contractID], sourceLocation: sourceLocation)
            guard let contract = contractStates[contractID]?.contract else {
                Issue.record("contract \(contractID) has events but no start", sourceLocation: sourceLocation)
                continue
            }
            #expect(
                contract.status != .settling, "a decision never leaves a contract settling",
                sourceLocation: sourceLocation)
            var payments = 0
            var ended = false
            for (index, event) in events.enumerated() {
                if ended, case .reviewSubmitted = event {
                } else if ended {
                    Issue.record("\(event.eventType) after the contract ended", sourceLocation: sourceLocation)
                }
                switch event {
                case .paymentReleased(let payment):
                    payments += 1
                    let fee = try? payment.gross.share(basisPoints: Int64(contract.terms.platformFeeBasisPoints))
                    #expect(payment.gross == contract.amount, sourceLocation: sourceLocation)
                    #expect(payment.platformFee == fee, sourceLocation: sourceLocation)
                    #expect(
                        (try? payment.platformFee.adding(payment.net)) == payment.gross, "gross = fee + net",
                        sourceLocation: sourceLocation)
                    #expect(payment.net.minorUnits > 0, sourceLocation: sourceLocation)
                    let next = index + 1 < events.count ? events[index + 1] : nil
                    #expect(next == .contractCompleted(.init(contractID: contractID)), sourceLocation: sourceLocation)
                case .contractCompleted, .contractCancelled:
                    ended = true
                default:
                    break
                }
            }
            #expect(payments <= 1, "a contract is paid at most once", sourceLocation: sourceLocation)
            #expect((payments == 1) == (contract.status == .completed), sourceLocation: sourceLocation)
        }
    }

    /// Reading every stream back from its stored form gives the same states.
    func checkStorageRoundTrip(sourceLocation: SourceLocation = #_sourceLocation) throws {
        for (gigID, events) in gigEvents {
            let stored = try events.map { try $0.encoded() }
            #expect(
                GigDecider.fold(try stored.map { try GigEvent.decode($0) }) == gigStates[gigID],
                sourceLocation: sourceLocation)
        }
        for (contractID, events) in contractEvents {
            let stored = try events.map { try $0.encoded() }
            #expect(
                ContractDecider.fold(try stored.map { try ContractEvent.decode($0) }) == contractStates[contractID],
                sourceLocation: sourceLocation)
        }
    }

    // MARK: - Command generation

    private func context(_ actor: ActorRef) -> CommandContext {
        CommandContext(commandID: Fixtures.command(commandNumber), actor: actor, occurredAt: now)
    }

    private func gig(_ id: GigID) -> PostedGig? { gigStates[id]?.gig }

    private func makeGigCommand(_ kind: Int, _ bits: inout Bits) -> GigCommand {
        let unposted = Self.gigs.filter { gigStates[$0] == nil }
        let postedIDs = Self.gigs.filter { gigStates[$0] != nil }
        let preferred = kind == 0 ? unposted : postedIDs
        let gigID = preferred.isEmpty || bits.pick(8) == 0 ? bits.element(Self.gigs) : bits.element(preferred)
        let posted = gig(gigID)
        let owner = posted.map { ActorRef.client($0.clientID) } ?? .client(bits.element(Self.clients))
        let freelancer = bits.element(Self.freelancers)
        let existingBids = posted?.bids.keys.sorted() ?? []
        let bidID =
            kind >= 3 && !existingBids.isEmpty && bits.pick(4) != 0
            ? bits.element(existingBids) : bits.element(Self.bids)
        let amount = bits.usually(
            bits.element([Fixtures.eur(300_000), Fixtures.eur(250_000), Fixtures.eur(1)]),
            otherwise: [Fixtures.eur(0), Fixtures.usd(300_000)])
        let days = bits.usually(bits.element([20, 10, 5]), otherwise: [0, 400])
        // Mostly the plausible actor, sometimes anyone.
        let stranger = bits.element([
            ActorRef.client(Fixtures.client(2)), .freelancer(Fixtures.freelancer(2)), Fixtures.admin, .system,
        ])
        let plausible = bits.pick(8) != 0
        switch kind {
        case 0:
            let clientID = bits.usually(bits.element(Self.clients.prefix(2)), otherwise: [Self.unregisteredClient])
            let budget = bits.usually(
                (Fixtures.eur(200_000), Fixtures.eur(500_000)),
                otherwise: [
                    (Fixtures.eur(0), Fixtures.eur(100)), (Fixtures.eur(500_000), Fixtures.eur(200_000)),
                    (Fixtures.eur(1_000), Fixtures.usd(2_000)),
                ])
            return .postGig(
                .init(
                    context: context(plausible ? .client(clientID) : stranger), gigID: gigID, clientID: clientID,
                    title: bits.usually(bits.element(["Label 10k images", "Audit a credit model"]), otherwise: [""]),
                    description: "Details.",
                    skills: bits.usually(
                        bits.element([["data-labeling"], ["explainable-ai", "ai-ethics"]]),
                        otherwise: [[], ["unknown"]]),
                    budgetMin: budget.0, budgetMax: budget.1,
                    biddingClosesAt: now.addingTimeInterval(
                        Double(bits.usually(3 + bits.pick(20), otherwise: [-1, 0])) * 86_400),
                    clientRegistered: clientID != Self.unregisteredClient))
        case 1, 2:
            return .placeBid(
                .init(
                    context: context(plausible ? .freelancer(freelancer) : stranger), gigID: gigID, bidID: bidID,
                    amount: amount,
                    estimatedDays: days, bidderRegistered: freelancer != Self.unregisteredFreelancer))
        case 3:
            let bidder = posted?.bids[bidID].map { ActorRef.freelancer($0.freelancerID) } ?? .freelancer(freelancer)
            return .reviseBid(
                .init(
                    context: context(plausible ? bidder : stranger), gigID: gigID, bidID: bidID, amount: amount,
                    estimatedDays: days))
        case 4:
            let bidder = posted?.bids[bidID].map { ActorRef.freelancer($0.freelancerID) } ?? .freelancer(freelancer)
            return .withdrawBid(.init(context: context(plausible ? bidder : stranger), gigID: gigID, bidID: bidID))
        case 5:
            return .declineBid(
                .init(
                    context: context(plausible ? owner : stranger), gigID: gigID, bidID: bidID,
                    reason: bits.element(BidDeclineReason.allCases)))
        case 6, 7:
            let live = posted?.bids.values.filter { $0.status == .live }.map(\.id).sorted() ?? []
            let chosen = live.isEmpty || bits.pick(4) == 0 ? bidID : bits.element(live)
            let terms = bits.element([ContractTerms.standard, .init(reviewWindowDays: 1, platformFeeBasisPoints: 1500)])
            return .acceptBid(
                .init(
                    context: context(plausible ? owner : stranger), gigID: gigID, bidID: chosen,
                    contractID: bits.element(Self.contracts), terms: terms))
        case 8:
            return .cancelGig(
                .init(
                    context: context(plausible ? bits.element([owner, owner, Fixtures.admin]) : stranger), gigID: gigID)
            )
        case 9:
            return .expireGig(.init(context: context(plausible ? .system : stranger), gigID: gigID))
        default:
            let awarded = posted?.award?.contractID
            let contractID = awarded.flatMap { bits.pick(4) == 0 ? nil : $0 } ?? bits.element(Self.contracts)
            let ended = contractStates[contractID]?.contract?.status
            let outcome: GigCommand.CloseAwardedGig.ContractOutcome =
                ended == .cancelled
                ? .cancelled : ended == .completed ? .completed : bits.element([.completed, .cancelled])
            return .closeAwardedGig(
                .init(
                    context: context(plausible ? .system : stranger), gigID: gigID, contractID: contractID,
                    outcome: outcome))
        }
    }

    private func makeContractCommand(_ kind: Int, _ bits: inout Bits) -> ContractCommand {
        // Prefer contracts that exist.
        let existing = contractStates.keys.sorted()
        let contractID = existing.isEmpty || bits.pick(5) == 0 ? bits.element(Self.contracts) : bits.element(existing)
        let contract = contractStates[contractID]?.contract
        let client = contract.map { ActorRef.client($0.clientID) } ?? .client(Fixtures.client(1))
        let freelancer = contract.map { ActorRef.freelancer($0.freelancerID) } ?? .freelancer(Fixtures.freelancer(1))
        let stranger = bits.element([
            ActorRef.client(Fixtures.client(2)), .freelancer(Fixtures.freelancer(3)), Fixtures.admin, .system,
        ])
        let plausible = bits.pick(8) != 0
        var deliveryID = bits.element(Self.deliveries)
        if case .delivered(let pending) = contract?.status, bits.pick(4) != 0 { deliveryID = pending }
        var disputeID = bits.element(Self.disputes)
        if case .disputed(let open) = contract?.status, bits.pick(4) != 0 { disputeID = open }
        switch kind {
        case 11, 12:
            return .submitDelivery(
                .init(
                    context: context(plausible ? freelancer : stranger), contractID: contractID, deliveryID: deliveryID,
                    note: bits.element(["v1", "v2"]),
                    artifacts: bits.usually(bits.element([["s3://x/1"], []]), otherwise: [[""]])))
        case 13:
            return .requestChanges(
                .init(
                    context: context(plausible ? client : stranger), contractID: contractID, deliveryID: deliveryID,
                    reason: bits.usually("More tests.", otherwise: [""])))
        case 14, 15:
            return .approveDelivery(
                .init(context: context(plausible ? client : stranger), contractID: contractID, deliveryID: deliveryID))
        case 16:
            return .autoApproveDelivery(
                .init(context: context(plausible ? .system : stranger), contractID: contractID, deliveryID: deliveryID))
        case 17:
            return .openDispute(
                .init(
                    context: context(plausible ? bits.element([client, freelancer, Fixtures.admin]) : stranger),
                    contractID: contractID, disputeID: disputeID, reason: bits.element(["Late.", "Scope."])))
        case 18:
            return .resolveDispute(
                .init(
                    context: context(plausible ? Fixtures.admin : stranger), contractID: contractID,
                    disputeID: disputeID, resolution: bits.element(DisputeResolution.allCases), note: "Ruling."))
        case 20:
            return .cancelContract(
                .init(
                    context: context(plausible ? bits.element([client, freelancer, Fixtures.admin]) : stranger),
                    contractID: contractID))
        default:
            return .submitReview(
                .init(
                    context: context(plausible ? bits.element([client, freelancer]) : stranger),
                    contractID: contractID, rating: bits.usually(1 + bits.pick(5), otherwise: [0, 6]),
                    text: bits.element(["Good.", "Fine."])))
        }
    }
}

/// Draws small choices from one random number.
struct Bits {
    private var raw: UInt64

    init(_ raw: UInt64) { self.raw = raw }

    /// A number in `0..<count`; uses up about log2(count) bits, then starts over on a scrambled value.
    mutating func pick(_ count: Int) -> Int {
        if raw < UInt64(count) { raw = raw &* 0x9E37_79B9_7F4A_7C15 &+ 0xBF58_476D_1CE4_E5B9 }
        let value = Int(raw % UInt64(count))
        raw /= UInt64(count)
        return value
    }

    /// `value` seven times in eight, otherwise one of `alternatives` (usually invalid inputs).
    mutating func usually<T>(_ value: T, otherwise alternatives: [T]) -> T {
        pick(8) == 0 ? element(alternatives) : value
    }

    mutating func element<C: Collection>(_ collection: C) -> C.Element where C.Index == Int {
        collection[collection.startIndex + pick(collection.count)]
    }
}
