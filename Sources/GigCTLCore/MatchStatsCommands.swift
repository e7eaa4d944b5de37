import ArgumentParser
import EventStore
import Foundation
import Projections

struct MatchGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "match", abstract: "Show who fits a gig, which gigs fit a freelancer, and why.",
        discussion: """
            Scores come from the matching read model (run `gigctl projections run` first): skill \
            coverage (idf-weighted, times level/3), budget fit, availability, reputation, experience \
            fit and preference fit, each in 0…1, weighted (weights v2: 0.4, 0.15, 0.1, 0.15, 0.1, 0.1; \
            `explain` says each in words). One top-k slot is kept for the best \
            qualified newcomer (marked *) when no qualified newcomer made the top k. --json prints \
            the library's result (docs/JSON.md): scores to 4 decimals, ids lower-case, and the \
            `matching` checkpoint it reflects.
            """,
        subcommands: [MatchGig.self, MatchFreelancer.self, MatchExplain.self])
}

private func uuid(_ text: String, _ what: String) throws -> UUID {
    guard let id = UUID(uuidString: text) else {
        throw ValidationError("\(what) must be a UUID, e.g. 6f1c0e4e-7a55-4c1b-9d7e-1b2c3d4e5f60.")
    }
    return id
}

private func printMatches(
    _ result: Snapshot<[Matching.Match]>, json: Bool, by key: (Matching.Match) -> UUID, label: String
)
    throws
{
    if json {
        try Output.json(result)
        return
    }
    let matches = result.data
    Output.table(
        ["#", label, "SCORE", "SKILLS", "BUDGET", "AVAIL", "REPUTATION", "EXPERIENCE", "PREFS", "MISSING"],
        matches.enumerated().map { index, m in
            [
                "\(index + 1)\(m.viaNewcomerSlot ? "*" : "")", key(m).uuidString.lowercased(),
                String(format: "%.3f", m.score), String(format: "%.3f", m.coverage),
                String(format: "%.2f", m.budgetFit), String(format: "%.2f", m.availability),
                String(format: "%.3f", m.reputation), String(format: "%.2f", m.experienceFit),
                String(format: "%.2f", m.preferenceFit),
                m.missingSkills.isEmpty ? "-" : m.missingSkills.joined(separator: ","),
            ]
        })
    if matches.contains(where: \.viaNewcomerSlot) { Output.line("* kept for a qualified newcomer") }
}

struct MatchGig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gig", abstract: "List the best freelancers for a gig.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The gig's id.") var gig: String
    @Option(name: .shortAndLong, help: "How many.") var k: Int = 10
    func validate() throws {
        guard (1...1000).contains(k) else { throw ValidationError("-k must be 1…1000.") }
    }
    func run() async throws {
        try await runReportingErrors(json: global.json) {
            let id = try uuid(gig, "GIG")
            let matches = try await global.withReadPool(maxConnections: 1) {
                try await Matching(pool: $0).candidates(forGig: id, k: k)
            }
            try printMatches(matches, json: global.json, by: \.freelancerID, label: "FREELANCER")
        }
    }
}

struct MatchFreelancer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "freelancer", abstract: "List the open gigs that fit a freelancer best.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The freelancer's id.") var freelancer: String
    @Option(name: .shortAndLong, help: "How many.") var k: Int = 10
    func validate() throws {
        guard (1...1000).contains(k) else { throw ValidationError("-k must be 1…1000.") }
    }
    func run() async throws {
        try await runReportingErrors(json: global.json) {
            let id = try uuid(freelancer, "FREELANCER")
            let matches = try await global.withReadPool(maxConnections: 1) {
                try await Matching(pool: $0).feed(forFreelancer: id, k: k)
            }
            try printMatches(matches, json: global.json, by: \.gigID, label: "GIG")
        }
    }
}

