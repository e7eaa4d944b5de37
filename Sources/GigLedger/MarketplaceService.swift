import EventStore
import Foundation
import Logging
import Marketplace
import PQ

/// Handles marketplace commands: load the stream, fold it, decide, append expecting the version
/// read; on a version conflict re-read and decide again (bounded). Idempotent by command id.
/// A stream's state as this service's last append left it is cached and trusted for the next
/// command (its append's expected version catches a state that fell behind the log).
public final class MarketplaceService: Sendable {
    /// The event store it reads streams from and appends to.
    public let store: EventStore
    /// How many times a command is decided before a conflict is reported.
    public let maxAttempts: Int
    /// Contract terms (review window, platform fee) given to newly accepted bids.
    public let contractTerms: ContractTerms
    /// Reads every event of the streams it folds (upcasting older schema versions) and stamps
    /// the events it appends with their current version.
    public let registry: EventRegistry
    /// Seals the personal fields of the events appended (one data key per subject) and opens
    /// them for time travel and for the fold that decides (``load(_:_:on:)``), where only the
    /// recognition of a repeated command with other details compares one.
    public let vault: PersonalDataVault
    let logger: Logger
    let cache: StateCache
    /// Commands on hot gigs, decided in batches (``HotStreamBatches``).
    let hotStreams = HotStreamBatches()

    /// `cachedStreams` bounds the in-memory cache of folded states (0 disables it).
    public init(
        store: EventStore, vault: PersonalDataVault, maxAttempts: Int = 12, contractTerms: ContractTerms = .standard,
        cachedStreams: Int = 10_000, registry: EventRegistry = .marketplace,
        logger: Logger = Logger(label: "gigledger.marketplace")
    ) {
        self.store = store
        self.vault = vault
        self.maxAttempts = max(1, maxAttempts)
        self.contractTerms = contractTerms
        self.registry = registry
        self.cache = StateCache(capacity: cachedStreams)
        self.logger = logger
    }

    /// A service whose vault wraps data keys with `masterKey` in the store's database.
    public convenience init(
        store: EventStore, masterKey: MasterKey, maxAttempts: Int = 12, contractTerms: ContractTerms = .standard,
        cachedStreams: Int = 10_000, registry: EventRegistry = .marketplace,
        logger: Logger = Logger(label: "gigledger.marketplace")
    ) {
        self.init(
            store: store, vault: PersonalDataVault(pool: store.pool, masterKey: masterKey), maxAttempts: maxAttempts,
            contractTerms: contractTerms, cachedStreams: cachedStreams, registry: registry, logger: logger)
    }

    /// Forgets `subject` (``PersonalDataVault/forget(_:reason:actor:at:)``) and then every state
    /// this service has cached: they were folded with the subject's fields opened, and the next
    /// command on each stream reads it again, the subject's fields as `"[erased]"`. (Other
    /// processes keep theirs until they evict them or exit: PRIVACY.md, "Limits".)
    public func forget(_ subject: DataSubject, reason: String, actor: ActorRef, at time: Date = Date())
        async throws(PrivacyError) -> ErasureOutcome
    {
        let outcome = try await vault.forget(subject, reason: reason, actor: actor, at: time)
        cache.removeAll()
        return outcome
    }

    /// Runs `command` to completion. Throws ``CommandError``; nothing is appended when it does.
    @discardableResult
    public func execute(_ command: MarketplaceCommand, correlationId: UUID? = nil, causationId: UUID? = nil)
        async throws(CommandError) -> CommandOutcome
    {
        do { return try await run(command, correlationId: correlationId, causationId: causationId) } catch {
            throw error.about(command)
        }
    }

