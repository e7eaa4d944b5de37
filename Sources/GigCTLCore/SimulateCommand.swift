import ArgumentParser
import EventStore
import Foundation
import GigLedger
import PQ
import Simulation
import Synchronization

struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
        abstract: "Generate a realistic marketplace through the real command path.",
        discussion: """
            Every command is decided and appended by the same code as `gigctl bid place` & co. \
            (no SQL inserts into the log), with business time spread over the weeks. The same \
            --seed gives the same market, stream by stream. Skills follow a long tail: python, \
            web and writing are crowded and fall into a price war (more bidders and lower bids \
            week after week), AI niches (explainable-ai, edge-ai, ai-ethics, …) are rarer and \
            better paid. The whole lifecycle appears: revisions, withdrawals, declines, awards, \
            deliveries, change requests, approvals and payments, disputes, cancellations, reviews, \
            expiries — and a few commands meant to be refused (duplicate or late bids).

            The calendar ends in the current ISO week (UTC): the last simulated week of postings \
            is this week, and the lifecycles of its gigs (awards, deliveries, reviews) run on into \
            the weeks after it as scheduled business time. The same --seed in the same week gives \
            the same log; --end-week DATE anchors the calendar to the week holding DATE instead, \
            for the same log on any day.

            Scales: tiny (seconds), small (a demo, under a minute), medium (~100k events), \
            large (≥ 1M events; minutes). Explicit --freelancers/--clients/--weeks override.

            Examples:
              gigctl simulate --scale small --seed 7
              gigctl simulate --freelancers 500 --clients 120 --weeks 10 --seed 1 --json
              gigctl simulate --scale tiny --seed 3 --end-week 2026-03-02
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: "tiny, small, medium or large.") var scale: String = "small"
    @Option(help: "Number of freelancers.") var freelancers: Int?
    @Option(help: "Number of clients.") var clients: Int?
    @Option(help: "Weeks of business time.") var weeks: Int?
    @Option(help: "Random seed: the same seed gives the same market.") var seed: UInt64 = 1
    @Option(help: "Concurrent writers (database connections).") var workers: Int = 8
    @Flag(
        help: ArgumentHelp(
            "Coalesce the writers' concurrent appends into group transactions (one commit for up to 32 commands, each with its own outcome).",
            discussion:
                "Worth it with several writers, most with many (--workers 64: the medium market in about half the time of 8 ungrouped writers, BENCHMARKS.md)."
        ))
    var groupAppends = false
    @Option(
        help: ArgumentHelp(
            "End the calendar in the ISO week holding this day (YYYY-MM-DD, UTC) instead of the current week.",
            valueName: "date")
    )
    var endWeek: String?
    @Option(
        help: ArgumentHelp(
            "Plant a bias for `gigctl audit matching` to find: clients award gigs to freelancers of this country (ISO 3166-1 alpha-2) whenever one bid.",
            valueName: "code"))
    var favourCountry: String?

    /// `--end-week` as a time, or nil when absent.
    func anchor() throws -> Date? {
        guard let endWeek else { return nil }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        guard let date = formatter.date(from: endWeek) else {
            throw ValidationError("--end-week \(endWeek) is not a day such as 2026-03-02.")
        }
        return date
    }

    func validate() throws {
        guard SimulationConfig.scale(scale, seed: 0) != nil else {
            throw ValidationError("--scale must be tiny, small, medium or large, not \(scale).")
        }
        for (flag, value) in [("--freelancers", freelancers), ("--clients", clients), ("--weeks", weeks)] {
            if let value, value < 1 || value > 1_000_000 {
                throw ValidationError("\(flag) must be between 1 and 1000000.")
            }
        }
        guard (1...64).contains(workers) else { throw ValidationError("--workers must be between 1 and 64.") }
        _ = try anchor()
    }

    func run() async throws {
        try await runReportingErrors(json: global.json) {
            guard var config = SimulationConfig.scale(scale, seed: seed, endingInWeekOf: try anchor() ?? Date()) else {
                throw CLIError(.usage, "unknown scale \(scale)")
            }
            if let freelancers { config.freelancers = freelancers }
            if let clients { config.clients = clients }
            if let weeks { config.weeks = weeks }
            config.workers = workers
            config.favouredCountry = favourCountry
            let json = global.json
            let terminal = isatty(STDERR_FILENO) == 1
            let summary = try await global.withPool(maxConnections: workers + 1) { pool in
                _ = try await pool.withConnection { try await Migrator(logger: global.logger).migrate(on: $0) }
                // Room in the state cache for every party (each one's registration is checked
                // by the commands that follow it) besides the gigs and contracts in flight.
                let service = try await global.service(
                    pool, cachedStreams: config.freelancers + config.clients + 10_000,
                    grouping: groupAppends ? AppendGrouping() : nil)
                let simulator = MarketSimulator(service: service, config: config)
                if !json {
                    Output.error(
                        "Simulating \(config.freelancers) freelancers, \(config.clients) clients, \(config.weeks) weeks, \(simulator.plan.gigs.count) gigs (seed \(config.seed)) ..."
                    )
                }
                let printer = ProgressPrinter(terminal: terminal, quiet: json)
                let summary = try await simulator.run { printer.show($0) }
                printer.finish()
                return summary
            }
            if json {
                try Output.json(summary)
                return
            }
            Output.line(
                String(
                    format: "%d events in %d streams from %d commands in %.1f s (%.0f events/s).",
                    summary.events, summary.streams, summary.commands, summary.seconds,
                    Double(summary.events) / max(summary.seconds, 0.001)))
            Output.line(
                "Gigs: \(summary.gigs) — "
                    + summary.gigsByOutcome.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(
                        separator: ", "))
            Output.line(
                "Paid to freelancers (gross): "
                    + summary.paid.sorted { $0.key < $1.key }
                    .map { String(format: "%@ %.2f", $0.key, Double($0.value) / 100) }.joined(separator: ", "))
            Output.line(
                "Refused as intended: "
                    + (summary.expectedRejections.isEmpty
                        ? "none"
                        : summary.expectedRejections.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(
                            separator: ", ")))
            if summary.unexpectedRejections > 0 {
                Output.line(
                    "Refused unexpectedly: \(summary.unexpectedRejections) (first: \(summary.unexpectedMessages.first ?? "-"))"
                )
            }
            Output.line("Events by type:")
            for (type, count) in summary.eventsByType.sorted(by: { $0.value > $1.value }) {
                Output.line("  " + type.padding(toLength: 22, withPad: " ", startingAt: 0) + String(count))
            }
            if summary.unexpectedRejections > 0 {
                throw CLIError(.problemFound, "\(summary.unexpectedRejections) command(s) were refused unexpectedly.")
            }
        }
    }
}

/// A progress bar on a terminal (events, events/s, ETA), plain lines every 5 s otherwise.
final class ProgressPrinter: Sendable {
    let terminal: Bool
    let quiet: Bool
    private let lastLine = Mutex<Double>(-5)

    init(terminal: Bool, quiet: Bool) {
        self.terminal = terminal
        self.quiet = quiet
    }

    func show(_ progress: SimulationProgress) {
        show(
            done: Int64(progress.commandsDone), of: Int64(progress.commandsPlanned), events: Int64(progress.events),
            elapsed: progress.elapsed)
    }

    /// `done` of `total` units (the fraction and ETA), `events` so far (the count and rate; `unit`
    /// names what is counted).
    func show(
        _ label: String = "", done: Int64, of total: Int64, events: Int64, elapsed: Double, unit: String = "events"
    ) {
        guard !quiet else { return }
        let fraction = min(1, Double(done) / Double(max(1, total)))
        let rate = Double(events) / max(elapsed, 0.001)
        let eta = fraction > 0.01 ? elapsed * (1 - fraction) / fraction : 0
        let prefix = label.isEmpty ? "" : label + " "
        if terminal {
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            Output.errorNoNewline(
                String(
                    format: "\r%@%@ %3.0f%%  %lld %@  %.0f/s  ETA %@   ", prefix, bar, fraction * 100, events, unit,
                    rate, Self.clock(eta)))
        } else {
            let due = lastLine.withLock { last -> Bool in
                guard elapsed - last >= 5 else { return false }
                last = elapsed
                return true
            }
            if due {
                Output.error(
                    String(
                        format: "%@%3.0f%% %lld %@, %.0f %@/s, ETA %@", prefix, fraction * 100, events, unit, rate,
                        unit,
                        Self.clock(eta)))
            }
        }
    }

    /// Starts the next task's line (a bar redraws in place).
    func reset() {
        lastLine.withLock { $0 = -5 }
    }

    func finish() { if terminal && !quiet { Output.error("") } }

    static func clock(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 60 ? "\(s / 60)m\(String(format: "%02d", s % 60))s" : "\(s)s"
    }
}
