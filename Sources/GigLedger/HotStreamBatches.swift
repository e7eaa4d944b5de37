import EventStore
import Foundation
import Marketplace
import Synchronization

/// Commands on a hot gig decided together: while one batch of a gig's commands holds the gig's
/// stream lock, the commands that arrive for that gig wait and form the next batch. A batch is
/// one locked transaction: the gig's stream is read once, each command is decided in turn on the
/// state the commands before it left (their events folded in memory), and the accepted commands
/// are appended with one `ledger.append_group` call, each with its own command id, expected
/// version and outcome. So bidders on one gig no longer take the lock one transaction each.
///
/// A command the batch cannot answer exactly as the ordinary path would — one that starts a
/// contract (two streams), needs a data key stored first, changes nothing, or whose append failed
/// in the group — is handed back (``Outcome/alone``) and runs on the ordinary locked path.
final class HotStreamBatches: Sendable {
    enum Outcome: Sendable {
        case done(CommandOutcome)
        case failed(CommandError)
        /// Not answered by the batch: the caller runs it on its own.
        case alone
    }

    struct Waiting: Sendable {
        let command: GigCommand
        let metadata: EventMetadata
        let continuation: CheckedContinuation<Outcome, Never>
    }

    /// The most commands in one batch.
    let maxCommands: Int
    /// Waiting commands by stream; a stream is present while its batches are being written.
    private let waiting = Mutex<[String: [Waiting]]>([:])

    init(maxCommands: Int = 32) { self.maxCommands = max(1, maxCommands) }

    /// Queues `command` on its gig's next batch and returns its outcome once that batch is done.
    func run(_ command: GigCommand, metadata: EventMetadata, on service: MarketplaceService) async -> Outcome {
        let stream = command.stream.name
        return await withCheckedContinuation { continuation in
            let entry = Waiting(command: command, metadata: metadata, continuation: continuation)
            let lead = waiting.withLock { waiting in
                if waiting[stream] != nil {
                    waiting[stream, default: []].append(entry)
                    return false
                }
                waiting[stream] = [entry]
                return true
            }
            if lead { Task { await self.lead(stream, service) } }
        }
    }

    /// Writes batches of the stream's waiting commands until none waits, then lets go of it.
    private func lead(_ stream: String, _ service: MarketplaceService) async {
        while true {
            let batch: [Waiting] = waiting.withLock { waiting in
                guard let queue = waiting[stream], !queue.isEmpty else {
                    waiting[stream] = nil
                    return []
                }
                let taken = Array(queue.prefix(maxCommands))
                waiting[stream] = Array(queue.dropFirst(taken.count))
                return taken
            }
            if batch.isEmpty { return }
            let outcomes = await service.decideTogether(batch.map { ($0.command, $0.metadata) })
            for (entry, outcome) in zip(batch, outcomes) { entry.continuation.resume(returning: outcome) }
        }
    }
}

extension MarketplaceService {
    /// One batch of commands on one gig (``HotStreamBatches``): decided in turn and appended
    /// together in one transaction holding the gig's stream lock. One outcome per command, in
    /// order.
    func decideTogether(_ batch: [(command: GigCommand, metadata: EventMetadata)]) async -> [HotStreamBatches.Outcome] {
        var outcomes = [HotStreamBatches.Outcome](repeating: .alone, count: batch.count)
        guard let first = batch.first, let stream = try? StreamName(validating: first.command.stream.name) else {
            return outcomes
        }
        // The gig as the batch leaves it, when every append of the batch stored its events.
        let after: (state: GigState, version: Int64)?
        do throws(CommandError) {
            (outcomes, after) = try await store.withStreamLock([stream]) {
                connection throws(CommandError) -> ([HotStreamBatches.Outcome], (GigState, Int64)?) in
                var outcomes = outcomes
                var accepted: [(index: Int, request: AppendRequest, plan: AppendPlan)] = []
                var state = GigDecider.initialState
                var version: Int64 = 0
                do {
                    (state, version) = try await self.load(GigDecider.self, first.command.stream, on: connection)
                    for (index, item) in batch.enumerated() {
                        let command = try await self.withFacts(item.command, on: connection)
                        let decision: GigDecision
                        do throws(DomainError) { decision = try GigDecider.decide(command, state) } catch {
                            outcomes[index] = .failed(CommandError.rejected(error))
                            continue
                        }
                        // Nothing to append (it had taken effect already): answered after the
                        // transaction, as the ordinary path answers it.
                        if decision.gigEvents.isEmpty && decision.startedContract == nil {
                            outcomes[index] = .done(
                                CommandOutcome(
                                    command: MarketplaceCommand.gig(item.command).name,
                                    commandId: item.metadata.commandId, events: [], duplicate: false, attempts: 1))
                            continue
                        }
                        // Two streams: the ordinary path answers it.
                        guard decision.startedContract == nil else { continue }
                        let plan = try await self.plan(
                            try decision.writes(in: self.registry), versions: [command.stream: version],
                            owners: Self.owners(of: command, in: state), at: command.context)
                        guard plan.prerequisites.isEmpty else { continue }
                        accepted.append(
                            (index, AppendRequest(metadata: item.metadata, streams: plan.streams), plan))
                        for event in decision.gigEvents { state = GigDecider.evolve(state, event) }
                        version += Int64(decision.gigEvents.count)
                    }
                } catch let error as CommandError {
                    throw error
                } catch let error as EventStoreError {
                    throw CommandError.store(error)
                } catch {
                    throw CommandError(.internalError, "Deciding a batch of commands on \(stream) failed: \(error).")
                }
                let results: [Result<AppendResult, EventStoreError>]
                do throws(EventStoreError) {
                    results = try await self.store.append(together: accepted.map(\.request), within: connection)
                } catch {
                    throw CommandError.store(error)
                }
                for (item, result) in zip(accepted, results) {
                    // A refused append (e.g. a repeated command id that broke the chain of
                    // versions) is decided again on its own.
                    guard case .success(let stored) = result else { continue }
                    outcomes[item.index] = .done(
                        CommandOutcome(
                            command: MarketplaceCommand.gig(batch[item.index].command).name,
                            commandId: item.request.commandId,
                            events: item.plan.describe(stored), duplicate: stored.duplicate, attempts: 1))
                }
                let allStored = results.allSatisfy { (try? $0.get().duplicate) == false }
                return (outcomes, allStored ? (state, version) : nil)
            }
            if let after {
                cache.put(Self.cacheKey(GigDecider.self, first.command.stream), after.state, version: after.version)
            }
        } catch {
            // Nothing of the batch is known to be stored: each command goes on its own (its
            // command id makes a repeat of one that did commit return its first result).
            logger.debug("a batch on a hot stream failed; its commands run alone", metadata: ["error": "\(error)"])
            return [HotStreamBatches.Outcome](repeating: .alone, count: batch.count)
        }
        // A repeat of a command that succeeded is answered with its first result, whether
        // deciding it again changed nothing or now broke a rule (its effect is there). Outside
        // the lock: the lookup takes a connection of its own.
        for (index, outcome) in outcomes.enumerated() {
            switch outcome {
            case .failed(let error) where !error.isStoreFailure: break
            case .done(let done) where done.events.isEmpty: break
            default: continue
            }
            do throws(CommandError) {
                if let earlier = try await firstResult(of: .gig(batch[index].command), attempts: 1) {
                    outcomes[index] = .done(earlier)
                }
            } catch {
                outcomes[index] = .failed(error)
            }
        }
        return outcomes
    }
}
