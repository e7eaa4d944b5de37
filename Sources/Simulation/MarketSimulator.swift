import EventStore
import Foundation
import GigLedger
import Marketplace
import Synchronization

/// What a simulation did.
package struct SimulationSummary: Sendable, Codable, Hashable {
    package var commands = 0
    package var events = 0
    package var streams = 0
    package var eventsByType: [String: Int] = [:]
    package var gigs = 0
    /// Gigs by how they ended: awarded, expired, cancelled.
    package var gigsByOutcome: [String: Int] = [:]
    /// Money paid to freelancers (gross, minor units) by currency.
    package var paid: [String: Int64] = [:]
    /// Commands refused by the rule they were meant to provoke.
    package var expectedRejections: [String: Int] = [:]
    /// Commands refused although they were meant to succeed (or refused by another rule): 0 in a
    /// healthy run; the first few messages are kept.
    package var unexpectedRejections = 0
    package var unexpectedMessages: [String] = []
    package var seconds = 0.0
}

/// Progress of a running simulation.
package struct SimulationProgress: Sendable {
    package let commandsDone: Int
    package let commandsPlanned: Int
    package let events: Int
    package let elapsed: Double
}

/// Generates a market through the real command path: every command is decided and appended by
/// ``MarketplaceService`` with expected versions (no SQL inserts into the log). Registrations go
/// first; then each gig's lifecycle runs on one worker, in business-time order, so every stream
/// is written in the same order on every run: the same seed gives the same log, stream by stream.
package final class MarketSimulator: Sendable {
    package let service: MarketplaceService
    package let plan: MarketPlan

    package init(service: MarketplaceService, config: SimulationConfig) {
        self.service = service
        self.plan = MarketPlan(config)
    }

    private final class Tally: Sendable {
        let summary = Mutex(SimulationSummary())
        let streams = Mutex(Set<String>())
        let done = Atomic<Int>(0)
    }

    package func run(progress: (@Sendable (SimulationProgress) -> Void)? = nil) async throws -> SimulationSummary {
        let started = ContinuousClock.now
        let tally = Tally()
        let registrations = plan.registrations()
        let preferences = plan.preferences()
        // Drawing every script once more is cheap next to running it, and makes progress exact.
        let planned = registrations.count + preferences.count + plan.gigs.reduce(0) { $0 + plan.script(for: $1).count }
        let workers = max(1, plan.config.workers)
        let reporter = Task {
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))
                let events = tally.summary.withLock { $0.events }
                progress?(
                    SimulationProgress(
                        commandsDone: tally.done.load(ordering: .relaxed), commandsPlanned: planned, events: events,
                        elapsed: Self.seconds(since: started)))
            }
        }
        defer { reporter.cancel() }

        // Registrations, then preferences (of registered freelancers only), each wave on every worker.
        for wave in [registrations, preferences] {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<workers {
                    group.addTask {
                        for (n, command) in wave.enumerated() where n % workers == worker {
                            try await self.execute(command, tally)
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<workers {
                group.addTask {
                    for gig in self.plan.gigs where gig.index % workers == worker {
                        for command in self.plan.script(for: gig) { try await self.execute(command, tally) }
                    }
                }
            }
            try await group.waitForAll()
        }
        var summary = tally.summary.withLock { $0 }
        summary.gigs = plan.gigs.count
        summary.streams = tally.streams.withLock { $0.count }
        summary.seconds = Self.seconds(since: started)
        progress?(
            SimulationProgress(
                commandsDone: summary.commands, commandsPlanned: summary.commands, events: summary.events,
                elapsed: summary.seconds))
        return summary
    }

    private func execute(_ planned: PlannedCommand, _ tally: Tally) async throws {
        defer { tally.done.add(1, ordering: .relaxed) }
        do {
            let outcome = try await service.execute(planned.command)
            tally.streams.withLock { streams in for event in outcome.events { streams.insert(event.stream) } }
            tally.summary.withLock { summary in
                summary.commands += 1
                if let expected = planned.expectedRejection {
                    summary.unexpectedRejections += 1
                    if summary.unexpectedMessages.count < 10 {
                        summary.unexpectedMessages.append("\(planned.command.name) succeeded, expected \(expected)")
                    }
                }
                if outcome.duplicate { return }
                summary.events += outcome.events.count
                for event in outcome.events { summary.eventsByType[event.type, default: 0] += 1 }
                switch planned.effect {
                case .paid(let money)?: summary.paid[money.currency.code, default: 0] += money.minorUnits
                case .gigClosed(let reason)?: summary.gigsByOutcome[reason, default: 0] += 1
                case .awarded?: summary.gigsByOutcome["awarded", default: 0] += 1
                case nil: break
                }
            }
        } catch {
            let refusal = error
            guard refusal.code == .rejected || refusal.code == .invalidCommand else { throw error }
            let code = refusal.stableCode
            let message = "\(planned.command.name): \(refusal.description)"
            tally.summary.withLock { summary in
                summary.commands += 1
                if let expected = planned.expectedRejection, expected == code {
                    summary.expectedRejections[expected, default: 0] += 1
                } else {
                    summary.unexpectedRejections += 1
                    if summary.unexpectedMessages.count < 10 { summary.unexpectedMessages.append(message) }
                }
            }
        }
    }

    static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = start.duration(to: .now)
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }
}