    private func run(_ command: MarketplaceCommand, correlationId: UUID?, causationId: UUID?)
        async throws(CommandError) -> CommandOutcome
    {
        let context = command.context
        let metadata = EventMetadata(
            actor: context.actor.description, commandId: context.commandID.uuid,
            correlationId: correlationId, causationId: causationId)
        var attempt = 0
        // Lost a race: later attempts take turns on the stream's lock.
        var takeTurns = false
        // The first decision trusts a cached state without reading the stream (the append's
        // expected version catches one that fell behind); after such a miss it reads.
        var trustCache = true
        while true {
            attempt += 1
            if attempt == 1, case .gig(let gigCommand) = command, cache.isHot(command.stream.name) {
                // A gig others are writing to just now: decided in the gig's next batch, with
                // the commands that wait beside it, in one locked transaction.
                switch await hotStreams.run(gigCommand, metadata: metadata, on: self) {
                case .done(let outcome): return outcome
                case .failed(let error): throw error
                case .alone: break
                }
            }
            if takeTurns || cache.isHot(command.stream.name) {
                // Lost a race before (or others did on this stream just now): take a turn on the
                // stream's lock, then read, decide and append in that transaction, so a hot
                // stream serves its writers in order instead of letting them collide.
                let outcome = try await executeLocked(command, metadata: metadata, attempt: attempt)
                switch outcome {
                case .done(let result): return result
                case .keyRefused(let error) where attempt < maxAttempts:
                    logger.debug(
                        "a new data key was refused; deciding again with the stored one",
                        metadata: ["command.id": "\(context.commandID)", "error": "\(error)"])
                    continue
                case .conflict(let error) where attempt < maxAttempts:
                    cache.markHot(command.stream.name)
                    logger.debug(
                        "locked attempt conflicted",
                        metadata: ["command.id": "\(context.commandID)", "error": "\(error)"])
                    continue
                case .conflict(let error), .keyRefused(let error):
                    throw CommandError(
                        .conflict,
                        "\(command.name) on \(command.stream) conflicted with concurrent writers \(attempt) times and gave up; nothing was appended. Send it again with the same command id.",
                        cause: error)
                }
            }
            let plan: AppendPlan
            do {
                plan = try await planned(command, trustingCache: trustCache)
            } catch {
                // A repeat of a command that succeeded may now break a rule (its effect is there).
                if !error.isStoreFailure, let earlier = try await firstResult(of: command, attempts: attempt) {
                    return earlier
                }
                throw error
            }
            if plan.streams.isEmpty {
                if let earlier = try await firstResult(of: command, attempts: attempt) { return earlier }
                return CommandOutcome(
                    command: command.name, commandId: context.commandID.uuid, events: [], duplicate: false,
                    attempts: attempt)
            }
            do {
                let result = try await store.append(
                    AppendRequest(metadata: metadata, streams: plan.streams, prerequisites: plan.prerequisites))
                vault.stored(plan.newKeys)
                if !result.duplicate { plan.remember(in: cache) }
                return CommandOutcome(
                    command: command.name, commandId: context.commandID.uuid,
                    events: plan.describe(result), duplicate: result.duplicate, attempts: attempt)
            } catch  where error.code == .wrongExpectedVersion && attempt < maxAttempts {
                forgetIfStale(error)
                if plan.unverified {
                    // The cached state was behind the log (another process, or this one's locked
                    // path, appended since): read the stream and decide again.
                    trustCache = false
                    continue
                }
                // Someone else appended since we read: decide again, now in turn (above).
                cache.markHot(command.stream.name)
                takeTurns = true
                continue
            } catch  where attempt < maxAttempts && vault.refused(error) != nil {
                // Another writer stored a different data key for a subject first (or the subject
                // was forgotten): nothing was appended; decide again with what is stored.
                takeTurns = true
                continue
            } catch  where error.code == .wrongExpectedVersion {
                throw CommandError(
                    .conflict,
                    "\(command.name) on \(command.stream) conflicted with concurrent writers \(attempt) times and gave up; nothing was appended. Send it again with the same command id.",
                    cause: error)
            } catch {
                throw CommandError.store(error)
            }
        }
    }

