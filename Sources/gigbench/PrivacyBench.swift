import EventStore
import Foundation
import GigLedger
import Marketplace
import PQ
import Projections

/// `gigbench privacy`: what crypto-shredding costs. The same commands (posting gigs with a title
/// and a description, and registering new freelancers, who each need a data key) run through
/// `MarketplaceService` with the vault sealing personal fields and with the benchmark-only
/// plaintext vault, each into a database of its own; then every shipped projection is rebuilt
/// from zero on each log. Prints a Markdown table with the ratios (sealed ÷ plain).
enum PrivacyBench {
    static func run(config base: ConnectionConfig, seconds: Double, writers: Int) async throws {
        let key = try MasterKey.configured()
        var rows: [(String, Double, Double)] = []
        var logs: [String: ConnectionPool] = [:]
        var rates: [String: (gigs: Double, freelancers: Double)] = [:]
        for mode in ["plain", "sealed"] {
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
                config: base.withDatabase("gigledger_bench_privacy_\(mode)"), maxConnections: writers + 2)
            _ = try await pool.withConnection { try await Migrator().migrate(on: $0) }
            let store = EventStore(pool: pool)
            let vault =
                mode == "sealed"
                ? PersonalDataVault(pool: pool, masterKey: key) : .unencryptedForBenchmarks(pool: pool)
            let service = MarketplaceService(store: store, vault: vault)
            // 20 clients per writer, registered first (their keys are then cached, as in a running service).
            let clients = (0..<(writers * 20)).map { _ in UUID().uuidString.lowercased() }
            for client in clients {
                try await service.execute(
                    try CommandInput(fields: [
                        "command": "RegisterClient", "actor": .string("client:\(client)"), "clientId": .string(client),
                        "name": "Clara Quill", "country": "DE",
                    ]).command())
            }
            let closes = ISO8601DateFormatter().string(from: Date().addingTimeInterval(7 * 86_400))
            let gigs = try await measure(writers: writers, seconds: seconds) { writer, n in
                let client = clients[writer * 20 + n % 20]
                try await service.execute(
                    try CommandInput(fields: [
                        "command": "PostGig", "actor": .string("client:\(client)"), "clientId": .string(client),
                        "title": "Fine-tune a sentiment classifier for support tickets",
                        "description": .string(
                            String(repeating: "Labelled data from our helpdesk, about 40k tickets. ", count: 4)),
                        "skills": ["nlp", "python"],
                        "budgetMin": .object(["currency": "EUR", "minorUnits": 100_000]),
                        "budgetMax": .object(["currency": "EUR", "minorUnits": 300_000]),
                        "biddingClosesAt": .string(closes),
                    ]).command())
            }
            let freelancers = try await measure(writers: writers, seconds: seconds) { _, _ in
                let id = UUID().uuidString.lowercased()
                try await service.execute(
                    try CommandInput(fields: [
                        "command": "RegisterFreelancer", "actor": .string("freelancer:\(id)"),
                        "freelancerId": .string(id), "name": "Freddie Zephyr",
                        "skills": .array([.object(["skill": "nlp", "level": .number(2)])]),
                        "hourlyRate": .object(["currency": "EUR", "minorUnits": 9_000]), "hoursPerWeek": 30,
                    ]).command())
            }
            rates[mode] = (gigs, freelancers)
            logs[mode] = pool
        }
        rows.append(
            ("PostGig (title + description; key cached), commands/s", rates["plain"]!.gigs, rates["sealed"]!.gigs))
        rows.append(
            (
                "RegisterFreelancer (a new data key each), commands/s", rates["plain"]!.freelancers,
                rates["sealed"]!.freelancers
            ))
        // Rebuild: every shipped projection from zero, on each log (projectors never open envelopes).
        var rebuild: [String: Double] = [:]
        var events: [String: Int64] = [:]
        for (mode, pool) in logs {
            let store = EventStore(pool: pool)
            events[mode] = try await pool.query("SELECT count(*) FROM ledger.events").scalar(Int64.self)
            let engine = ProjectionEngine(store: store, projectors: ShippedProjectors.all, owner: "bench-\(mode)")
            try await engine.prepare()
            let start = ContinuousClock.now
            _ = try await engine.catchUpAll()
            let elapsed = start.duration(to: .now)
            let secs = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            rebuild[mode] = Double(events[mode]!) / secs
        }
        rows.append(("Projections from zero (all shipped), events/s", rebuild["plain"]!, rebuild["sealed"]!))
        print("| workload (\(writers) writers, \(Int(seconds)) s each) | plaintext | sealed | sealed ÷ plaintext |")
        print("|---|---:|---:|---:|")
        for (name, plain, sealed) in rows {
            print("| \(name) | " + String(format: "%.0f | %.0f | %.2f |", plain, sealed, sealed / plain))
        }
        let plainBytes = try await logs["plain"]!.query(
            "SELECT avg(pg_column_size(data))::float8 FROM ledger.events WHERE event_type = 'GigPosted'"
        ).scalar(Double.self)
        let sealedBytes = try await logs["sealed"]!.query(
            "SELECT avg(pg_column_size(data))::float8 FROM ledger.events WHERE event_type = 'GigPosted'"
        ).scalar(Double.self)
        print(
            String(
                format: "\nGigPosted data: %.0f bytes plaintext, %.0f sealed (%.2f×).", plainBytes, sealedBytes,
                sealedBytes / plainBytes))
        for pool in logs.values { await pool.close() }
    }
}
