import EventStore
import Foundation
import GigLedger
import Marketplace
import PQ
import Synchronization
import TestSupport
import Testing

/// PostgreSQL restarts (fast and immediate shutdown) while eight writers send commands: writers
/// reconnect with backoff and retry by command id; every acknowledged command is in the log
/// exactly once, and nothing else is.
///
/// Sizes: `GIGLEDGER_CHAOS_RESTARTS` restarts (default 4, alternating fast and immediate), with
/// `GIGLEDGER_CHAOS_COMMANDS_PER_RESTART` acknowledged commands between them (default 60).
/// `scripts/chaos` runs it larger.
@Suite("Database restarts under eight writers", .serialized)
struct DatabaseRestartTests {
    static let restarts = ProcessInfo.processInfo.environment["GIGLEDGER_CHAOS_RESTARTS"].flatMap(Int.init) ?? 4
    static let perRestart =
        ProcessInfo.processInfo.environment["GIGLEDGER_CHAOS_COMMANDS_PER_RESTART"].flatMap(Int.init) ?? 60

    /// `grouped`: the stores coalesce concurrent appends (``AppendGrouping``), so restarts also
    /// hit groups in flight: a group whose outcome is unknown is sent again command by command.
    @Test(arguments: [false, true])
    func everyAcknowledgedCommandIsInTheLogExactlyOnce(grouped: Bool) async throws {
        let cluster = try await ThrowawayCluster.start(grouped ? "restartgroup" : "restart")
        defer { cluster.destroy() }
        let pool = ConnectionPool(config: cluster.config, maxConnections: 8, acquireTimeout: .seconds(120))
        // Half the writers see every broken connection themselves (no retry inside the store), so
        // the writer's own retry by command id is exercised; the other half use the store's.
        let grouping = grouped ? AppendGrouping(maxCommands: 8, maxGroupsInFlight: 1) : nil
        let impatient = MarketplaceService(
            store: EventStore(pool: pool, reconnectAttempts: 0, grouping: grouping), masterKey: .forTests)
        let patient = MarketplaceService(store: EventStore(pool: pool, grouping: grouping), masterKey: .forTests)
        let shared = Shared()
        let startTimes = Mutex<Set<String>>([])
        func noteStart() async throws {
            let started = try await pool.query("SELECT pg_postmaster_start_time()::text").scalar(String.self)
            startTimes.withLock { _ = $0.insert(started) }
        }
        try await noteStart()

        try await withThrowingTaskGroup(of: Void.self) { group in
            for writer in 0..<8 {
                let service = writer < 4 ? impatient : patient
                group.addTask { try await Self.write(writer: writer, service: service, shared: shared) }
            }
            group.addTask {
                defer { shared.stop.store(true, ordering: .sequentiallyConsistent) }
                for round in 0..<Self.restarts {
                    try await Self.waitFor {
                        shared.tally.withLock { $0.acknowledged.count } >= (round + 1) * Self.perRestart
                            || shared.tally.withLock { !$0.unexpected.isEmpty }
                    }
                    try await cluster.restart(mode: round % 2 == 0 ? "fast" : "immediate")
                    shared.tally.withLock { $0.restarts += 1 }
                }
                try await Self.waitFor {
                    shared.tally.withLock { $0.acknowledged.count } >= (Self.restarts + 1) * Self.perRestart
                        || shared.tally.withLock { !$0.unexpected.isEmpty }
                }
            }
            try await group.waitForAll()
        }
        try await noteStart()

        let tally = shared.tally.withLock { $0 }
        #expect(tally.unexpected.isEmpty, "\(tally.unexpected.prefix(5))")
        #expect(tally.restarts == Self.restarts)
        #expect(startTimes.withLock { $0.count } == 2, "the server really restarted")
        #expect(tally.writerRetries > 0, "the restarts reached the writers")

        // The log: every acknowledged command id exactly once, with the events it reported.
        let rows = try await pool.query(
            """
            SELECT lower(metadata->>'commandId') AS command_id, count(*) AS events FROM ledger.events GROUP BY 1
            """)
        var logged: [String: Int] = [:]
        for row in rows.rows { logged[try row.decode(String.self, "command_id")] = try row.decode(Int.self, "events") }
        let acknowledged = tally.acknowledged
        #expect(logged.count == acknowledged.count, "distinct command ids in the log vs acknowledged commands")
        let missing = acknowledged.keys.filter { logged[$0] == nil }.count
        let extraOrDuplicated = logged.filter { entry in acknowledged[entry.key].map { $0 != entry.value } ?? true }
            .count
        #expect(missing == 0, "acknowledged commands missing from the log")
        #expect(
            extraOrDuplicated == 0,
            "command ids in the log that were not acknowledged, or with more events than reported")
        let commands = try await pool.query("SELECT count(*) FROM ledger.commands").scalar(Int.self)
        #expect(commands == acknowledged.count)