    enum LockedOutcome {
        case done(CommandOutcome)
        case conflict(EventStoreError)
        /// A new data key the append stored first was refused (see ``PersonalDataVault/refused(_:)``).
        case keyRefused(EventStoreError)
    }

    /// One attempt holding the stream's lock: read, decide and append in one transaction.
    private func executeLocked(_ command: MarketplaceCommand, metadata: EventMetadata, attempt: Int)
        async throws(CommandError) -> LockedOutcome
    {
        let stream: StreamName
        do { stream = try StreamName(validating: command.stream.name) } catch { throw CommandError.store(error) }
        do throws(CommandError) {
            let (outcome, plan) = try await store.withStreamLock([stream]) {
                connection throws(CommandError) -> (LockedOutcome?, AppendPlan?) in
                let plan = try await self.planned(command, on: connection)
                // Nothing to append: answered after the transaction (the lookup of a first
                // result takes a connection of its own, which must not wait on this lock).
                if plan.streams.isEmpty { return (nil, nil) }
                let result: AppendResult
                do throws(EventStoreError) {
                    result = try await self.store.append(
                        AppendRequest(metadata: metadata, streams: plan.streams, prerequisites: plan.prerequisites),
                        within: connection)
                } catch {
                    // A conflict (`.conflict`, the store's error as cause) rolls the transaction back.
                    throw CommandError.store(error)
                }
                return (
                    .done(
                        CommandOutcome(
                            command: command.name, commandId: metadata.commandId,
                            events: plan.describe(result), duplicate: result.duplicate, attempts: attempt)),
                    plan
                )
            }
            // Committed: the new keys are stored, and the state the append left (unless it was a
            // repeat, whose events the log holds from before).
            if let plan {
                vault.stored(plan.newKeys)
                if case .done(let done)? = outcome, !done.duplicate { plan.remember(in: cache) }
            }
            guard let outcome else {
                return .done(
                    try await firstResult(of: command, attempts: attempt)
                        ?? CommandOutcome(
                            command: command.name, commandId: metadata.commandId, events: [], duplicate: false,
                            attempts: attempt))
            }
            return outcome
        } catch {
            if vault.refused(error) != nil, let refusal = error.cause as? EventStoreError {
                return .keyRefused(refusal)
            }
            if error.code == .conflict, let conflict = error.cause as? EventStoreError {
                forgetIfStale(conflict)
                if let earlier = try await firstResult(of: command, attempts: attempt) { return .done(earlier) }
                return .conflict(conflict)
            }
            if !error.isStoreFailure, let earlier = try await firstResult(of: command, attempts: attempt) {
                return .done(earlier)
            }
            throw error
        }
    }

    /// A stream never shrinks: a conflict that found fewer events than the version expected means
    /// the cached state comes from a history the server no longer has, so it is dropped and the
    /// next attempt reads the stream whole.
    func forgetIfStale(_ error: EventStoreError) {
        guard let conflict = error.conflict, case .exactly(let expected) = conflict.expected, conflict.actual < expected
        else { return }
        cache.forget(stream: conflict.stream.rawValue)
    }

    /// The stored result of `command`'s id, if it was appended before.
    func firstResult(of command: MarketplaceCommand, attempts: Int) async throws(CommandError)
        -> CommandOutcome?
    {
        let recorded: AppendResult?
        do { recorded = try await store.recordedResult(of: command.context.commandID.uuid) } catch {
            throw CommandError.store(error)
        }
        guard let recorded else { return nil }
        var appended: [CommandOutcome.Appended] = []
        do {
            for item in recorded.events {
                let type = try await store.readStream(item.stream, from: item.version, limit: 1).first?.type ?? "?"
                appended.append(
                    CommandOutcome.Appended(
                        stream: item.stream.rawValue, version: item.version, position: item.position, type: type))
            }
        } catch {
            throw CommandError.store(error)
        }
        return CommandOutcome(
            command: command.name, commandId: command.context.commandID.uuid, events: appended, duplicate: true,
            attempts: attempts)
    }

