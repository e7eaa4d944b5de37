import EventStore
import Foundation
import GigLedger
import Marketplace

/// One command of the plan, and the rule's code if it is meant to be rejected.
package struct PlannedCommand: Sendable {
    package let command: MarketplaceCommand
    package let expectedRejection: String?
    /// What a success means for the summary.
    let effect: Effect?

    enum Effect: Sendable {
        case paid(Money)
        case gigClosed(String)
        case awarded
    }
}

/// The economics of one skill in the simulated market.
struct SkillProfile: Sendable {
    let slug: String
    /// Relative demand and supply (Zipf over the popularity order).
    let weight: Double
    /// Typical gig budget in minor units (EUR cents).
    let basePrice: Int64
    let niche: Bool
    /// Crowded skills where bids drift down week after week.
    let priceWar: Bool
}

/// The deterministic plan of a market: who registers, which gigs are posted, and each gig's
/// lifecycle as commands in business-time order. Generated lazily per gig from its own random
/// stream, so a 1M-event market never sits in memory whole.
package struct MarketPlan: Sendable {
    package struct Freelancer: Sendable {
        let id: UUID
        let skills: [(Int, Int)]
        var country = ""
    }

    /// Where simulated freelancers work.
    static let countries = ["DE", "FR", "IN", "BR", "US"]
    package struct Client: Sendable {
        let id: UUID
        let currency: Currency
    }
    package struct Gig: Sendable {
        let index: Int
        let week: Int
        let client: Int
        let skills: [Int]
        /// Business time of the posting.
        package let postedAt: Date
    }

    package let config: SimulationConfig
    let skills: [SkillProfile]
    let cumulative: [Double]
    package let freelancers: [Freelancer]
    package let clients: [Client]
    package let gigs: [Gig]
    /// Freelancers by skill index.
    let bySkill: [[Int]]

    /// Most crowded first; the AI niches at the long tail, rarer and better paid.
    static let popularity: [(String, Bool)] = [
        ("python", false), ("web", false), ("writing", false), ("data-labeling", false), ("data-science", false),
        ("machine-learning", false), ("prompt-engineering", false), ("generative-ai", false), ("design", false),
        ("seo", false),
        ("javascript", false), ("copywriting", false), ("sql", false), ("data-visualization", false),
        ("translation", false),
        ("swift", false), ("devops", false), ("statistics", false), ("ui-ux-design", false),
        ("technical-writing", false),
        ("nlp", true), ("computer-vision", true), ("mlops", true), ("llm-fine-tuning", true),
        ("time-series-forecasting", true),
        ("reinforcement-learning", true), ("edge-ai", true), ("explainable-ai", true), ("ai-ethics", true),
        ("cybersecurity", true),
    ]

    package init(_ config: SimulationConfig) {
        self.config = config
        var profiles: [SkillProfile] = []
        for (rank, (slug, niche)) in Self.popularity.enumerated() {
            let weight = 1 / pow(Double(rank + 1), 1.1)
            profiles.append(
                SkillProfile(
                    slug: slug, weight: weight, basePrice: niche ? 280_000 : 90_000, niche: niche, priceWar: rank < 3))
        }
        skills = profiles
        var running = 0.0
        cumulative = profiles.map {
            running += $0.weight
            return running
        }

        var random = SeededRandom(seed: config.seed, stream: 1)
        var freelancers: [Freelancer] = []
        var bySkill = [[Int]](repeating: [], count: profiles.count)
        for index in 0..<max(0, config.freelancers) {
            var chosen: [Int: Int] = [:]
            for _ in 0..<random.int(1...3) { chosen[random.weighted(cumulative)] = random.int(1...3) }
            let claims = chosen.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            for (skill, _) in claims { bySkill[skill].append(index) }
            freelancers.append(Freelancer(id: random.uuid(), skills: claims))
        }
        // Countries from a random stream of their own, so the rest of the market is unchanged.
        var placement = SeededRandom(seed: config.seed, stream: 4)
        for index in freelancers.indices {
            freelancers[index].country = Self.countries[placement.int(0...(Self.countries.count - 1))]
        }
        self.freelancers = freelancers
        self.bySkill = bySkill
        clients = (0..<max(0, config.clients)).map { _ in
            Client(id: random.uuid(), currency: random.chance(0.85) ? .eur : .usd)
        }
        var gigs: [Gig] = []
        for week in 0..<max(0, config.weeks) {
            for client in 0..<clients.count {
                for _ in 0..<random.poisson(config.gigsPerClientPerWeek) {
                    let primary = random.weighted(cumulative)
                    var gigSkills = [primary]
                    if random.chance(0.35) {
                        let second = random.weighted(cumulative)
                        if second != primary { gigSkills.append(second) }
                    }
                    let offset = random.unit() * 6 * 86_400
                    gigs.append(
                        Gig(
                            index: gigs.count, week: week, client: client, skills: gigSkills,
                            postedAt: config.start.addingTimeInterval(Double(week) * 7 * 86_400 + offset)))
                }
            }
        }
        self.gigs = gigs.sorted { $0.postedAt < $1.postedAt }.enumerated().map {
            Gig(
                index: $0.offset, week: $0.element.week, client: $0.element.client, skills: $0.element.skills,
                postedAt: $0.element.postedAt)
        }
    }

    /// Registrations of every freelancer and client, a day before week 0.
    package func registrations() -> [PlannedCommand] {
        var random = SeededRandom(seed: config.seed, stream: 2)
        let at = config.start.addingTimeInterval(-86_400)
        var commands: [PlannedCommand] = []
        for (n, client) in clients.enumerated() {
            commands.append(
                PlannedCommand(
                    command: .client(
                        .registerClient(
                            .init(
                                context: context(&random, .client(ClientID(client.id)), at),
                                clientID: ClientID(client.id),
                                name: "Client \(n + 1)", country: ["DE", "FR", "US", "NL", "IN", "BR", "JP"][n % 7],
                                paymentVerified: random.chance(0.9)))),
                    expectedRejection: nil, effect: nil))
        }
        for (n, freelancer) in freelancers.enumerated() {
            let claims = freelancer.skills.map { SkillClaim(slug: skills[$0.0].slug, level: $0.1) }
            let best = freelancer.skills.map { skills[$0.0].basePrice }.max() ?? 90_000
            commands.append(
                PlannedCommand(
                    command: .freelancer(
                        .registerFreelancer(
                            .init(
                                context: context(&random, .freelancer(FreelancerID(freelancer.id)), at),
                                freelancerID: FreelancerID(freelancer.id),
                                name: "Freelancer \(n + 1)", skills: claims,
                                hourlyRate: Money(minorUnits: best / 40 + Int64(random.int(0...2_000)), currency: .eur),
                                hoursPerWeek: random.int(10...40), country: freelancer.country))),
                    expectedRejection: nil, effect: nil))
        }
        return commands
    }

    /// Preferences of about a third of the freelancers, set an hour after the registrations
    /// (run after all of them): a minimum budget, the currencies they take, skills they want more
    /// of, a limit on contracts at once. Drawn from a random stream of their own, so the rest of
    /// the market is the same with or without them.
    package func preferences() -> [PlannedCommand] {
        var random = SeededRandom(seed: config.seed, stream: 3)
        let at = config.start.addingTimeInterval(-82_800)
        var commands: [PlannedCommand] = []
        for freelancer in freelancers {
            guard random.chance(0.35) else { continue }
            let best = freelancer.skills.map { skills[$0.0].basePrice }.max() ?? 90_000
            let wanted = random.chance(0.5) ? [skills[random.int(0...(skills.count - 1))].slug] : []
            let currencies: [String] = random.chance(0.6) ? [] : random.chance(0.5) ? ["EUR"] : ["EUR", "USD"]
            commands.append(
                PlannedCommand(
                    command: .freelancer(
                        .setPreferences(
                            .init(
                                context: context(&random, .freelancer(FreelancerID(freelancer.id)), at),
                                freelancerID: FreelancerID(freelancer.id),
                                minimumBudget: random.chance(0.5)
                                    ? Money(minorUnits: best * Int64(random.int(3...6)) / 10, currency: .eur) : nil,
                                currencies: currencies, wantedSkills: wanted,
                                maxConcurrentContracts: random.chance(0.5) ? random.int(1...3) : nil))),
                    expectedRejection: nil, effect: nil))
        }
        return commands
    }

    private func context(_ random: inout SeededRandom, _ actor: ActorRef, _ at: Date) -> CommandContext {
        CommandContext(commandID: CommandID(random.uuid()), actor: actor, occurredAt: at)
    }

    /// The experience a gig asks for and how it pays, drawn from a random stream of its own (so
    /// the rest of its lifecycle is the same as before gigs said either).
    static func terms(of gig: Gig, seed: UInt64) -> (experience: ExperienceLevel, engagement: Engagement) {
        var random = SeededRandom(seed: seed, stream: 500_000 + UInt64(gig.index))
        let experience: [ExperienceLevel] = [.any, .any, .entry, .intermediate, .intermediate, .expert]
        let level = experience[random.int(0...(experience.count - 1))]
        return (level, random.chance(0.3) ? .hourly(hours: random.int(10...120)) : .fixedPrice)
    }

    /// The lifecycle of gig `gig`, in business-time order.
    package func script(for gig: Gig) -> [PlannedCommand] {
        var random = SeededRandom(seed: config.seed, stream: 1_000 + UInt64(gig.index))
        let client = clients[gig.client]
        let clientActor = ActorRef.client(ClientID(client.id))
        let profile = skills[gig.skills[0]]
        let gigID = GigID(random.uuid())
        let week = Double(gig.week)
        let budget = Int64(Double(profile.basePrice) * (0.7 + 0.6 * random.unit()))
        let budgetMin = Money(minorUnits: budget * 6 / 10, currency: client.currency)
        let budgetMax = Money(minorUnits: budget, currency: client.currency)
        let deadline = gig.postedAt.addingTimeInterval(Double(random.int(3...10)) * 86_400)
        let terms = Self.terms(of: gig, seed: config.seed)
        var timeline: [(Date, PlannedCommand)] = []
        func add(_ at: Date, _ command: MarketplaceCommand, expect: String? = nil, effect: PlannedCommand.Effect? = nil)
        {
            timeline.append((at, PlannedCommand(command: command, expectedRejection: expect, effect: effect)))
        }
        func ctx(_ actor: ActorRef, _ at: Date) -> CommandContext {
            CommandContext(commandID: CommandID(random.uuid()), actor: actor, occurredAt: at)
        }

        add(
            gig.postedAt,
            .gig(
                .postGig(
                    .init(
                        context: ctx(clientActor, gig.postedAt), gigID: gigID, clientID: ClientID(client.id),
                        title:
                            "\(profile.niche ? "Specialist" : "Help") needed: \(profile.slug) project #\(gig.index + 1)",
                        description:
                            "Week \(gig.week + 1) gig in \(gig.skills.map { skills[$0].slug }.joined(separator: ", ")).",
                        skills: gig.skills.map { skills[$0].slug }, budgetMin: budgetMin, budgetMax: budgetMax,
                        biddingClosesAt: deadline, clientRegistered: true, experience: terms.experience,
                        engagement: terms.engagement))))

        // Bidders: crowded skills draw many, and more every week in a price war; niches few.
        let candidates = bySkill[gig.skills[0]]
        let crowding = profile.weight / skills[0].weight
        var meanBids = 1.2 + 11 * crowding
        if profile.priceWar { meanBids *= 1 + 0.08 * week }
        let bidCount = min(candidates.count, random.poisson(meanBids))
        var chosen = Set<Int>()
        while chosen.count < bidCount { chosen.insert(candidates[random.int(0...(candidates.count - 1))]) }
        // Price level relative to the budget: a price war drifts down, niches hold or rise.
        let level =
            profile.priceWar ? max(0.35, 0.88 - 0.035 * week) : profile.niche ? min(1.2, 0.93 + 0.012 * week) : 0.9
        let window = deadline.timeIntervalSince(gig.postedAt)
        struct LiveBid {
            let id: BidID
            let freelancer: Int
            var amount: Int64
            let at: Date
        }
        var live: [LiveBid] = []
        for freelancer in chosen.sorted() {
            let at = gig.postedAt.addingTimeInterval(window * 0.05 + window * 0.6 * random.unit())
            let actor = ActorRef.freelancer(FreelancerID(freelancers[freelancer].id))
            let amount = max(100, Int64(Double(budget) * level * (0.85 + 0.3 * random.unit())))
            let bid = BidID(random.uuid())
            add(
                at,
                .gig(
                    .placeBid(
                        .init(
                            context: ctx(actor, at), gigID: gigID, bidID: bid,
                            amount: Money(minorUnits: amount, currency: client.currency),
                            estimatedDays: random.int(3...30), bidderRegistered: true))))
            var entry = LiveBid(id: bid, freelancer: freelancer, amount: amount, at: at)
            if random.chance(0.12) {
                let revisedAt = at.addingTimeInterval(window * 0.05)
                entry.amount = amount * 95 / 100
                add(
                    revisedAt,
                    .gig(
                        .reviseBid(
                            .init(
                                context: ctx(actor, revisedAt), gigID: gigID, bidID: bid,
                                amount: Money(minorUnits: entry.amount, currency: client.currency),
                                estimatedDays: random.int(3...30)))))
            }
            if random.chance(0.02) {
                // A second live bid by the same freelancer: the rule must refuse it.
                let again = at.addingTimeInterval(window * 0.06)
                add(
                    again,
                    .gig(
                        .placeBid(
                            .init(
                                context: ctx(actor, again), gigID: gigID, bidID: BidID(random.uuid()),
                                amount: Money(minorUnits: amount, currency: client.currency), estimatedDays: 5,
                                bidderRegistered: true))),
                    expect: "DUPLICATE_BID")
            }
            let roll = random.unit()
            if roll < 0.05 {
                let withdrawnAt = at.addingTimeInterval(window * 0.1)
                add(withdrawnAt, .gig(.withdrawBid(.init(context: ctx(actor, withdrawnAt), gigID: gigID, bidID: bid))))
            } else if roll < 0.13 {
                let declinedAt = at.addingTimeInterval(window * 0.12)
                add(
                    declinedAt,
                    .gig(
                        .declineBid(
                            .init(
                                context: ctx(clientActor, declinedAt), gigID: gigID, bidID: bid,
                                reason: [.priceTooHigh, .timelineTooLong, .skillsMismatch][random.int(0...2)]))))
            } else {
                live.append(entry)
            }
        }

        let decisionAt = gig.postedAt.addingTimeInterval(window * 0.9)
        let outcome = random.unit()
        if live.isEmpty || outcome < 0.12 {
            let expireAt = deadline.addingTimeInterval(3600)
            add(
                expireAt,
                .gig(
                    .expireGig(
                        .init(
                            context: CommandContext(
                                commandID: CommandID(UUID(stableName: "expire-gig:\(gigID)")), actor: .system,
                                occurredAt: expireAt),
                            gigID: gigID))), effect: .gigClosed("expired"))
            return timeline.sorted { $0.0 < $1.0 }.map(\.1)
        }
        if outcome < 0.17 {
            add(
                decisionAt, .gig(.cancelGig(.init(context: ctx(clientActor, decisionAt), gigID: gigID))),
                effect: .gigClosed("cancelled"))
            return timeline.sorted { $0.0 < $1.0 }.map(\.1)
        }
        let sortedLive = live.sorted { $0.amount < $1.amount || ($0.amount == $1.amount && $0.id < $1.id) }
        var winner = random.chance(0.65) ? sortedLive[0] : sortedLive[random.int(0...(sortedLive.count - 1))]
        if let favoured = config.favouredCountry,
            let preferred = sortedLive.first(where: { freelancers[$0.freelancer].country == favoured })
        {
            // The planted bias: a client who prefers one country picks its cheapest bid.
            winner = preferred
        }
        let contractID = ContractID(random.uuid())
        add(
            decisionAt,
            .gig(
                .acceptBid(
                    .init(context: ctx(clientActor, decisionAt), gigID: gigID, bidID: winner.id, contractID: contractID)
                )),
            effect: .awarded)
        if candidates.count > chosen.count, random.chance(0.03) {
            // A late bid on the awarded gig: refused.
            let late = candidates.first { !chosen.contains($0) } ?? candidates[0]
            let lateAt = decisionAt.addingTimeInterval(window * 0.05)
            add(
                lateAt,
                .gig(
                    .placeBid(
                        .init(
                            context: ctx(.freelancer(FreelancerID(freelancers[late].id)), lateAt), gigID: gigID,
                            bidID: BidID(random.uuid()),
                            amount: Money(minorUnits: budget / 2, currency: client.currency),
                            estimatedDays: 5, bidderRegistered: true))),
                expect: "GIG_NOT_OPEN")
        }

        // The contract.
        let freelancerActor = ActorRef.freelancer(FreelancerID(freelancers[winner.freelancer].id))
        let price = Money(minorUnits: winner.amount, currency: client.currency)
        var t = decisionAt.addingTimeInterval(Double(random.int(2...12)) * 86_400)
        var ended = true
        if random.chance(0.04) {
            add(t, .contract(.cancelContract(.init(context: ctx(clientActor, t), contractID: contractID))))
        } else {
            var delivery = DeliveryID(random.uuid())
            add(
                t,
                .contract(
                    .submitDelivery(
                        .init(
                            context: ctx(freelancerActor, t), contractID: contractID, deliveryID: delivery,
                            note: "Delivered as agreed.", artifacts: ["s3://deliveries/\(contractID)/v1"]))))
            if random.chance(0.2) {
                t += 86_400
                add(
                    t,
                    .contract(
                        .requestChanges(
                            .init(
                                context: ctx(clientActor, t), contractID: contractID, deliveryID: delivery,
                                reason: "Please add tests."))))
                t += 2 * 86_400
                delivery = DeliveryID(random.uuid())
                add(
                    t,
                    .contract(
                        .submitDelivery(
                            .init(
                                context: ctx(freelancerActor, t), contractID: contractID, deliveryID: delivery,
                                note: "Revised.", artifacts: ["s3://deliveries/\(contractID)/v2"]))))
            }
            let ending = random.unit()
            if ending < 0.05 {
                t += 86_400
                let dispute = DisputeID(random.uuid())
                add(
                    t,
                    .contract(
                        .openDispute(
                            .init(
                                context: ctx(clientActor, t), contractID: contractID, disputeID: dispute,
                                reason: "Scope not met."))))
                t += 2 * 86_400
                let resolution: DisputeResolution = random.chance(0.6) ? .payFreelancer : .refundClient
                add(
                    t,
                    .contract(
                        .resolveDispute(
                            .init(
                                context: ctx(.admin("ops"), t), contractID: contractID, disputeID: dispute,
                                resolution: resolution, note: "Ruling after review."))),
                    effect: resolution == .payFreelancer ? .paid(price) : nil)
            } else if ending < 0.11 {
                // The client stays silent: the review-window timer approves.
                t += Double(ContractTerms.standard.reviewWindowDays) * 86_400 + 3600
                add(
                    t,
                    .contract(
                        .autoApproveDelivery(
                            .init(
                                context: CommandContext(
                                    commandID: CommandID(UUID(stableName: "auto-approve:\(delivery)")), actor: .system,
                                    occurredAt: t),
                                contractID: contractID, deliveryID: delivery))), effect: .paid(price))
            } else {
                t += Double(random.int(1...3)) * 86_400
                add(
                    t,
                    .contract(
                        .approveDelivery(
                            .init(context: ctx(clientActor, t), contractID: contractID, deliveryID: delivery))),
                    effect: .paid(price))
            }
            ended = true
        }
        if ended {
            if random.chance(0.75) {
                t += 86_400
                add(
                    t,
                    .contract(
                        .submitReview(
                            .init(
                                context: ctx(clientActor, t), contractID: contractID,
                                rating: random.chance(0.8) ? 5 : random.int(2...4), text: "Thanks."))))
            }
            if random.chance(0.6) {
                t += 86_400
                add(
                    t,
                    .contract(
                        .submitReview(
                            .init(
                                context: ctx(freelancerActor, t), contractID: contractID,
                                rating: random.chance(0.85) ? 5 : 4, text: "Good client."))))
            }
        }
        return timeline.sorted { $0.0 < $1.0 }.map(\.1)
    }
}