        // A command whose reply was lost is sent again by its id: the first result, nothing new.
        let eventsBefore = try await pool.query("SELECT count(*) FROM ledger.events").scalar(Int.self)
        for (index, sent) in tally.sent.prefix(100).enumerated() {
            let outcome = try await (index % 2 == 0 ? impatient : patient).execute(try sent.command())
            #expect(outcome.duplicate)
            #expect(outcome.events.count == acknowledged[sent.commandId.uuidString.lowercased()])
        }
        #expect(try await pool.query("SELECT count(*) FROM ledger.events").scalar(Int.self) == eventsBefore)
        await pool.close()
        Figures.record(
            grouped ? "db-restarts-grouped" : "db-restarts",
            [
                "restarts": tally.restarts, "writers": 8, "acknowledged": acknowledged.count,
                "distinctInLog": logged.count,
                "writerRetries": tally.writerRetries, "lostRepliesAnsweredByCommandId": tally.answeredAsDuplicate,
                "lost": missing, "duplicated": extraOrDuplicated,
            ])
    }

    final class Shared: Sendable {
        let tally = Mutex(Tally())
        let stop = Atomic<Bool>(false)
    }

    struct Tally: Sendable {
        var acknowledged: [String: Int] = [:]
        var sent: [SentCommand] = []
        var unexpected: [String] = []
        var writerRetries = 0
        var answeredAsDuplicate = 0
        var restarts = 0
    }

    struct SentCommand: Sendable {
        let commandId: UUID
        let fields: [String: JSONValue]
        func command() throws(CommandError) -> MarketplaceCommand {
            try CommandInput(fields: fields, now: DatabaseRestartTests.now).command()
        }
    }

    static let now = Date(timeIntervalSince1970: 1_795_000_000)

    /// One writer: registers a client and a freelancer, then posts gigs and bids on them until
    /// told to stop; every command is retried by its id, with backoff, until it is answered.
    static func write(writer: Int, service: MarketplaceService, shared: Shared) async throws {
        let client = UUID().uuidString.lowercased()
        let freelancer = UUID().uuidString.lowercased()
        func send(_ fields: [String: JSONValue]) async -> Bool {
            var fields = fields
            let commandId = UUID()
            fields["commandId"] = .string(commandId.uuidString)
            let sent = SentCommand(commandId: commandId, fields: fields)
            var delay = 20
            var conflicts = 0
            for _ in 0..<400 {
                do throws(CommandError) {
                    let outcome = try await service.execute(try sent.command())
                    let count = outcome.events.count
                    let duplicate = outcome.duplicate
                    shared.tally.withLock {
                        $0.acknowledged[commandId.uuidString.lowercased()] = count
                        $0.sent.append(sent)
                        if duplicate { $0.answeredAsDuplicate += 1 }
                    }
                    return true
                } catch {
                    let code = error.code
                    let description = error.description
                    if code == .conflict { conflicts += 1 }
                    guard code == .unavailable || (code == .conflict && conflicts < 10) else {
                        shared.tally.withLock { $0.unexpected.append("writer \(writer): \(description)") }
                        return false
                    }
                    shared.tally.withLock { $0.writerRetries += 1 }
                    try? await Task.sleep(for: .milliseconds(Int.random(in: delay / 2...delay)))
                    delay = min(delay * 2, 1_000)
                }
            }
            shared.tally.withLock { $0.unexpected.append("writer \(writer): gave up after 400 attempts") }
            return false
        }
        guard
            await send([
                "command": "RegisterClient", "actor": .string("client:\(client)"), "clientId": .string(client),
                "name": .string("Writer \(writer)"), "country": "DE", "paymentVerified": .bool(true),
            ]),
            await send([
                "command": "RegisterFreelancer", "actor": .string("freelancer:\(freelancer)"),
                "freelancerId": .string(freelancer),
                "name": .string("Bidder \(writer)"), "skills": [.object(["skill": "nlp", "level": 3])],
                "hourlyRate": .object(["currency": "EUR", "minorUnits": 9_000]), "hoursPerWeek": 30,
            ])
        else { return }
        while !shared.stop.load(ordering: .sequentiallyConsistent) {
            let gig = UUID().uuidString.lowercased()
            guard
                await send([
                    "command": "PostGig", "actor": .string("client:\(client)"), "gigId": .string(gig),
                    "clientId": .string(client),
                    "title": "Label a corpus", "skills": ["nlp"],
                    "budgetMin": .object(["currency": "EUR", "minorUnits": 100_000]),
                    "budgetMax": .object(["currency": "EUR", "minorUnits": 300_000]),
                    "biddingClosesAt": "2026-12-31T00:00:00Z",
                ]),
                await send([
                    "command": "PlaceBid", "actor": .string("freelancer:\(freelancer)"), "gigId": .string(gig),
                    "bidId": .string(UUID().uuidString), "amount": .object(["currency": "EUR", "minorUnits": 200_000]),
                    "estimatedDays": 10,
                ])
            else { return }
        }
    }

    static func waitFor(_ condition: () -> Bool) async throws {
        while !condition() { try await Task.sleep(for: .milliseconds(10)) }
    }
}