    // MARK: - Deciding

    /// The streams to append, with their expectations, and the event types in request order.
    struct AppendPlan {
        var streams: [StreamAppend] = []
        /// New data keys the events are sealed with (wrapped, by subject): stored first in the
        /// append's own transaction.
        var newKeys: [String: Data] = [:]
        /// Statements the append runs first (storing ``newKeys``).
        var prerequisites: [SQL] = []
        /// Decided on a cached state that was not checked against the log (``planned(_:on:trustingCache:)``).
        var unverified = false
        /// The command's own stream as the append leaves it: cached once it commits, so the
        /// stream's next command is decided without reading it back.
        var after: (key: String, state: any Sendable, version: Int64)?

        /// Caches ``after``; only for an append that stored this plan's events (not a duplicate).
        func remember(in cache: StateCache) {
            if let after { cache.put(after.key, after.state, version: after.version) }
        }

        /// Sets ``after`` and ``unverified`` from the state `loaded` and the `events` appended to it.
        mutating func folding<D: Decider>(
            _ decider: D.Type, _ stream: MarketplaceStream, _ loaded: Loaded<D.State>, _ events: [D.Event]
        ) {
            unverified = !loaded.verified
            after = (
                MarketplaceService.cacheKey(D.self, stream), D.fold(events, from: loaded.state),
                loaded.version + Int64(events.count)
            )
        }

        func describe(_ result: AppendResult) -> [CommandOutcome.Appended] {
            var types: [String: String] = [:]
            for group in streams {
                let before = result.version(of: group.stream).map { $0 - Int64(group.events.count) } ?? 0
                for (offset, event) in group.events.enumerated() {
                    types["\(group.stream.rawValue)#\(before + Int64(offset) + 1)"] = event.type
                }
            }
            return result.events.map {
                CommandOutcome.Appended(
                    stream: $0.stream.rawValue, version: $0.version, position: $0.position,
                    type: types["\($0.stream.rawValue)#\($0.version)"] ?? "?")
            }
        }
    }

    /// ``decide(_:on:)`` with every failure as a ``CommandError``: a rule's refusal is
    /// ``CommandError/Code/rejected`` (or ``CommandError/Code/invalidCommand``), a store failure
    /// ``CommandError/store(_:)``.
    ///
    /// `trustingCache` decides on a cached state without reading the stream first. Only an append
    /// is taken from such a decision (its expected version is checked by the store); a refusal or
    /// a decision to append nothing may come from a state that is behind, so those are decided
    /// again on the log.
    func planned(_ command: MarketplaceCommand, on connection: Connection? = nil, trustingCache: Bool = false)
        async throws(CommandError) -> AppendPlan
    {
        if trustingCache, let plan = try? await decide(command, on: connection, trustingCache: true),
            !plan.streams.isEmpty
        {
            return plan
        }
        do { return try await decide(command, on: connection) } catch {
            switch error {
            case let error as CommandError: throw error
            case let error as DomainError: throw CommandError.rejected(error)
            case let error as EventStoreError: throw CommandError.store(error)
            // Sealing personal fields: classified as the privacy error (a wrong key is exit 78).
            case let error as PrivacyError: throw CommandError(.internalError, error.message, cause: error)
            default: throw CommandError(.internalError, "Deciding \(command.name) failed: \(error).")
            }
        }
    }

