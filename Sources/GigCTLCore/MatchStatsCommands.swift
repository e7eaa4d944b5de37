import ArgumentParser
import EventStore
import Foundation
import PQ
import Projections

struct MatchGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "match", abstract: "Show who fits a gig, which gigs fit a freelancer, and why.",
        discussion: """
            Scores come from the matching read model (run `gigctl projections run` first): skill \
            coverage (idf-weighted, times level/3), budget fit, availability and reputation, each in \
            0…1, weighted (weights v1: 0.5, 0.2, 0.1, 0.2). One top-k slot is kept for a qualified \
            newcomer (marked *).
            """,
        subcommands: [MatchGig.self, MatchFreelancer.self, MatchExplain.self])
}

private func uuid(_ text: String, _ what: String) throws -> UUID {
    guard let id = UUID(uuidString: text) else {
        throw ValidationError("\(what) must be a UUID, e.g. 6f1c0e4e-7a55-4c1b-9d7e-1b2c3d4e5f60.")
    }
    return id
}

private func printMatches(_ matches: [Matching.Match], json: Bool, by key: (Matching.Match) -> UUID, label: String)
    throws
{
    if json {
        try Output.json(matches)
        return
    }
    Output.table(
        ["#", label, "SCORE", "SKILLS", "BUDGET", "AVAIL", "REPUTATION", "MISSING"],
        matches.enumerated().map { index, m in
            [
                "\(index + 1)\(m.viaNewcomerSlot ? "*" : "")", key(m).uuidString.lowercased(),
                String(format: "%.3f", m.score), String(format: "%.3f", m.coverage),
                String(format: "%.2f", m.budgetFit), String(format: "%.2f", m.availability),
                String(format: "%.3f", m.reputation),
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
                let match = try await global.withReadPool(
                    maxConnections: 1, { try await Matching(pool: $0).explain(gig: g, freelancer: f) })
            else {
                throw CLIError(
                    .problemFound,
                    "No such gig or freelancer in the matching read model (is `gigctl projections run` up to date?).")
            }
            if global.json {
                try Output.json(match)
                return
            }
            let w = Matching.Weights.v1
            Output.line(String(format: "score %.3f (weights v%d)", match.score, match.weightsVersion))
            Output.line(
                String(
                    format: "  skill coverage %.3f × %.1f   matched: %@   missing: %@", match.coverage, w.coverage,
                    match.matchedSkills.joined(separator: ", "),
                    match.missingSkills.isEmpty ? "none" : match.missingSkills.joined(separator: ", ")))
            Output.line(String(format: "  budget fit     %.3f × %.1f", match.budgetFit, w.budget))
            Output.line(String(format: "  availability   %.3f × %.1f", match.availability, w.availability))
            Output.line(
                String(
                    format: "  reputation     %.3f × %.1f%@", match.reputation, w.reputation,
                    match.newcomer ? "   (newcomer: at the prior)" : ""))
        }
    }
}

struct StatsGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats", abstract: "Show competition, price trends and price wars from the read models.",
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
    func run() async throws {
        try await runReportingErrors(json: global.json) {
            try await global.withReadPool(maxConnections: 1) { pool in
                if let gig {
                    let id = try uuid(gig, "--gig")
                    let rows = try await pool.query(
                        """
                        SELECT bids_total, bids_live, unique_bidders, first_bid_at, min_bid_minor, median_bid_minor::float8 AS median,
                               max_bid_minor, median_to_budget_max::float8 AS ratio, bucket, status, currency
                        FROM read_models.competition_gigs_v1 WHERE gig_id = \(id)
                        """)
                    guard let r = rows.first else {
                        throw CLIError(.problemFound, "No gig \(gig) in the competition read model.")
                    }
                    struct Gig: Encodable {
                        let bidsTotal, bidsLive, uniqueBidders: Int
                        let minBid: Int64?
                        let medianBid: Double?
                        let maxBid: Int64?
                        let medianToBudgetMax: Double?
                        let bucket, status, currency: String
                    }
                    let g = Gig(
                        bidsTotal: try r.decode(Int.self, "bids_total"), bidsLive: try r.decode(Int.self, "bids_live"),
                        uniqueBidders: try r.decode(Int.self, "unique_bidders"),
                        minBid: try r.decode(Int64?.self, "min_bid_minor"),
                        medianBid: try r.decode(Double?.self, "median"),
                        maxBid: try r.decode(Int64?.self, "max_bid_minor"),
                        medianToBudgetMax: try r.decode(Double?.self, "ratio"),
                        bucket: try r.decode(String.self, "bucket"), status: try r.decode(String.self, "status"),
                        currency: try r.decode(String.self, "currency"))
                    if global.json {
                        try Output.json(g)
                        return
                    }
                    func money(_ v: Double?) -> String {
                        v.map { String(format: "%.2f %@", $0 / 100, g.currency) } ?? "withheld (< 5 bids)"
                    }
                    Output.line(
                        "bids \(g.bidsTotal) (\(g.bidsLive) live, \(g.uniqueBidders) bidders, bucket \(g.bucket)), status \(g.status)"
                    )
                    Output.line(
                        "min \(money(g.minBid.map(Double.init)))  median \(money(g.medianBid))  max \(money(g.maxBid.map(Double.init)))"
                            + (g.medianToBudgetMax.map { String(format: "  median ÷ budget max %.2f", $0) } ?? ""))
                    return
                }
                let rows = try await pool.query(
                    """
                    WITH recent AS (SELECT DISTINCT week_start FROM read_models.competition_skill_weeks_v1 ORDER BY week_start DESC LIMIT \(weeks))
                    SELECT skill, iso_week, gigs_posted, bids, bids_per_gig::float8 AS bpg, gigs_with_no_bids, contracts_started,
                           fill_rate::float8 AS fill, supply, demand_to_supply::float8 AS dts, win_rate::float8 AS win
                    FROM read_models.competition_skill_weeks_v1
                    WHERE week_start IN (SELECT week_start FROM recent) AND (\(skill)::text IS NULL OR skill = \(skill))
                    ORDER BY week_start DESC, gigs_posted DESC, skill LIMIT 200
                    """)
                struct Week: Encodable {
                    let skill, isoWeek: String
                    let gigsPosted, bids: Int
                    let bidsPerGig: Double
                    let gigsWithNoBids, contractsStarted: Int
                    let fillRate: Double
                    let supply: Int
                    let demandToSupply, winRate: Double?
                }
                let weeksOut = try rows.rows.map { r in
                    Week(
                        skill: try r.decode(String.self, "skill"), isoWeek: try r.decode(String.self, "iso_week"),
                        gigsPosted: try r.decode(Int.self, "gigs_posted"),
                        bids: try r.decode(Int.self, "bids"), bidsPerGig: try r.decode(Double.self, "bpg"),
                        gigsWithNoBids: try r.decode(Int.self, "gigs_with_no_bids"),
                        contractsStarted: try r.decode(Int.self, "contracts_started"),
                        fillRate: try r.decode(Double.self, "fill"), supply: try r.decode(Int.self, "supply"),
                        demandToSupply: try r.decode(Double?.self, "dts"), winRate: try r.decode(Double?.self, "win"))
                }
                if global.json {
                    try Output.json(weeksOut)
                    return
                }
                Output.table(
                    [
                        "WEEK", "SKILL", "GIGS", "BIDS", "BIDS/GIG", "NO BIDS", "FILLED", "FILL", "SUPPLY",
                        "DEMAND/SUPPLY", "WIN RATE",
                    ],
                    weeksOut.map {
                        [
                            $0.isoWeek, $0.skill, String($0.gigsPosted), String($0.bids),
                            String(format: "%.1f", $0.bidsPerGig), String($0.gigsWithNoBids),
                            String($0.contractsStarted), String(format: "%.0f%%", $0.fillRate * 100), String($0.supply),
                            $0.demandToSupply.map { String(format: "%.2f", $0) } ?? "-",
                            $0.winRate.map { String(format: "%.0f%%", $0 * 100) } ?? "-",
                        ]
                    })
            }
        }
    }
}

