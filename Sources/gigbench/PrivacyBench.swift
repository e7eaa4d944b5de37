import EventStore
import Foundation
import GigLedger
import Marketplace
import PQ
import Projections

/// `gigbench privacy`: what crypto-shredding costs. The same commands (posting gigs with a title
/// and a description, and registering new freelancers, who each need a data key) run through
/// `MarketplaceService` with the vault sealing personal fields and with the benchmark-only
/// plaintext vault, each into a database of its own, alternating round by round; then every
/// shipped projection is rebuilt from zero on each log. Prints a Markdown table with the
/// ratios (sealed ÷ plain), every round's figures and the load average.
enum PrivacyBench {
    static let modes = ["plain", "sealed"]

    /// One side of the comparison: its own database, a service with the usual state cache and
    /// one without (every command folds its stream from the log, opening its envelopes).
    struct Side {
        let pool: ConnectionPool
        let service: MarketplaceService
        let uncached: MarketplaceService
        let clients: [String]
        let freelancers: [String]
    }

    static func run(config base: ConnectionConfig, seconds: Double, writers: Int, rounds: Int) async throws {
        let key = try MasterKey.configured()
        print("load average at start: \(loadAverage())")
        var sides: [String: Side] = [:]
        for mode in modes { sides[mode] = try await side(mode, base: base, key: key, writers: writers) }

        // The workloads alternate between the sides round by round (plain first, then sealed
        // first), so a change in the machine's load falls on both; the median round counts.
        var samples: [String: [String: [Double]]] = [:]
        func record(_ workload: String, _ mode: String, _ rate: Double) {
            samples[workload, default: [:]][mode, default: []].append(rate)
        }
        let closes = ISO8601DateFormatter().string(from: Date().addingTimeInterval(7 * 86_400))
        for round in 0..<rounds {
            for mode in round % 2 == 0 ? modes : modes.reversed() {
                let side = sides[mode]!
                record(
                    gigs, mode,
                    try await measure(writers: writers, seconds: seconds) { writer, n in
                        let client = side.clients[writer * 20 + n % 20]
                        try await side.service.execute(
                            try CommandInput(fields: [
                                "command": "PostGig", "actor": .string("client:\(client)"),
                                "clientId": .string(client),
                                "title": "Fine-tune a sentiment classifier for support tickets",
                                "description": .string(
                                    String(repeating: "Labelled data from our helpdesk, about 40k tickets. ", count: 4)),
                                "skills": ["nlp", "python"],
                                "budgetMin": .object(["currency": "EUR", "minorUnits": 100_000]),
                                "budgetMax": .object(["currency": "EUR", "minorUnits": 300_000]),
                                "biddingClosesAt": .string(closes),
                            ]).command())
                    })
                record(
                    registrations, mode,
                    try await measure(writers: writers, seconds: seconds) { _, _ in
                        try await side.service.execute(try registerFreelancer(UUID().uuidString.lowercased()))
                    })
                record(
                    rateChanges, mode,
                    try await measure(writers: writers, seconds: seconds) { writer, n in
                        let freelancer = side.freelancers[writer * 20 + n % 20]
                        try await side.uncached.execute(
                            try CommandInput(fields: [
                                "command": "ChangeRate", "actor": .string("freelancer:\(freelancer)"),
                                "freelancerId": .string(freelancer),
                                "hourlyRate": .object(["currency": "EUR", "minorUnits": .number(Double(9_000 + n % 7))]
                                ),
                            ]).command())
                    })
            }
        }
        // Rebuild: every shipped projection from zero on each side's log (projectors never open
        // envelopes), alternating as well.
        for round in 0..<max(2, rounds - 1) {
            for mode in round % 2 == 0 ? modes : modes.reversed() {
                let pool = sides[mode]!.pool
                let events = try await pool.query("SELECT count(*) FROM ledger.events").scalar(Int64.self)
                let engine = ProjectionEngine(
                    store: EventStore(pool: pool), projectors: ShippedProjectors.all, owner: "bench-\(mode)")
                let start = ContinuousClock.now
                _ = try await engine.rebuild(ShippedProjectors.all, restart: true)
                let elapsed = start.duration(to: .now)
                record(
                    rebuild, mode,
                    Double(events)
                        / (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
            }
        }

        print(
            "\n| workload (\(writers) writers, \(Int(seconds)) s a round, median of \(rounds) rounds) | plaintext | sealed | sealed ÷ plaintext |"
        )
        print("|---|---:|---:|---:|")
        for workload in [gigs, registrations, rateChanges, rebuild] {
            let plain = median(samples[workload]!["plain"]!)
            let sealed = median(samples[workload]!["sealed"]!)
            print("| \(workload) | " + String(format: "%.0f | %.0f | %.3f |", plain, sealed, sealed / plain))
        }
        let plainBytes = try await sides["plain"]!.pool.query(
            "SELECT avg(pg_column_size(data))::float8 FROM ledger.events WHERE event_type = 'GigPosted'"
        ).scalar(Double.self)
        let sealedBytes = try await sides["sealed"]!.pool.query(
            "SELECT avg(pg_column_size(data))::float8 FROM ledger.events WHERE event_type = 'GigPosted'"
        ).scalar(Double.self)
        print(
            String(
                format: "\nGigPosted data: %.0f bytes plaintext, %.0f sealed (%.2f×).", plainBytes, sealedBytes,
                sealedBytes / plainBytes))
        print("every round, plain then sealed or the reverse:")
        for workload in [gigs, registrations, rateChanges, rebuild] {
            let rounds = zip(samples[workload]!["plain"]!, samples[workload]!["sealed"]!)
                .map { String(format: "%.0f/%.0f", $0, $1) }
            print("  \(workload): \(rounds.joined(separator: ", "))")
        }
        print("load average at end: \(loadAverage())")
        for side in sides.values { await side.pool.close() }
    }

    static let gigs = "PostGig (title + description sealed; key and states cached), commands/s"
    static let registrations = "RegisterFreelancer (a new data key each), commands/s"
    static let rateChanges = "ChangeRate, no state cache (each fold opens the name), commands/s"
    static let rebuild = "Rebuild of every shipped projection from zero, events/s"

    /// A fresh database for `mode`, migrated, with 20 clients and 20 freelancers per writer.
    static func side(_ mode: String, base: ConnectionConfig, key: MasterKey, writers: Int) async throws -> Side {
        let admin = try await Connection.connect(base.withDatabase("postgres"))
        // Fixed statements (a database name cannot be a bound parameter).
        if mode == "plain" {
            try await admin.execute("DROP DATABASE IF EXISTS gigledger_bench_privacy_plain WITH (FORCE)")
            try await admin.execute("CREATE DATABASE gigledger_bench_privacy_plain")
        } else {
            try await admin.execute("DROP DATABASE IF EXISTS gigledger_bench_privacy_sealed WITH (FORCE)")
            try await admin.execute("CREATE DATABASE gigledger_bench_privacy_sealed")
        }
        await admin.close()
        let pool = ConnectionPool(
            config: base.withDatabase("gigledger_bench_privacy_\(mode)"), maxConnections: 2 * writers + 2)
        _ = try await pool.withConnection { try await Migrator().migrate(on: $0) }
        let store = EventStore(pool: pool)
        let vault =
            mode == "sealed" ? PersonalDataVault(pool: pool, masterKey: key) : .unencryptedForBenchmarks(pool: pool)
        let service = MarketplaceService(store: store, vault: vault)
        let clients = (0..<(writers * 20)).map { _ in UUID().uuidString.lowercased() }
        for client in clients {
            try await service.execute(
                try CommandInput(fields: [
                    "command": "RegisterClient", "actor": .string("client:\(client)"), "clientId": .string(client),
                    "name": "Clara Quill", "country": "DE",
                ]).command())
        }
        let freelancers = (0..<(writers * 20)).map { _ in UUID().uuidString.lowercased() }
        for freelancer in freelancers { try await service.execute(try registerFreelancer(freelancer)) }
        return Side(
            pool: pool, service: service, uncached: MarketplaceService(store: store, vault: vault, cachedStreams: 0),
            clients: clients, freelancers: freelancers)
    }

    static func registerFreelancer(_ id: String) throws -> MarketplaceCommand {
        try CommandInput(fields: [
            "command": "RegisterFreelancer", "actor": .string("freelancer:\(id)"), "freelancerId": .string(id),
            "name": "Freddie Zephyr", "skills": .array([.object(["skill": "nlp", "level": .number(2)])]),
            "hourlyRate": .object(["currency": "EUR", "minorUnits": 9_000]), "hoursPerWeek": 30,
        ]).command()
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
    }

    static func loadAverage() -> String {
        ((try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? "?").split(separator: " ").prefix(3)
            .joined(separator: " ")
    }
}