    func decide(_ command: MarketplaceCommand, on connection: Connection? = nil, trustingCache: Bool = false)
        async throws -> AppendPlan
    {
        var appendPlan: AppendPlan
        switch command {
        case .freelancer(let command):
            let loaded = try await state(FreelancerDecider.self, command.stream, on: connection, trustingCache)
            let events = try FreelancerDecider.decide(command, loaded.state)
            appendPlan = try await plan(
                [StreamWrite(stream: command.stream, events: events, registry: registry)],
                versions: [command.stream: loaded.version],
                owners: [command.stream: [.freelancer(command.freelancerID)]], at: command.context)
            appendPlan.folding(FreelancerDecider.self, command.stream, loaded, events)
        case .client(let command):
            let loaded = try await state(ClientDecider.self, command.stream, on: connection, trustingCache)
            let events = try ClientDecider.decide(command, loaded.state)
            appendPlan = try await plan(
                [StreamWrite(stream: command.stream, events: events, registry: registry)],
                versions: [command.stream: loaded.version],
                owners: [command.stream: [.client(command.clientID)]], at: command.context)
            appendPlan.folding(ClientDecider.self, command.stream, loaded, events)
        case .gig(let command):
            let command = try await withFacts(command, on: connection)
            let loaded = try await state(GigDecider.self, command.stream, on: connection, trustingCache)
            let decision = try GigDecider.decide(command, loaded.state)
            appendPlan = try await plan(
                try decision.writes(in: registry), versions: [command.stream: loaded.version],
                owners: Self.owners(of: command, in: loaded.state), at: command.context)
            appendPlan.folding(GigDecider.self, command.stream, loaded, decision.gigEvents)
        case .contract(let command):
            let loaded = try await state(ContractDecider.self, command.stream, on: connection, trustingCache)
            let events = try ContractDecider.decide(command, loaded.state)
            // A contract's texts are about both parties: sealed for both (PersonalData.Field).
            let parties: [DataSubject] =
                loaded.state.contract.map { [.client($0.clientID), .freelancer($0.freelancerID)] } ?? []
            appendPlan = try await plan(
                [StreamWrite(stream: command.stream, events: events, registry: registry)],
                versions: [command.stream: loaded.version],
                owners: [command.stream: parties], at: command.context)
            appendPlan.folding(ContractDecider.self, command.stream, loaded, events)
        }
        return appendPlan
    }

    /// `command` with the facts from other aggregates it is decided on, read just before
    /// deciding. Registrations are never undone, so reading them outside the gig's append is safe.
    func withFacts(_ command: GigCommand, on connection: Connection?) async throws -> GigCommand {
        switch command {
        case .postGig(var post):
            post.clientRegistered = try await registered(ClientDecider.self, post.clientID.stream, on: connection) {
                $0.isRegistered
            }
            return .postGig(post)
        case .placeBid(var bid):
            if case .freelancer(let bidder) = bid.context.actor {
                bid.bidderRegistered = try await registered(FreelancerDecider.self, bidder.stream, on: connection) {
                    $0.isRegistered
                }
            }
            return .placeBid(bid)
        case .acceptBid(var accept):
            accept.terms = contractTerms
            return .acceptBid(accept)
        default:
            return command
        }
    }

    /// Whether `stream` holds a registration. A cached state that has seen one answers without a
    /// read: registrations are never undone, so it cannot be stale in that. Otherwise the stream
    /// is read (a registration may have landed since the state was cached).
    func registered<D: Decider>(
        _ decider: D.Type, _ stream: MarketplaceStream, on connection: Connection?, _ isRegistered: (D.State) -> Bool
    ) async throws -> Bool {
        if let (state, _) = cache.get(Self.cacheKey(D.self, stream), as: D.State.self), isRegistered(state) {
            return true
        }
        return isRegistered(try await load(D.self, stream, on: connection).state)
    }

    /// The key of `stream`'s state folded by `decider` in ``cache``.
    static func cacheKey<D: Decider>(_ decider: D.Type, _ stream: MarketplaceStream) -> String {
        "\(D.self)/\(stream.name)"
    }

    /// A stream's folded state and the version it was folded to (0: no stream); `verified` when
    /// the log was read up to that version just now.
    struct Loaded<State> {
        var state: State
        var version: Int64
        var verified: Bool
    }

