import EventStore
import Foundation
import GigLedger
import Marketplace
import PQ
import Projections
import Synchronization

/// `gigbench projections`: matching query latency over a large market, and projector lag from
/// append to visible read model at a steady command rate.
enum ProjectionBench {
    static func percentile(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        return sorted[min(sorted.count - 1, Int((p * Double(sorted.count)).rounded(.up)) - 1)]
    }

    static func run(config base: ConnectionConfig, freelancers: Int, gigs: Int, rate: Int, seconds: Int) async throws {
        let admin = try await Connection.connect(base.withDatabase("postgres"))
        try await admin.execute("DROP DATABASE IF EXISTS gigledger_bench_projections WITH (FORCE)")
        try await admin.execute("CREATE DATABASE gigledger_bench_projections")
        await admin.close()
        let pool = ConnectionPool(config: base.withDatabase("gigledger_bench_projections"), maxConnections: 10)
        _ = try await pool.withConnection { try await Migrator().migrate(on: $0) }
        let store = EventStore(pool: pool)
        let service = MarketplaceService(store: store, cachedStreams: 0)
        func run(_ fields: [String: JSONValue]) async throws { try await service.execute(try CommandInput(fields: fields).command()) }

        // The market: freelancers with 1–3 skills (long tail), open gigs with 1–2 skills.
        let slugs = ["python", "web", "writing", "data-labeling", "data-science", "machine-learning", "prompt-engineering", "generative-ai",
                     "design", "seo", "nlp", "computer-vision", "mlops", "llm-fine-tuning", "edge-ai", "explainable-ai", "ai-ethics"]
        var random = SystemRandomNumberGenerator()
        func skill() -> String { slugs[min(slugs.count - 1, Int(Double(slugs.count) * pow(Double.random(in: 0..<1, using: &random), 2)))] }
        let client = UUID().uuidString.lowercased()
        try await run(["command": "RegisterClient", "actor": .string("client:\(client)"), "clientId": .string(client), "name": "Bench", "country": "DE"])
        let started = ContinuousClock.now
        let freelancerIDs = (0..<freelancers).map { _ in UUID().uuidString.lowercased() }
        let skillSets = freelancerIDs.map { _ in Array(Set((0..<Int.random(in: 1...3)).map { _ in skill() })) }
        let gigIDs = (0..<gigs).map { _ in UUID().uuidString.lowercased() }
        let gigSkills = gigIDs.map { _ in Array(Set((0..<Int.random(in: 1...2)).map { _ in skill() })) }
        let closes = JSONValue.string(ISO8601DateFormatter().string(from: Date().addingTimeInterval(60 * 86_400)))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    for i in stride(from: worker, to: freelancers, by: 8) {
                        try await run(["command": "RegisterFreelancer", "actor": .string("freelancer:\(freelancerIDs[i])"), "freelancerId": .string(freelancerIDs[i]),
                                       "name": "F", "skills": .array(skillSets[i].map { ["skill": .string($0), "level": .number(Double(1 + i % 3))] }),
                                       "hourlyRate": ["currency": "EUR", "minorUnits": .number(Double(3_000 + (i * 37) % 9_000))], "hoursPerWeek": .number(Double(10 + i % 30))])
                    }
                    for i in stride(from: worker, to: gigs, by: 8) {
                        try await run(["command": "PostGig", "actor": .string("client:\(client)"), "clientId": .string(client), "gigId": .string(gigIDs[i]),
                                       "title": "Gig", "skills": .array(gigSkills[i].map { .string($0) }),
                                       "budgetMin": ["currency": "EUR", "minorUnits": 100_000], "budgetMax": ["currency": "EUR", "minorUnits": .number(Double(150_000 + (i * 53) % 300_000))],
                                       "biddingClosesAt": closes])
                    }
                }
            }
            try await group.waitForAll()
        }
        FileHandle.standardError.write(Data("market of \(freelancers) freelancers and \(gigs) open gigs appended in \(started.duration(to: .now))\n".utf8))
        let engine = ProjectionEngine(store: store, projectors: ShippedProjectors.all, batchSize: 2_000)
        try await engine.prepare()
        let projecting = ContinuousClock.now
        try await engine.catchUpAll()
        try await engine.releaseLeases()
        FileHandle.standardError.write(Data("projectors caught up in \(projecting.duration(to: .now))\n".utf8))
        try await pool.query("ANALYZE")

        // Matching latency.
        let matching = Matching(pool: pool)
        var gigTimes: [Double] = []
        var feedTimes: [Double] = []
        func millis(_ since: ContinuousClock.Instant) -> Double {
            let d = since.duration(to: .now)
            return Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
        }
        for n in 0..<200 {
            let t = ContinuousClock.now
            _ = try await matching.candidates(forGig: UUID(uuidString: gigIDs[(n * 7919) % gigs])!, k: 10)
            gigTimes.append(millis(t))
        }
        // The feed scores gig by gig (one query per open gig sharing a skill): a few samples, and
        // only on markets small enough for that to finish.
        for n in 0..<(gigs <= 1_000 ? 20 : 0) {
            let t = ContinuousClock.now
            _ = try await matching.feed(forFreelancer: UUID(uuidString: freelancerIDs[(n * 104_729) % freelancers])!, k: 10)
            feedTimes.append(millis(t))
        }
        print("")
        print("| matching query (\(freelancers) freelancers, \(gigs) open gigs) | p50 ms | p99 ms |")
        print("|---|---:|---:|")
        print(String(format: "| candidates for a gig (top 10), 200 queries | %.1f | %.1f |", percentile(gigTimes, 0.5), percentile(gigTimes, 0.99)))
        if feedTimes.isEmpty {
            print("| feed for a freelancer (top 10) | not measured at this size: scored gig by gig | |")
        } else {
            print(String(format: "| feed for a freelancer (top 10), 20 queries | %.1f | %.1f |", percentile(feedTimes, 0.5), percentile(feedTimes, 0.99)))
        }

        // Projector lag at a steady rate: bids appended at `rate` per second while the engine
        // follows; lag = append returned → the batch holding it announced on gigledger_projections.
        let follower = Task { try await engine.follow(fallbackPoll: .seconds(1)) }
        let listener = try await Connection.connect(pool.config)
        try await listener.listen(ProjectionEngine.notificationChannel)
        final class Recorder: Sendable { let times = Mutex<[(Int64, ContinuousClock.Instant)]>([]) }
        let recorder = Recorder()
        let total = rate * seconds
        let start = ContinuousClock.now
        let driver = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        for n in stride(from: worker, to: total, by: 8) {
                            try await Task.sleep(until: start.advanced(by: .milliseconds(n * 1000 / rate)), clock: .continuous)
                            let freelancer = freelancerIDs[n % freelancers]
                            let outcome = try await service.execute(try CommandInput(fields: [
                                "command": "PlaceBid", "actor": .string("freelancer:\(freelancer)"), "gigId": .string(gigIDs[(n / 3) % gigs]),
                                "amount": ["currency": "EUR", "minorUnits": 120_000], "estimatedDays": 5]).command())
                            let now = ContinuousClock.now
                            if let position = outcome.events.last?.position { recorder.times.withLock { $0.append((position, now)) } }
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        var seen: [(Int64, ContinuousClock.Instant)] = []
        let deadline = start.advanced(by: .seconds(seconds + 10))
        while ContinuousClock.now < deadline {
            guard let note = try await listener.waitForNotification(timeout: .milliseconds(200)) else { continue }
            guard note.payload.contains("\"competition_gigs\""), let range = note.payload.range(of: #"position":(\d+)"#, options: .regularExpression) else { continue }
            if let position = Int64(note.payload[range].dropFirst("position\":".count)) { seen.append((position, ContinuousClock.now)) }
        }
        _ = try? await driver.value
        follower.cancel()
        await listener.close()
        let lags: [Double] = recorder.times.withLock { $0 }.compactMap { position, at in
            guard let visible = seen.first(where: { $0.0 >= position }) else { return nil }
            let d = at.duration(to: visible.1)
            return max(0, Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15)
        }
        let achieved = Double(recorder.times.withLock { $0.count }) / Double(seconds)
        print("")
        print("| projector lag, append → read model (competition_gigs), \(rate) cmd/s target, \(String(format: "%.0f", achieved)) achieved | p50 ms | p99 ms | measured |")
        print("|---|---:|---:|---:|")
        print(String(format: "| PlaceBid → competition_gigs_v1 batch committed | %.1f | %.1f | %d |", percentile(lags, 0.5), percentile(lags, 0.99), lags.count))
        await pool.close()
    }
}
