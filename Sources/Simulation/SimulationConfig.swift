import Foundation

/// What market to simulate.
public struct SimulationConfig: Sendable, Hashable, Codable {
    public var freelancers: Int
    public var clients: Int
    public var weeks: Int
    public var seed: UInt64
    /// Gigs each client posts per week, on average.
    public var gigsPerClientPerWeek: Double
    /// Concurrent writers (connections).
    public var workers: Int
    /// Business time of week 0 (a Monday, UTC).
    public var start: Date

    public init(
        freelancers: Int, clients: Int, weeks: Int, seed: UInt64, gigsPerClientPerWeek: Double = 0.6,
        workers: Int = 8, start: Date = Date(timeIntervalSince1970: 1_767_571_200)
    ) {
        self.freelancers = freelancers
        self.clients = clients
        self.weeks = weeks
        self.seed = seed
        self.gigsPerClientPerWeek = gigsPerClientPerWeek
        self.workers = workers
        self.start = start
    }

    /// Named sizes: `small` (a demo market, seconds), `medium` (~100k events), `large` (≥ 1M events).
    public static func scale(_ name: String, seed: UInt64) -> SimulationConfig? {
        switch name {
        case "tiny": SimulationConfig(freelancers: 40, clients: 10, weeks: 2, seed: seed)
        case "small": SimulationConfig(freelancers: 400, clients: 100, weeks: 12, seed: seed)
        case "medium": SimulationConfig(freelancers: 3_000, clients: 600, weeks: 16, seed: seed)
        case "large": SimulationConfig(freelancers: 20_000, clients: 4_200, weeks: 26, seed: seed)
        default: nil
        }
    }
}
