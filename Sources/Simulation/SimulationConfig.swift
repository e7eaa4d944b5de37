import Foundation

/// What market to simulate.
package struct SimulationConfig: Sendable, Hashable, Codable {
    package var freelancers: Int
    package var clients: Int
    package var weeks: Int
    package var seed: UInt64
    /// Gigs each client posts per week, on average.
    package var gigsPerClientPerWeek: Double
    /// Concurrent writers (connections).
    package var workers: Int
    /// A planted bias for the fairness audit: when set, clients award a gig to a live bid of a
    /// freelancer from this country whenever there is one (nil: the market is fair).
    package var favouredCountry: String? = nil
    /// Monday 00:00 UTC of the last simulated ISO week: the calendar is anchored at its end, so
    /// that by default the simulated market ends in the current week.
    package var lastWeek: Date
    /// Business time of week 0 (a Monday, UTC): `weeks - 1` weeks before ``lastWeek``.
    package var start: Date { lastWeek.addingTimeInterval(-Double(max(0, weeks - 1)) * 7 * 86_400) }

    /// A market whose last week is the ISO week (UTC) holding `endingInWeekOf`: the current week
    /// by default. The seed fixes everything else, so the same seed in the same week gives the
    /// same log; pass a fixed date for the same log on any day.
    package init(
        freelancers: Int, clients: Int, weeks: Int, seed: UInt64, gigsPerClientPerWeek: Double = 0.6,
        workers: Int = 8, endingInWeekOf anchor: Date = Date()
    ) {
        self.freelancers = freelancers
        self.clients = clients
        self.weeks = weeks
        self.seed = seed
        self.gigsPerClientPerWeek = gigsPerClientPerWeek
        self.workers = workers
        self.lastWeek = Self.weekStart(of: anchor)
    }

    /// Monday 00:00 UTC of the ISO week holding `date`.
    package static func weekStart(of date: Date) -> Date {
        let days = (date.timeIntervalSince1970 / 86_400).rounded(.down)
        // 1970-01-01 was a Thursday: days since the Monday before it, modulo 7.
        let sinceMonday = (days + 3).truncatingRemainder(dividingBy: 7)
        return Date(timeIntervalSince1970: (days - (sinceMonday < 0 ? sinceMonday + 7 : sinceMonday)) * 86_400)
    }

    /// Named sizes: `small` (a demo market, seconds), `medium` (~100k events), `large` (≥ 1M events).
    package static func scale(_ name: String, seed: UInt64, endingInWeekOf anchor: Date = Date()) -> SimulationConfig? {
        switch name {
        case "tiny": SimulationConfig(freelancers: 40, clients: 10, weeks: 2, seed: seed, endingInWeekOf: anchor)
        case "small": SimulationConfig(freelancers: 400, clients: 100, weeks: 12, seed: seed, endingInWeekOf: anchor)
        case "medium": SimulationConfig(freelancers: 3_000, clients: 600, weeks: 16, seed: seed, endingInWeekOf: anchor)
        case "large":
            SimulationConfig(freelancers: 20_000, clients: 4_200, weeks: 26, seed: seed, endingInWeekOf: anchor)
        default: nil
        }
    }
}
