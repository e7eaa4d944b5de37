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

    /// Builds every shipped projector's tables and catches them up on `store`'s log, then does
    /// what autovacuum does within a minute of a bulk load (without it, index-only scans of the
    /// fresh tables visit the heap for every row: candidates were ~8× slower).
    static func catchUp(_ store: EventStore) async throws {
        let engine = ProjectionEngine(store: store, projectors: ShippedProjectors.all, batchSize: 2_000)
        try await engine.prepare()
        let projecting = ContinuousClock.now
        try await engine.catchUpAll()
        try await engine.releaseLeases()
        FileHandle.standardError.write(Data("projectors caught up in \(projecting.duration(to: .now))\n".utf8))
        try await store.pool.query("VACUUM ANALYZE")
    }

    static func run(
        config base: ConnectionConfig, freelancers: Int, gigs: Int, rate: Int, seconds: Int, reuse: Bool = false,
        database: String = "gigledger_bench_projections"
    ) async throws {
        if reuse {
            // The market of an earlier run, or another market (`--database`, e.g. the log of
            // `scripts/bench-scale`), measured again; projector versions it lacks are built first.
            let pool = ConnectionPool(config: base.withDatabase(database), maxConnections: 10)
            let events = try await pool.query(
                "SELECT CASE WHEN to_regclass('ledger.events') IS NULL THEN 0 ELSE 1 END"
            ).scalar(Int.self)
            guard events == 1 else {
                throw BenchError(
                    "The database \(database) holds no event log: there is no market to measure. Build one first: gigbench projections without --reuse or --database (it builds gigledger_bench_projections), or scripts/bench-scale."
                )
            }
            // A market projected by an earlier projector version: this version's tables first.
            try await pool.query("UPDATE ledger.projections SET lease_owner = NULL, lease_until = NULL")
            try await catchUp(EventStore(pool: pool))
            let freelancerIDs = try await pool.query(
                "SELECT freelancer_id::text FROM read_models.match_freelancers_v4 ORDER BY 1"
            ).rows.map { try $0.decode(String.self, at: 0) }
            let gigIDs = try await pool.query(
                "SELECT gig_id::text FROM read_models.match_gigs_v4 WHERE status = 'open' ORDER BY 1"
            ).rows.map { try $0.decode(String.self, at: 0) }
            guard !freelancerIDs.isEmpty, !gigIDs.isEmpty else {
                throw BenchError(
                    "The database \(database) holds \(freelancerIDs.count) freelancers and \(gigIDs.count) open gigs: matching needs both to measure. Build such a market first: gigbench projections without --reuse or --database, or scripts/bench-scale."
                )
            }
            try await measure(pool: pool, freelancerIDs: freelancerIDs, gigIDs: gigIDs, rate: rate, seconds: seconds)
            return
        }
        let admin = try await Connection.connect(base.withDatabase("postgres"))
        try await admin.execute("DROP DATABASE IF EXISTS gigledger_bench_projections WITH (FORCE)")
        try await admin.execute("CREATE DATABASE gigledger_bench_projections")
        await admin.close()
        let pool = ConnectionPool(config: base.withDatabase("gigledger_bench_projections"), maxConnections: 10)
        _ = try await pool.withConnection { try await Migrator().migrate(on: $0) }
        let store = EventStore(pool: pool)
        let service = MarketplaceService(store: store, masterKey: try MasterKey.configured(), cachedStreams: 0)
        func run(_ fields: [String: JSONValue]) async throws {
            try await service.execute(try CommandInput(fields: fields).command())
        }

        // The market: freelancers with 1–3 skills (long tail), open gigs with 1–2 skills.
        let slugs = [
            "python", "web", "writing", "data-labeling", "data-science", "machine-learning", "prompt-engineering",
            "generative-ai",
            "design", "seo", "nlp", "computer-vision", "mlops", "llm-fine-tuning", "edge-ai", "explainable-ai",
            "ai-ethics",
        ]
        var random = SystemRandomNumberGenerator()
        func skill() -> String {
            slugs[min(slugs.count - 1, Int(Double(slugs.count) * pow(Double.random(in: 0..<1, using: &random), 2)))]
        }
        let client = UUID().uuidString.lowercased()
        try await run([
            "command": "RegisterClient", "actor": .string("client:\(client)"), "clientId": .string(client),
            "name": "Bench", "country": "DE",
        ])
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
                        try await run([
                            "command": "RegisterFreelancer", "actor": .string("freelancer:\(freelancerIDs[i])"),
                            "freelancerId": .string(freelancerIDs[i]),
                            "name": "F",
                            "skills": .array(
                                skillSets[i].map { ["skill": .string($0), "level": .number(Double(1 + i % 3))] }),
                            "hourlyRate": ["currency": "EUR", "minorUnits": .number(Double(3_000 + (i * 37) % 9_000))],
                            "hoursPerWeek": .number(Double(10 + i % 30)),
                        ])
                    }
                    for i in stride(from: worker, to: gigs, by: 8) {
                        try await run([
                            "command": "PostGig", "actor": .string("client:\(client)"), "clientId": .string(client),
                            "gigId": .string(gigIDs[i]),
                            "title": "Gig", "skills": .array(gigSkills[i].map { .string($0) }),
                            "budgetMin": ["currency": "EUR", "minorUnits": 100_000],
                            "budgetMax": [
                                "currency": "EUR", "minorUnits": .number(Double(150_000 + (i * 53) % 300_000)),
                            ],
                            "biddingClosesAt": closes,
                        ])
                    }
                }
            }
            try await group.waitForAll()
        }
        FileHandle.standardError.write(
            Data(
                "market of \(freelancers) freelancers and \(gigs) open gigs appended in \(started.duration(to: .now))\n"
                    .utf8))
        try await catchUp(store)
        try await measure(pool: pool, freelancerIDs: freelancerIDs, gigIDs: gigIDs, rate: rate, seconds: seconds)
    }

    static func measure(pool: ConnectionPool, freelancerIDs: [String], gigIDs: [String], rate: Int, seconds: Int)
        async throws
    {
        let freelancers = freelancerIDs.count
        let gigs = gigIDs.count
        let store = EventStore(pool: pool)
        let service = MarketplaceService(store: store, masterKey: try MasterKey.configured(), cachedStreams: 0)
        let engine = ProjectionEngine(store: store, projectors: ShippedProjectors.all, batchSize: 2_000)
        // This database is the benchmark's own: leases left by an earlier, killed run go.
        try await pool.query("UPDATE ledger.projections SET lease_owner = NULL, lease_until = NULL")
        try await engine.prepare()
        try await engine.catchUpAll()
        // Bidders start at a random freelancer, so a run on a reused market places new bids.
        let offset = Int.random(in: 0..<max(1, freelancers))

        // Matching latency: the three queries, and as the baseline (same run, same tables) the
        // version-1 way of answering candidates — every candidate scored at query time.
        let matching = Matching(pool: pool)
        // The baseline scores under weights v1 (no experience or preference fit): compared with the same.
        let baseline = Matching(pool: pool, weights: .v1)
        func millis(_ since: ContinuousClock.Instant) -> Double {
            let d = since.duration(to: .now)
            return Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
        }
        var gigTimes: [Double] = []
        var feedTimes: [Double] = []
        var explainTimes: [Double] = []
        var baselineTimes: [Double] = []
        var agreed = 0
        for n in 0..<20 {
            let gig = UUID(uuidString: gigIDs[(n * 7919) % gigs])!
            let t = ContinuousClock.now
            let everyone = try await scoreEveryCandidate(pool, gig: gig, k: 10)
            baselineTimes.append(millis(t))
            if try await baseline.candidates(forGig: gig, k: 10).data.map(\.freelancerID) == everyone { agreed += 1 }
        }
        for n in 0..<200 {
            var t = ContinuousClock.now
            _ = try await matching.candidates(forGig: UUID(uuidString: gigIDs[(n * 7919) % gigs])!, k: 10)
            gigTimes.append(millis(t))
            t = ContinuousClock.now
            _ = try await matching.feed(
                forFreelancer: UUID(uuidString: freelancerIDs[(n * 104_729) % freelancers])!, k: 10)
            feedTimes.append(millis(t))
            t = ContinuousClock.now
            _ = try await matching.explain(
                gig: UUID(uuidString: gigIDs[(n * 31) % gigs])!,
                freelancer: UUID(uuidString: freelancerIDs[(n * 7) % freelancers])!)
            explainTimes.append(millis(t))
        }
        print("")
        print("| matching query (\(freelancers) freelancers, \(gigs) open gigs) | p50 ms | p99 ms |")
        print("|---|---:|---:|")
        print(
            String(
                format:
                    "| baseline: candidates by scoring every candidate (v1 query), top 10, 20 queries | %.1f | %.1f |",
                percentile(baselineTimes, 0.5), percentile(baselineTimes, 0.99)))
        print(
            String(
                format: "| candidates for a gig (top 10), 200 queries | %.1f | %.1f |", percentile(gigTimes, 0.5),
                percentile(gigTimes, 0.99)))
        print(
            String(
                format: "| feed for a freelancer (top 10), 200 queries | %.1f | %.1f |", percentile(feedTimes, 0.5),
                percentile(feedTimes, 0.99)))
        print(
            String(
                format: "| explain (gig, freelancer), 200 queries | %.1f | %.1f |", percentile(explainTimes, 0.5),
                percentile(explainTimes, 0.99)))
        print("(candidates equal to the baseline's top 10 for \(agreed) of 20 gigs)")
        if ProcessInfo.processInfo.environment["GIGBENCH_SLOWEST"] != nil {
            for (n, time) in gigTimes.enumerated().sorted(by: { $0.1 > $1.1 }).prefix(8) {
                let gig = gigIDs[(n * 7919) % gigs]
                let skills = try await pool.query(
                    "SELECT skills::text || ' ' || budget_max_minor FROM read_models.match_gigs_v4 WHERE gig_id = \(UUID(uuidString: gig)!)"
                ).scalar(String.self)
                print(String(format: "slow candidates: %.1f ms %@ %@", time, gig, skills))
            }
            // The feed's: the freelancer's skills, and how many open skill sets (groups) share one.
            for (n, time) in feedTimes.enumerated().sorted(by: { $0.1 > $1.1 }).prefix(8) {
                let freelancer = UUID(uuidString: freelancerIDs[(n * 104_729) % freelancers])!
                let shape = try await pool.query(
                    """
                    SELECT (SELECT string_agg(s.skill || ':' || s.level, ',' ORDER BY s.skill) FROM read_models.match_freelancer_skills_v4 s
                            WHERE s.freelancer_id = \(freelancer))
                           || ' groups ' || (SELECT count(*) FROM read_models.match_open_skill_sets_v4 o
                                             WHERE o.open_gigs > 0 AND o.skills && ARRAY(SELECT s.skill FROM read_models.match_freelancer_skills_v4 s
                                                                                      WHERE s.freelancer_id = \(freelancer)))
                    """
                ).scalar(String?.self)
                print(String(format: "slow feed: %.1f ms %@ %@", time, freelancer.uuidString, shape ?? "-"))
            }
        }

        // Projector lag at a steady rate: bids appended at `rate` per second while the engine
        // follows; lag = append returned → the batch holding it announced on gigledger_projections.
        // Twice: the engine's commits durable (as the writers'), then asynchronous — a read model
        // is derived and re-applying events changes nothing, so a projector need not wait for
        // its WAL flush (the writers' appends stay durable in both).
        // First, as the baseline, the same projectors applied event by event.
        for (round, (durable, setBased)) in [(true, false), (true, true), (false, true)].enumerated() {
            var engineConfig = pool.config
            engineConfig.sessionSettings = [("synchronous_commit", durable ? "on" : "off")]
            let enginePool = ConnectionPool(config: engineConfig, maxConnections: 4)
            let projectors: [any Projector] =
                setBased ? ShippedProjectors.all : ShippedProjectors.all.map { EventByEvent(inner: $0) }
            let engine = ProjectionEngine(store: EventStore(pool: enginePool), projectors: projectors, batchSize: 2_000)
            try await engine.catchUpAll()
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
                                try await Task.sleep(
                                    until: start.advanced(by: .milliseconds(n * 1000 / rate)), clock: .continuous)
                                let freelancer = freelancerIDs[(n + offset + round * total) % freelancers]
                                let outcome = try await service.execute(
                                    try CommandInput(fields: [
                                        "command": "PlaceBid", "actor": .string("freelancer:\(freelancer)"),
                                        "gigId": .string(gigIDs[(n / 3) % gigs]),
                                        "amount": ["currency": "EUR", "minorUnits": 120_000], "estimatedDays": 5,
                                    ]).command())
                                let now = ContinuousClock.now
                                if let position = outcome.events.last?.position {
                                    recorder.times.withLock { $0.append((position, now)) }
                                }
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
                guard note.payload.contains("\"competition_gigs\""),
                    let range = note.payload.range(of: #"position":(\d+)"#, options: .regularExpression)
                else { continue }
                if let position = Int64(note.payload[range].dropFirst("position\":".count)) {
                    seen.append((position, ContinuousClock.now))
                }
            }
            _ = try? await driver.value
            follower.cancel()
            _ = await follower.result
            try await engine.releaseLeases()
            await listener.close()
            let lags: [Double] = recorder.times.withLock { $0 }.compactMap { position, at in
                guard let visible = seen.first(where: { $0.0 >= position }) else { return nil }
                let d = at.duration(to: visible.1)
                return max(0, Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15)
            }
            let achieved = Double(recorder.times.withLock { $0.count }) / Double(seconds)
            if round == 0 { print("") }
            if round == 0 {
                print(
                    "| projector lag, append → read model (competition_gigs), \(rate) cmd/s target | achieved cmd/s | p50 ms | p99 ms | measured |"
                )
                print("|---|---:|---:|---:|---:|")
            }
            print(
                String(
                    format:
                        "| PlaceBid → competition_gigs_v1 batch committed: %@, projector commits %@ | %.0f | %.1f | %.1f | %d |",
                    setBased ? "set-based batches" : "baseline, event by event", durable ? "durable" : "asynchronous",
                    achieved, percentile(lags, 0.5), percentile(lags, 0.99), lags.count))
            await enginePool.close()
        }
        await pool.close()
    }

    /// The version-1 query: every freelancer with one of the gig's skills scored at query time,
    /// idf counted per query; the ids of the top `k` by score, then id (no newcomer slot).
    static func scoreEveryCandidate(_ pool: ConnectionPool, gig: UUID, k: Int) async throws -> [UUID] {
        let w = Matching.Weights.v1
        return try await pool.query(
            """
            WITH gig AS (SELECT * FROM read_models.match_gigs_v4 WHERE gig_id = \(gig)),
            population AS (SELECT count(*)::float8 AS n FROM read_models.match_freelancers_v4),
            need AS (
                SELECT s.skill, ln((p.n + 1) / ((SELECT count(*) FROM read_models.match_freelancer_skills_v4 fs WHERE fs.skill = s.skill) + 1)) + 1 AS idf
                FROM gig, unnest(gig.skills) AS s(skill), population p
            ),
            total AS (SELECT sum(idf) AS total FROM need),
            pool AS (
                SELECT f.* FROM read_models.match_freelancers_v4 f
                WHERE EXISTS (SELECT 1 FROM read_models.match_freelancer_skills_v4 fs JOIN need USING (skill) WHERE fs.freelancer_id = f.freelancer_id)
            ),
            scored AS (
                SELECT f.freelancer_id,
                       \(w.coverage) * coalesce(coalesce((SELECT sum(need.idf * fs.level / 3.0) FROM read_models.match_freelancer_skills_v4 fs JOIN need USING (skill)
                                 WHERE fs.freelancer_id = f.freelancer_id), 0) / nullif(total.total, 0), 0)
                       + \(w.budget) * CASE WHEN f.currency <> gig.currency THEN 0
                            ELSE greatest(0, 1 - greatest(gig.budget_min_minor - f.hourly_rate_minor * coalesce(gig.engagement_hours, \(w.typicalGigHours)),
                                                           f.hourly_rate_minor * coalesce(gig.engagement_hours, \(w.typicalGigHours)) - gig.budget_max_minor, 0)
                                              / nullif(gig.budget_max_minor, 0)::float8) END
                       + \(w.availability) * CASE WHEN f.hours_per_week <= 0 THEN 0
                            ELSE greatest(0, (f.hours_per_week - \(w.hoursPerActiveContract) * f.active_contracts) / f.hours_per_week::float8) END
                       + \(w.reputation) * (0.5 * (((\(w.ratingPriorWeight) * \(w.ratingPrior) + f.ratings_sum) / (\(w.ratingPriorWeight) + f.ratings_n) - 1) / 4)
                         + 0.5 * ((f.completed + \(w.completionAlpha)) / (f.completed + f.failed + \(w.completionAlpha) + \(w.completionBeta)))) AS score
                FROM pool f, gig, total
            )
            SELECT freelancer_id FROM scored ORDER BY score DESC, freelancer_id LIMIT \(k)
            """
        ).rows.map { try $0.decode(UUID.self, at: 0) }
    }
}