struct MatchExplain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain", abstract: "Explain one freelancer's score for one gig, component by component.")
    @OptionGroup var global: GlobalOptions
    @Argument(help: "The gig's id.") var gig: String
    @Argument(help: "The freelancer's id.") var freelancer: String
    func run() async throws {
        try await runReportingErrors(json: global.json) {
            let (g, f) = (try uuid(gig, "GIG"), try uuid(freelancer, "FREELANCER"))
            guard
                let result = try await global.withReadPool(
                    maxConnections: 1, { try await Matching(pool: $0).explain(gig: g, freelancer: f) })
            else {
                throw CLIError(
                    .problemFound,
                    "No such gig or freelancer in the matching read model (is `gigctl projections run` up to date?).")
            }
            if global.json {
                try Output.json(result)
                return
            }
            let match = result.data
            Output.line(String(format: "score %.3f (weights v%d)", match.score, match.weightsVersion))
            for (label, value) in [
                ("skill coverage", match.coverage), ("budget fit", match.budgetFit),
                ("availability", match.availability), ("reputation", match.reputation),
                ("experience fit", match.experienceFit), ("preference fit", match.preferenceFit),
            ] {
                Output.line(
                    "  " + label.padding(toLength: 15, withPad: " ", startingAt: 0) + String(format: "%.3f", value))
            }
            Output.line("")
            for line in match.explanation ?? [] { Output.line(line) }
        }
    }
}

struct StatsGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Show competition, price trends and price wars from the read models.",
        discussion: """
            --json prints the library's results (docs/JSON.md): money in minor units with its \
            currency, ratios with fixed decimals, withheld values as null, and the checkpoints of \
            the projections read.
            """,
        subcommands: [StatsCompetition.self, StatsPrices.self, StatsPriceWars.self])
}

struct StatsCompetition: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "competition", abstract: "Show how crowded gigs and skills are.",
        discussion:
            "Per gig with --gig; else per skill and ISO week (the most recent --weeks weeks), optionally for one --skill, most demanded first. Medians below 5 bids are withheld."
    )
    @OptionGroup var global: GlobalOptions
    @Option(help: "One gig's id.") var gig: String?
    @Option(help: "One skill slug.") var skill: String?
    @Option(help: "How many recent weeks.") var weeks: Int = 4
    @Option(help: "At most this many skill-week rows.") var limit: Int = 200
    func validate() throws {
        guard (1...520).contains(weeks) else { throw ValidationError("--weeks must be 1…520.") }
        guard (1...1000).contains(limit) else { throw ValidationError("--limit must be 1…1000.") }
    }
    func run() async throws {
        try await runReportingErrors(json: global.json) {
            if let gig {
                let id = try uuid(gig, "--gig")
                guard
                    let result = try await global.withReadPool(
                        maxConnections: 1, { try await Competition(pool: $0).gig(id) })
                else {
                    throw CLIError(.problemFound, "No gig \(gig) in the competition read model.")
                }
                if global.json {
                    try Output.json(result)
                    return
                }
                let g = result.data
                func money(_ v: Double?) -> String {
                    v.map { String(format: "%.2f %@", $0 / 100, g.currency) } ?? "withheld (< 5 bids)"
                }
                Output.line(
                    "bids \(g.bidsTotal) (\(g.bidsLive) live, \(g.uniqueBidders) bidders, bucket \(g.bucket)), status \(g.status.rawValue)"
                )
                Output.line(
                    "min \(money(g.minBidMinor.map(Double.init)))  median \(money(g.medianBidMinor))  max \(money(g.maxBidMinor.map(Double.init)))"
                        + (g.medianToBudgetMax.map { String(format: "  median ÷ budget max %.2f", $0) } ?? ""))
                return
            }
            let result = try await global.withReadPool(maxConnections: 1) {
                try await Competition(pool: $0).skillWeeks(skill: skill, weeks: weeks, limit: limit)
            }
            if global.json {
                try Output.json(result)
                return
            }
            Output.table(
                [
                    "WEEK", "SKILL", "GIGS", "BIDS", "BIDS/GIG", "NO BIDS", "FILLED", "FILL", "SUPPLY",
                    "DEMAND/SUPPLY", "WIN RATE",
                ],
                result.data.map {
                    [
                        $0.isoWeek, $0.skill, String($0.gigsPosted), String($0.bids),
                        String(format: "%.1f", $0.bidsPerGig), String($0.gigsWithNoBids),
                        String($0.contractsStarted), String(format: "%.0f%%", $0.fillRate * 100), String($0.supply),
                        $0.demandToSupply.map { String(format: "%.2f", $0) } ?? "-",
                        $0.winRate.map { String(format: "%.0f%%", $0 * 100) } ?? "-",
                    ]
                })
            if result.nextCursor != nil { Output.line("(first \(limit) rows; --limit shows more)") }
        }
    }
}