    /// `stream`'s state: with `trustingCache`, a cached state as it is, without a read;
    /// otherwise ``load(_:_:on:)``.
    func state<D: Decider>(
        _ decider: D.Type, _ stream: MarketplaceStream, on connection: Connection?, _ trustingCache: Bool
    )
        async throws -> Loaded<D.State>
    {
        if trustingCache, let (state, version) = cache.get(Self.cacheKey(D.self, stream), as: D.State.self) {
            return Loaded(state: state, version: version, verified: false)
        }
        let (state, version) = try await load(D.self, stream, on: connection)
        return Loaded(state: state, version: version, verified: true)
    }

    /// Whose personal fields a gig command's events carry: the gig's client.
    static func owners(of command: GigCommand, in state: GigState) -> [MarketplaceStream: [DataSubject]] {
        if case .postGig(let post) = command { return [command.stream: [.client(post.clientID)]] }
        if let gig = state.gig { return [command.stream: [.client(gig.clientID)]] }
        return [:]
    }

    /// The append of `writes`, personal fields sealed for each stream's `owners`.
    func plan(
        _ writes: [StreamWrite], versions: [MarketplaceStream: Int64], owners: [MarketplaceStream: [DataSubject]],
        at context: CommandContext
    ) async throws -> AppendPlan {
        var plan = AppendPlan()
        for write in writes where !write.events.isEmpty {
            let expected: ExpectedVersion
            switch write.expectation {
            case .noStream:
                expected = .noStream
            case .versionAsRead:
                guard let version = versions[write.stream] else {
                    throw CommandError(
                        .internalError, "The decision writes to \(write.stream), which the handler did not read.")
                }
                expected = version == 0 ? .noStream : .exactly(version)
            }
            let streamOwners = owners[write.stream] ?? []
            // A subject whose own stream this append creates has no data key yet (presumed; the
            // append's prerequisite checks it): the vault makes one without reading first.
            let creating: Set<DataSubject> =
                expected == .noStream ? Set(streamOwners.filter { $0.stream == write.stream }) : []
            let sealed = try await vault.seal(write.events, owners: streamOwners, presumedNew: creating)
            plan.newKeys.merge(sealed.newKeys) { first, _ in first }
            let events = sealed.events.map {
                NewEvent(
                    type: $0.type, schemaVersion: $0.schemaVersion,
                    data: PGJSON(text: String(decoding: $0.data, as: UTF8.self)),
                    occurredAt: context.occurredAt)
            }
            plan.streams.append(
                StreamAppend(stream: try StreamName(validating: write.stream.name), expected: expected, events: events))
        }
        plan.prerequisites = vault.storeStatements(for: plan.newKeys)
        return plan
    }

    /// Reads a stream whole and folds it; returns the state and the version read (0: no stream).
    public func load<D: Decider>(_ decider: D.Type, _ stream: MarketplaceStream, on connection: Connection? = nil)
        async throws -> (state: D.State, version: Int64)
    {
        let name = try StreamName(validating: stream.name)
        let key = Self.cacheKey(D.self, stream)
        var (state, version) = cache.get(key, as: D.State.self) ?? (D.initialState, 0)
        defer { cache.put(key, state, version: version) }
        while true {
            let page = try await store.readStream(name, from: version + 1, limit: 1000, on: connection)
            // Personal fields are opened (keys cached) only for recognising a repeated command
            // with other details; no rule reads them, and an erased one reads as the placeholder.
            let encoded = page.map {
                EncodedEvent(type: $0.type, schemaVersion: $0.schemaVersion, data: $0.data.data)
            }
            let revealing = try await vault.revealing(encoded, in: registry)
            for recorded in page {
                do {
                    let event = try D.Event.decode(
                        type: recorded.type, schemaVersion: recorded.schemaVersion, data: recorded.data.data,
                        in: revealing)
                    state = D.evolve(state, event)
                } catch {
                    throw CommandError(
                        .corruptStream,
                        "Event \(recorded.position) (\(recorded.stream) v\(recorded.version), \(recorded.type)) cannot be read: \(error.message). The command was not run.",
                        domain: error)
                }
                version = recorded.version
            }
            if page.count < 1000 { return (state, version) }
        }
    }
}