struct StatsPrices: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prices", abstract: "Show a skill's weekly budget, bid and clearing prices, with a chart.",
        discussion:
            "Per currency (currencies never mix). The chart plots the weekly clearing median (█) against the bid median (·); then the rate guidance for a new gig (the p25–p75 clearing band of the last 8 weeks) and the trend."
    )
    @OptionGroup var global: GlobalOptions
    @Option(help: "The skill slug.") var skill: String
    @Option(help: "ISO 4217 currency (default: every currency with data).") var currency: String?
    func run() async throws {
        try await runReportingErrors(json: global.json) {
            try await global.withReadPool(maxConnections: 1) { pool in
                let rows = try await pool.query(
                    """
                    SELECT series, currency, iso_week, n, p10, p25, median, p75, p90, mean::float8 AS mean, to_budget_median::float8 AS ratio,
                           lowball_share::float8 AS lowball
                    FROM read_models.price_weeks_v1 WHERE skill = \(skill) AND (\(currency)::text IS NULL OR currency = \(currency))
                    ORDER BY currency, week_start, series
                    """)
                struct Week: Encodable {
                    let series, currency, isoWeek: String
                    let n: Int
                    let p10, p25, median, p75, p90, mean: Double
                    let toBudgetMedian: Double?
                    let lowballShare: Double?
                }
                let weeks = try rows.rows.map { r in
                    Week(
                        series: try r.decode(String.self, "series"), currency: try r.decode(String.self, "currency"),
                        isoWeek: try r.decode(String.self, "iso_week"),
                        n: try r.decode(Int.self, "n"), p10: try r.decode(Double.self, "p10"),
                        p25: try r.decode(Double.self, "p25"), median: try r.decode(Double.self, "median"),
                        p75: try r.decode(Double.self, "p75"), p90: try r.decode(Double.self, "p90"),
                        mean: try r.decode(Double.self, "mean"),
                        toBudgetMedian: try r.decode(Double?.self, "ratio"),
                        lowballShare: try r.decode(Double?.self, "lowball"))
                }
                let trends = try await pool.query(
                    """
                    SELECT currency, slope_pct_per_week::float8 AS slope, price_war, reasons FROM read_models.price_trends_v1 WHERE skill = \(skill)
                    """)
                let guidance = try await pool.query(
                    """
                    SELECT currency, n, p25, p75 FROM read_models.rate_guidance_v1 WHERE skill = \(skill)
                    """)
                if global.json {
                    try Output.json(weeks)
                    return
                }
                if weeks.isEmpty {
                    Output.line("No prices for \(skill) yet (unknown skill, or run `gigctl projections run`).")
                    return
                }
                for code in Set(weeks.map(\.currency)).sorted() {
                    let mine = weeks.filter { $0.currency == code }
                    Output.line("\(skill) in \(code): weekly medians (minor units ÷ 100)")
                    let top = mine.map(\.median).max() ?? 1
                    for isoWeek in Array(Set(mine.map(\.isoWeek))).sorted() {
                        let clearing = mine.first { $0.isoWeek == isoWeek && $0.series == "clearing" }
                        let bid = mine.first { $0.isoWeek == isoWeek && $0.series == "bid" }
                        let width = 40
                        var bar = Array(repeating: Character(" "), count: width + 1)
                        if let clearing { for i in 0...Int(Double(width) * clearing.median / top) { bar[i] = "█" } }
                        if let bid { bar[Int(Double(width) * bid.median / top)] = "·" }
                        Output.line(
                            "  \(isoWeek) \(String(bar)) clearing "
                                + (clearing.map { String(format: "%8.2f (n %d)", $0.median / 100, $0.n) }
                                    ?? "       -      ")
                                + (bid.map {
                                    String(
                                        format: "  bid %8.2f  bid÷budget %.2f", $0.median / 100, $0.toBudgetMedian ?? 0)
                                } ?? ""))
                    }
                    for row in guidance.rows where try row.decode(String.self, "currency") == code {
                        Output.line(
                            String(
                                format:
                                    "  rate guidance (p25–p75 of the last 8 weeks' clearing prices, n %d): %.2f – %.2f %@",
                                try row.decode(Int.self, "n"), try row.decode(Double.self, "p25") / 100,
                                try row.decode(Double.self, "p75") / 100, code))
                    }
                    for row in trends.rows where try row.decode(String.self, "currency") == code {
                        let slope = try row.decode(Double?.self, "slope")
                        Output.line(
                            "  trend: "
                                + (slope.map { String(format: "%+.1f %%/week", $0) } ?? "not enough weeks with n ≥ 5")
                                + (try row.decode(Bool?.self, "price_war") == true
                                    ? "  PRICE WAR: "
                                        + (try row.decode([String].self, "reasons")).joined(separator: "; ") : ""))
                    }
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
    func run() async throws {
        try await runReportingErrors(json: global.json) {
            try await global.withReadPool(maxConnections: 1) { pool in
                let rows = try await pool.query(
                    """
                    SELECT skill, currency, slope_pct_per_week::float8 AS slope, bid_to_budget_median::float8 AS ratio, reasons
                    FROM read_models.price_trends_v1 WHERE price_war ORDER BY slope_pct_per_week, skill, currency
                    """)
                struct War: Encodable {
                    let skill, currency: String
                    let slopePctPerWeek: Double
                    let bidToBudgetMedian: Double?
                    let reasons: [String]
                }
                let wars = try rows.rows.map { r in
                    War(
                        skill: try r.decode(String.self, "skill"), currency: try r.decode(String.self, "currency"),
                        slopePctPerWeek: try r.decode(Double.self, "slope"),
                        bidToBudgetMedian: try r.decode(Double?.self, "ratio"),
                        reasons: try r.decode([String].self, "reasons"))
                }
                if global.json {
                    try Output.json(wars)
                    return
                }
                if wars.isEmpty {
                    Output.line("No price war.")
                    return
                }
                for war in wars {
                    Output.line("⚠ \(war.skill) (\(war.currency)): " + war.reasons.joined(separator: "; "))
                }
            }
        }
    }
}