struct StatsPrices: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prices", abstract: "Show a skill's weekly budget, bid and clearing prices, with a chart.",
        discussion:
            "Per currency (currencies never mix). The chart plots the weekly clearing median (█) against the bid median (·); then the rate guidance for a new gig (the p25–p75 clearing band of the last 8 weeks) and the trend (which needs 2 weeks with at least 5 clearing prices). --json prints the library's price overview of the skill."
    )
    @OptionGroup var global: GlobalOptions
    @Option(help: "The skill slug.") var skill: String
    @Option(help: "ISO 4217 currency (default: every currency with data).") var currency: String?

    func run() async throws {
        try await runReportingErrors(json: global.json) {
            let result = try await global.withReadPool(maxConnections: 1) {
                try await Prices(pool: $0).overview(skill: skill, currency: currency)
            }
            if global.json {
                try Output.json(result)
                return
            }
            let report = result.data
            let weeks = report.weeks
            if weeks.isEmpty {
                Output.line("No prices for \(skill) yet (unknown skill, or run `gigctl projections run`).")
                return
            }
            for code in Set(weeks.map(\.currency)).sorted() {
                let mine = weeks.filter { $0.currency == code }
                Output.line("\(skill) in \(code): weekly medians (minor units ÷ 100)")
                let top = mine.map(\.medianMinor).max() ?? 1
                for isoWeek in Array(Set(mine.map(\.isoWeek))).sorted() {
                    let clearing = mine.first { $0.isoWeek == isoWeek && $0.series == .clearing }
                    let bid = mine.first { $0.isoWeek == isoWeek && $0.series == .bid }
                    let width = 40
                    var bar = Array(repeating: Character(" "), count: width + 1)
                    if let clearing { for i in 0...Int(Double(width) * clearing.medianMinor / top) { bar[i] = "█" } }
                    if let bid { bar[Int(Double(width) * bid.medianMinor / top)] = "·" }
                    Output.line(
                        "  \(isoWeek) \(String(bar)) clearing "
                            + (clearing.map { String(format: "%8.2f (n %d)", $0.medianMinor / 100, $0.n) }
                                ?? "       -      ")
                            + (bid.map {
                                String(format: "  bid %8.2f  bid÷budget %.2f", $0.medianMinor / 100, $0.toBudgetMedian)
                            } ?? ""))
                }
                for band in report.rateGuidance where band.currency == code {
                    Output.line(
                        String(
                            format:
                                "  rate guidance (p25–p75 of the last 8 weeks' clearing prices, n %d): %.2f – %.2f %@",
                            band.n, band.p25Minor / 100, band.p75Minor / 100, code))
                }
                for trend in report.trends where trend.currency == code {
                    Output.line(
                        "  trend: "
                            + (trend.slopePctPerWeek.map { String(format: "%+.1f %%/week", $0) }
                                ?? "not enough weeks with n ≥ 5 clearing prices (\(trend.weeksUsed) of the 2 needed)")
                            + (trend.priceWar ? "  PRICE WAR: " + trend.reasons.joined(separator: "; ") : ""))
                }
            }
        }
    }
}

struct StatsPriceWars: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "price-wars", abstract: "List skills whose prices are collapsing, with the reasons.",
        discussion:
            "A price war: clearing prices falling ≥ 2 %/week (Theil–Sen over the last 8 weeks with n ≥ 5), bids under 75 % of budget, and bids per gig rising. Exits 0 either way."
    )
    @OptionGroup var global: GlobalOptions
    @Option(help: "At most this many.") var limit: Int = 500
    func validate() throws {
        guard (1...1000).contains(limit) else { throw ValidationError("--limit must be 1…1000.") }
    }
    func run() async throws {
        try await runReportingErrors(json: global.json) {
            let result = try await global.withReadPool(maxConnections: 1) {
                try await Prices(pool: $0).priceWars(limit: limit)
            }
            if global.json {
                try Output.json(result)
                return
            }
            if result.data.isEmpty {
                Output.line("No price war.")
                return
            }
            for war in result.data {
                Output.line("⚠ \(war.skill) (\(war.currency)): " + war.reasons.joined(separator: "; "))
            }
        }
    }
}
