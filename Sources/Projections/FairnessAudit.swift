import EventStore
import Foundation
import Marketplace
import PQ

/// Whom matching favours: per cohort of freelancers — newcomers vs established, country, rate
/// band — its share of top-k exposure against its share of qualified freelancers, and its share
/// of awards against its share of bids, over the gigs posted in the audited weeks
/// (sql/READ_MODELS.md, "The fairness audit").
///
/// For every gig posted in the window (the `weeks` ISO-week-long periods ending with the latest
/// posting), the top `k` candidates are computed as ``Matching/candidates(forGig:k:)`` computes
/// them (newcomer slot included), and the *qualified* freelancers counted: those with at least one
/// of the gig's skills whose rate is in the gig's currency with a budget fit above 0. Per cohort:
/// exposure ratio = exposure share ÷ qualified share; award ratio = award share ÷ bid share.
/// Within a dimension, a cohort's disparity is its ratio ÷ the best cohort's ratio; it is flagged
/// when a disparity is under ``threshold`` (the four-fifths rule) *and* the shortfall is
/// significant: the cohort's rate (places per qualified pair, awards per bid) is below the rest
/// of its dimension's by z ≥ ``Report/criticalZ``, so that chance is not called bias. z compares
/// the cohort with all other cohorts pooled (not with the best one, which is the largest of
/// several noisy rates), with each rate's variance computed per freelancer (a freelancer's places
/// and awards go together: a cluster, not independent events), and the critical z is one-sided
/// with a Bonferroni correction for every judged comparison of the report, so that the chance of
/// flagging anything in a market without bias stays under ``familyAlpha``. Cohorts with fewer
/// than ``minimumSample`` qualified pairs (bids) get no exposure (award) disparity: too few to
/// judge.
///
/// Newcomers are freelancers with no contract on a gig posted before the window; rate bands are
/// the hourly rate in its currency's major unit: under 50, 50 to under 100, 100 and over.
public struct FairnessAudit: Sendable {
    /// The four-fifths rule.
    public static let threshold = 0.8
    /// The chance, in a market without bias, that a report flags anything at all (the family
    /// of its comparisons; each one is tested at this ÷ their number).
    public static let familyAlpha = 0.05

    /// One cohort's figures. Shares are of the dimension's total (each 0…1, 4 decimals).
    public struct Cohort: Sendable, Codable, Hashable {
        /// `tenure`, `country` or `rateBand`.
        public let dimension: String
        /// `newcomer` / `established`; a country code or `unknown`; `under 50`, `50–100`, `100+`.
        public let cohort: String
        /// (gig, qualified freelancer) pairs of the cohort.
        public let qualified: Int
        /// Top-k places the cohort's freelancers took.
        public let exposed: Int
        /// The cohort's qualified pairs ÷ all qualified pairs of the dimension.
        public let qualifiedShare: Double
        /// The cohort's top-k places ÷ all top-k places.
        public let exposureShare: Double
        /// Exposure share ÷ qualified share; `null` below ``FairnessAudit/minimumSample`` qualified
        /// pairs or when nobody was exposed.
        @NullEncoded public var exposureRatio: Double?
        /// Exposure ratio ÷ the dimension's best exposure ratio; `null` when the ratio is.
        @NullEncoded public var exposureDisparity: Double?
        /// z of the cohort's shortfall in places per qualified pair against the rest of the
        /// dimension (negative: above the rest; null when not judged, or when the dimension has
        /// no other cohort).
        @NullEncoded public var exposureZ: Double?
        /// Bids the cohort placed on the window's gigs, and gigs awarded to it.
        public let bids: Int
        /// Gigs of the window awarded to the cohort's freelancers.
        public let awards: Int
        /// The cohort's bids ÷ all bids on the window's gigs.
        public let bidShare: Double
        /// The cohort's awards ÷ all awards of the window's gigs.
        public let awardShare: Double
        /// Award share ÷ bid share; `null` below ``FairnessAudit/minimumSample`` bids or when
        /// nothing was awarded.
        @NullEncoded public var awardRatio: Double?
        /// Award ratio ÷ the dimension's best award ratio; `null` when the ratio is.
        @NullEncoded public var awardDisparity: Double?
        /// z of the cohort's shortfall in awards per bid against the rest of the dimension
        /// (negative: above the rest; null when not judged).
        @NullEncoded public var awardZ: Double?
        /// A disparity under the threshold with a z of at least ``Report/criticalZ``.
        public let flagged: Bool
    }

    /// The audit: its window, its parameters, every cohort (by dimension, then cohort).
    public struct Report: Sendable, Codable, Hashable {
        /// The window's length in weeks.
        public let weeks: Int
        /// The length of the top-k lists audited.
        public let k: Int
        /// Gigs posted in the window.
        public let gigs: Int
        /// The window: after `from`, up to and including `to` (null when no gig was posted at all).
        @NullableRFC3339Time public var from: Date?
        /// The latest posting time (the window's end); `null` when no gig was posted at all.
        @NullableRFC3339Time public var to: Date?
        /// The disparity under which a cohort is flagged (``FairnessAudit/threshold``).
        public let threshold: Double
        /// The sample below which a disparity is not judged (``FairnessAudit/minimumSample``).
        public let minimumSample: Int
        /// The comparisons judged (cohorts with an exposure z, plus cohorts with an award z).
        public let comparisons: Int
        /// The z a shortfall must reach to be flagged: one-sided at ``FairnessAudit/familyAlpha``
        /// ÷ ``comparisons`` (Bonferroni); 4 decimals.
        public let criticalZ: Double
        /// Every cohort, by dimension (`tenure`, `country`, `rateBand`), then by cohort name.
        public let cohorts: [Cohort]

        /// The flagged cohorts.
        public var flagged: [Cohort] { cohorts.filter(\.flagged) }
    }

    /// How an audit is going, for a caller that shows it (``run(weeks:k:progress:)``).
    public enum Progress: Sendable, Hashable {
        /// A phase ended after `seconds`: `window` (the window's gigs and every freelancer's
        /// cohorts), `qualified` (the qualified-pairs count), `ranking` (the top-k searches),
        /// `bids` (bids and awards), `judging` (shares, ratios, z).
        case phase(String, seconds: Double)
        /// `done` of the window's `total` gigs ranked so far, after `seconds` of ranking.
        case ranked(done: Int, total: Int, seconds: Double)
    }

    /// Where the matching read model is read.
    public let pool: ConnectionPool
    /// The weights the top-k lists are computed with.
    public let weights: Matching.Weights
    /// Below this many qualified pairs (bids) a cohort's exposure (award) disparity is not judged.
    public var minimumSample = 20
    /// The most connections the top-k searches run on at once, the reading one included (at
    /// least 1). The others are taken from `pool` only when free there (never waited for), and
    /// import the reading transaction's snapshot: every search reads the same state.
    public var workers: Int
    /// Gigs a connection takes from the window's list at a time.
    var gigsPerTake = 8

    /// An audit of the matching read model behind `pool`, ranking with `weights` on up to
    /// `workers` connections of `pool` at once.
    public init(pool: ConnectionPool, weights: Matching.Weights = .v2, workers: Int = 1) {
        self.pool = pool
        self.weights = weights
        self.workers = max(1, workers)
    }

    /// Audits the gigs posted in the last `weeks` weeks (1–520) with top-`k` lists (1–100);
    /// `progress` hears of each phase's end and of the ranking as it goes.
    public func run(
        weeks: Int = 4, k: Int = 10, progress: (@Sendable (Progress) -> Void)? = nil
    ) async throws -> Snapshot<Report> {
        let (audited, checkpoints, _) = try await run(weeks: weeks, k: k, progress: progress, beforeRanking: nil)
        return Snapshot(data: audited.report, checkpoints: checkpoints)
    }

    /// A report with the top-k places per freelancer it was computed from.
    struct Audited: Sendable {
        let report: Report
        let places: [UUID: Int]
    }

    /// The audit, with how many gigs each connection ranked (the reading one first), and a hook
    /// run once the snapshot is exported, before any gig is ranked (tests change the database there).
    func run(
        weeks: Int, k: Int, progress: (@Sendable (Progress) -> Void)?, beforeRanking: (() async throws -> Void)?
    ) async throws -> (Audited, [ReadCheckpoint], rankedPerConnection: [Int]) {
        guard (1...520).contains(weeks) else {
            throw ReadQueryError.invalidArgument("weeks must be 1…520; got \(weeks).")
        }
        guard (1...100).contains(k) else { throw ReadQueryError.invalidArgument("k must be 1…100; got \(k).") }
        let matching = Matching(pool: pool, weights: weights)
        let ((audited, perConnection), checkpoints) = try await ReadModels.read(pool, Matching.projections) { conn in
            try await audit(
                weeks: weeks, k: k, matching: matching, conn, progress: progress, beforeRanking: beforeRanking)
        }
        return (audited, checkpoints, perConnection)
    }

    private struct Member {
        let tenure: String
        let country: String
        let rateBand: String
    }

    private func audit(
        weeks: Int, k: Int, matching: Matching, _ conn: Connection, progress: (@Sendable (Progress) -> Void)?,
        beforeRanking: (() async throws -> Void)?
    ) async throws -> (Audited, [Int]) {
        var clock = ContinuousClock.now
        /// Reports the phase that just ended and starts timing the next.
        func ended(_ phase: String) {
            let now = ContinuousClock.now
            progress?(.phase(phase, seconds: Self.seconds(clock.duration(to: now))))
            clock = now
        }
        let head = try await conn.query("SELECT max(posted_at) FROM read_models.match_gigs_v4").rows.first
        guard let latest = try head?.decode(Date?.self, at: 0) ?? nil else {
            return (Audited(report: empty(weeks: weeks, k: k), places: [:]), [0])
        }
        let to = latest
        let from = latest.addingTimeInterval(-Double(weeks) * 7 * 86_400)
        let gigs = try await conn.query(
            """
            SELECT gig_id FROM read_models.match_gigs_v4 WHERE posted_at > \(from) AND posted_at <= \(to) ORDER BY gig_id
            """
        ).rows.map { try $0.decode(UUID.self, at: 0) }
        // Every freelancer's cohorts.
        var members: [UUID: Member] = [:]
        for row in try await conn.query(
            """
            SELECT f.freelancer_id, f.hourly_rate_minor, f.currency, coalesce(f.country, 'unknown') AS country,
                   EXISTS (SELECT 1 FROM read_models.match_contracts_v4 c JOIN read_models.match_gigs_v4 g ON g.gig_id = c.gig_id
                           WHERE c.freelancer_id = f.freelancer_id AND g.posted_at <= \(from)) AS established
            FROM read_models.match_freelancers_v4 f
            """
        ).rows {
            let digits = (try? Currency(code: try row.decode(String.self, "currency")))?.minorUnitDigits ?? 2
            let major = Double(try row.decode(Int64.self, "hourly_rate_minor")) / pow(10, Double(digits))
            members[try row.decode(UUID.self, "freelancer_id")] = Member(
                tenure: try row.decode(Bool.self, "established") ? "established" : "newcomer",
                country: try row.decode(String.self, "country"),
                rateBand: major < 50 ? "under 50" : major < 100 ? "50–100" : "100+")
        }
        ended("window")
        let qualified = try await qualifiedPairs(from: from, to: to, conn)
        ended("qualified")
        let (exposed, perConnection) = try await exposure(
            gigs, k: k, matching: matching, conn, progress: progress, beforeRanking: beforeRanking)
        ended("ranking")
        // Bids placed on, and awards of, the window's gigs.
        var bids: [UUID: Int] = [:]
        for row in try await conn.query(
            """
            SELECT freelancer_id, count(*)::int8 FROM read_models.match_bids_v4 WHERE gig_id = ANY(\(gigs)::uuid[]) GROUP BY freelancer_id
            """
        ).rows { bids[try row.decode(UUID.self, at: 0)] = Int(try row.decode(Int64.self, at: 1)) }
        var awards: [UUID: Int] = [:]
        for row in try await conn.query(
            """
            SELECT freelancer_id, count(*)::int8 FROM read_models.match_contracts_v4 WHERE gig_id = ANY(\(gigs)::uuid[]) GROUP BY freelancer_id
            """
        ).rows { awards[try row.decode(UUID.self, at: 0)] = Int(try row.decode(Int64.self, at: 1)) }
        ended("bids")

        var dimensions: [(String, [String: [[Int]]])] = []
        for (dimension, key) in [
            ("tenure", \Member.tenure), ("country", \Member.country), ("rateBand", \Member.rateBand),
        ] as [(String, KeyPath<Member, String>)] {
            var byCohort: [String: [[Int]]] = [:]
            for (id, member) in members.sorted(by: { $0.key.sortsBefore($1.key) }) {
                byCohort[member[keyPath: key], default: []].append(
                    [qualified[id] ?? 0, exposed[id] ?? 0, bids[id] ?? 0, awards[id] ?? 0])
            }
            dimensions.append((dimension, byCohort))
        }
        let (comparisons, critical, cohorts) = Self.judge(dimensions, minimumSample: minimumSample)
        ended("judging")
        let report = Report(
            weeks: weeks, k: k, gigs: gigs.count, from: from, to: to, threshold: Self.threshold,
            minimumSample: minimumSample, comparisons: comparisons, criticalZ: rounded(critical, places: 4),
            cohorts: cohorts)
        return (Audited(report: report, places: exposed), perConnection)
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    /// The window's gigs, handed out a few at a time to the connections that rank them.
    private actor GigQueue {
        let total: Int
        let take: Int
        private var next = 0
        private var done = 0

        init(total: Int, take: Int) {
            self.total = total
            self.take = max(1, take)
        }

        /// The next gigs to rank (indices into the window's list); nil when none is left.
        func gigs() -> Range<Int>? {
            guard next < total else { return nil }
            defer { next = min(total, next + take) }
            return next..<min(total, next + take)
        }

        /// Records `count` more gigs ranked; the number ranked so far.
        func ranked(_ count: Int) -> Int {
            done += count
            return done
        }
    }

    /// Top-k places per freelancer over `gigs` (each gig's ``Matching/candidates(forGig:k:)``,
    /// newcomer slot included), and how many gigs each connection ranked (`conn` first).
    ///
    /// The reading transaction's snapshot is exported, and up to ``workers`` − 1 more
    /// connections, when free in the pool, each open a REPEATABLE READ transaction importing it
    /// before any gig is ranked; then every connection takes the next few gigs until none is
    /// left. All searches read one state, and the places are a sum per freelancer, so the result
    /// equals ranking every gig on `conn` alone, whichever connection ranked which gig.
    private func exposure(
        _ gigs: [UUID], k: Int, matching: Matching, _ conn: Connection, progress: (@Sendable (Progress) -> Void)?,
        beforeRanking: (() async throws -> Void)?
    ) async throws -> (places: [UUID: Int], perConnection: [Int]) {
        let helpers = gigs.count > gigsPerTake ? min(workers, pool.maxConnections) - 1 : 0
        let snapshot = helpers > 0 ? try await conn.exportSnapshot() : nil
        try await beforeRanking?()
        let queue = GigQueue(total: gigs.count, take: gigsPerTake)
        let started = ContinuousClock.now
        // Progress every 1/20 of the window (at least every 50 gigs).
        let every = max(50, gigs.count / 20)
        @Sendable func rank(on connection: Connection) async throws -> (places: [UUID: Int], ranked: Int) {
            var places: [UUID: Int] = [:]
            var ranked = 0
            while let range = await queue.gigs() {
                for gig in gigs[range] {
                    for match in try await matching.candidates(gig, k: k, connection) {
                        places[match.freelancerID, default: 0] += 1
                    }
                }
                ranked += range.count
                let done = await queue.ranked(range.count)
                if let progress, done / every != (done - range.count) / every || done == gigs.count {
                    progress(
                        .ranked(
                            done: done, total: gigs.count, seconds: Self.seconds(started.duration(to: .now))))
                }
            }
            return (places, ranked)
        }
        guard let snapshot else {
            let (places, ranked) = try await rank(on: conn)
            return (places, [ranked])
        }
        return try await withSnapshotHelpers(helpers, snapshot) { others in
            try await withThrowingTaskGroup(of: (Int, [UUID: Int], Int).self) { group in
                for (index, connection) in ([conn] + others).enumerated() {
                    group.addTask {
                        let (places, ranked) = try await rank(on: connection)
                        return (index, places, ranked)
                    }
                }
                var total: [UUID: Int] = [:]
                var perConnection = Array(repeating: 0, count: others.count + 1)
                for try await (index, places, ranked) in group {
                    total.merge(places, uniquingKeysWith: +)
                    perConnection[index] = ranked
                }
                return (total, perConnection)
            }
        }
    }

    /// Runs `body` with up to `count` more connections of the pool (those free now), each in a
    /// read-only REPEATABLE READ transaction that imported `snapshot` (and has JIT off, as the
    /// reading one has); the transactions end when `body` returns.
    private func withSnapshotHelpers<R>(
        _ count: Int, _ snapshot: SnapshotID, _ body: ([Connection]) async throws -> R
    ) async throws -> R {
        guard count > 0 else { return try await body([]) }
        let result = try await pool.withConnectionIfFree { helper in
            try await helper.withTransaction(.repeatableRead, readOnly: true) { helper in
                try await helper.importSnapshot(snapshot)
                try await helper.query("SELECT set_config('jit', 'off', true)")
                return try await withSnapshotHelpers(count - 1, snapshot) { try await body([helper] + $0) }
            }
        }
        if let result { return result }
        return try await body([])
    }

    /// A gig of the window as the qualified count needs it: its currency, distinct skills, and
    /// the hourly rates whose budget fit on it is above 0.
    struct QualifyingGig {
        let currency: String
        let skills: Set<String>
        let rates: ClosedRange<Int64>
    }

    /// Qualified pairs per freelancer for the gigs posted after `from` up to `to`: the gigs with
    /// one of the freelancer's skills, in its rate's currency, with a budget fit above 0 — counted
    /// without enumerating the pairs (about 10^8 at 100,000 freelancers and 10,000 gigs):
    /// ``qualifiedCounts(gigs:freelancers:)``. Freelancers with none are left out.
    func qualifiedPairs(from: Date, to: Date, _ conn: Connection) async throws -> [UUID: Int] {
        var gigs: [QualifyingGig] = []
        for row in try await conn.query(
            """
            SELECT gig_id, currency, budget_min_minor, budget_max_minor, experience, engagement_hours, skills
            FROM read_models.match_gigs_v4 WHERE posted_at > \(from) AND posted_at <= \(to)
            """
        ).rows {
            let terms = try Matching.GigTerms(id: try row.decode(UUID.self, "gig_id"), row: row)
            guard let rates = Self.qualifyingRates(terms, weights) else { continue }
            gigs.append(
                QualifyingGig(
                    currency: terms.currency, skills: Set(try row.decode([String].self, "skills")), rates: rates))
        }
        let freelancers = try await conn.query(
            """
            SELECT f.freelancer_id, f.hourly_rate_minor, f.currency,
                   ARRAY(SELECT s.skill FROM read_models.match_freelancer_skills_v4 s WHERE s.freelancer_id = f.freelancer_id
                         ORDER BY s.skill) AS skills
            FROM read_models.match_freelancers_v4 f
            """
        ).rows.map {
            (
                id: try $0.decode(UUID.self, at: 0), rate: try $0.decode(Int64.self, at: 1),
                currency: try $0.decode(String.self, at: 2), skills: try $0.decode([String].self, at: 3)
            )
        }
        return Self.qualifiedCounts(gigs: gigs, freelancers: freelancers)
    }

    /// The hourly rates (minor units) whose budget fit on `gig` (``Matching/budgetFit(_:rate:currency:weights:)``,
    /// in the gig's currency) is above 0; nil when there is none. They are one range: the price
    /// grows with the rate, and the fit only falls away from the budget on either side. Found by
    /// bisection with the fit itself, so the count agrees with the score to the last rounding.
    static func qualifyingRates(_ gig: Matching.GigTerms, _ w: Matching.Weights) -> ClosedRange<Int64>? {
        func fits(_ rate: Int64) -> Bool { Matching.budgetFit(gig, rate: rate, currency: gig.currency, weights: w) > 0 }
        // Far beyond any rate (amounts are at most 10^12 minor units), still exact as a Double.
        let limit: Int64 = 1 << 52
        let hours = Matching.pricedHours(gig, w)
        guard gig.budgetMax != 0, hours.isFinite else { return nil }
        guard hours > 0 else { return fits(0) ? -limit...limit : nil }
        // The best price: inside the budget (or midway between its ends when they are crossed).
        let best =
            (gig.budgetMin <= gig.budgetMax
                ? Double(gig.budgetMax) : (Double(gig.budgetMin) + Double(gig.budgetMax)) / 2) / hours
        guard best.isFinite, abs(best) < Double(limit / 2) else { return nil }
        let near = Int64(best.rounded(.down))
        guard let inside = (near - 1...near + 2).first(where: fits) else { return nil }
        // The first rate that fits, then the last.
        var (low, high) = (-limit, inside)  // fits(high); low does not (or is the limit)
        while high - low > 1 {
            let mid = low + (high - low) / 2
            if fits(mid) { high = mid } else { low = mid }
        }
        let first = fits(low) ? low : high
        (low, high) = (inside, limit)  // fits(low); high does not (or is the limit)
        while high - low > 1 {
            let mid = low + (high - low) / 2
            if fits(mid) { low = mid } else { high = mid }
        }
        let last = fits(high) ? high : low
        return first...last
    }

    /// Per freelancer, the gigs sharing one of its skills, in its currency, whose qualifying rates
    /// hold its rate. Freelancers are grouped by currency and skill set; per group, the gigs
    /// sharing a skill with it (each once) are found through a per-skill index, and their first
    /// and last qualifying rates sorted, so a freelancer's count is two binary searches: the gigs
    /// whose range starts at or below its rate, less those whose range ends below it. The work
    /// is the groups' gig lists, not the pairs. Freelancers with none are left out.
    static func qualifiedCounts(
        gigs: [QualifyingGig], freelancers: [(id: UUID, rate: Int64, currency: String, skills: [String])]
    ) -> [UUID: Int] {
        var bySkill: [String: [String: [Int]]] = [:]  // currency → skill → gig indices
        for (index, gig) in gigs.enumerated() {
            for skill in gig.skills { bySkill[gig.currency, default: [:]][skill, default: []].append(index) }
        }
        struct GroupKey: Hashable {
            let currency: String
            let skills: [String]
        }
        var groups: [GroupKey: [Int]] = [:]
        for (index, f) in freelancers.enumerated() {
            groups[GroupKey(currency: f.currency, skills: Array(Set(f.skills)).sorted()), default: []].append(index)
        }
        /// How many of `sorted` are below `value` (`orEqual`: at or below).
        func count(_ sorted: [Int64], below value: Int64, orEqual: Bool) -> Int {
            var (low, high) = (0, sorted.count)
            while low < high {
                let mid = (low + high) / 2
                if sorted[mid] < value || (orEqual && sorted[mid] == value) { low = mid + 1 } else { high = mid }
            }
            return low
        }
        var seen = [Int](repeating: -1, count: gigs.count)
        var out: [UUID: Int] = [:]
        for (group, (key, members)) in groups.enumerated() {
            guard let index = bySkill[key.currency] else { continue }
            var firsts: [Int64] = []
            var lasts: [Int64] = []
            for skill in key.skills {
                for g in index[skill] ?? [] where seen[g] != group {
                    seen[g] = group
                    firsts.append(gigs[g].rates.lowerBound)
                    lasts.append(gigs[g].rates.upperBound)
                }
            }
            guard !firsts.isEmpty else { continue }
            firsts.sort()
            lasts.sort()
            for member in members {
                let f = freelancers[member]
                let qualifying =
                    count(firsts, below: f.rate, orEqual: true) - count(lasts, below: f.rate, orEqual: false)
                if qualifying > 0 { out[f.id, default: 0] += qualifying }
            }
        }
        return out
    }

    /// Every dimension's cohorts (`dimensions`: per dimension, each cohort's members' counts),
    /// flagged against the critical z of all their judged comparisons together.
    static func judge(_ dimensions: [(String, [String: [[Int]]])], minimumSample: Int) -> (
        comparisons: Int, criticalZ: Double, cohorts: [Cohort]
    ) {
        // Which comparisons are judged does not depend on the critical z: count them first.
        let comparisons = dimensions.flatMap { cohorts($0.0, $0.1, minimumSample: minimumSample, criticalZ: .infinity) }
            .reduce(0) { $0 + ($1.exposureZ != nil ? 1 : 0) + ($1.awardZ != nil ? 1 : 0) }
        let critical = criticalZ(comparisons: comparisons)
        return (
            comparisons, critical,
            dimensions.flatMap { cohorts($0.0, $0.1, minimumSample: minimumSample, criticalZ: critical) }
        )
    }

    /// The one-sided z at ``familyAlpha`` ÷ `comparisons` (at least one): the upper tail
    /// ½·erfc(z/√2) solved by bisection (1.6449 for one comparison, 2.8070 for 20).
    static func criticalZ(comparisons: Int) -> Double {
        let alpha = familyAlpha / Double(max(1, comparisons))
        var (low, high) = (0.0, 40.0)
        for _ in 0..<200 {
            let mid = (low + high) / 2
            if 0.5 * erfc(mid / 2.0.squareRoot()) > alpha { low = mid } else { high = mid }
        }
        return (low + high) / 2
    }

    /// A rate Σ num ÷ Σ den over freelancers (clusters), with the variance of that ratio estimate
    /// computed from the freelancers' own deviations (n ÷ (n − 1) · Σ (num − rate · den)² ÷ (Σ den)²,
    /// over the n freelancers with any count); nil without a denominator or with fewer than two
    /// freelancers.
    static func clusteredRate(_ members: [[Int]], _ num: Int, _ den: Int) -> (rate: Double, variance: Double)? {
        clusteredRate(groups: [members], num, den)
    }

    /// ``clusteredRate(_:_:_:)`` over several groups' freelancers taken together, in order,
    /// without copying them into one array (the rest of a dimension is most of 100,000).
    static func clusteredRate(groups: [[[Int]]], _ num: Int, _ den: Int) -> (rate: Double, variance: Double)? {
        var (n, numerator, denominator) = (0, 0, 0)
        for group in groups {
            for member in group where member[num] != 0 || member[den] != 0 {
                n += 1
                numerator += member[num]
                denominator += member[den]
            }
        }
        let total = Double(denominator)
        guard total > 0, n >= 2 else { return nil }
        let rate = Double(numerator) / total
        var squares = 0.0
        for group in groups {
            for member in group where member[num] != 0 || member[den] != 0 {
                let deviation = Double(member[num]) - rate * Double(member[den])
                squares += deviation * deviation
            }
        }
        let count = Double(n)
        return (rate, count / (count - 1) * squares / (total * total))
    }

    /// One dimension's cohorts from their members' counts (qualified, exposed, bids, awards: one
    /// array per freelancer), flagged at `criticalZ`.
    static func cohorts(_ dimension: String, _ members: [String: [[Int]]], minimumSample: Int, criticalZ: Double)
        -> [Cohort]
    {
        let tally = members.mapValues { rows in (0..<4).map { i in rows.reduce(0) { $0 + $1[i] } } }
        let total = (0..<4).map { i in tally.values.reduce(0) { $0 + $1[i] } }
        func share(_ n: Int, _ of: Int) -> Double { of > 0 ? Double(n) / Double(of) : 0 }
        let names = tally.keys.sorted()
        var exposureRatio: [String: Double] = [:]
        var awardRatio: [String: Double] = [:]
        for name in names {
            let c = tally[name] ?? [0, 0, 0, 0]
            if c[0] >= minimumSample, total[1] > 0 {
                exposureRatio[name] = share(c[1], total[1]) / share(c[0], total[0])
            }
            if c[2] >= minimumSample, total[3] > 0 {
                awardRatio[name] = share(c[3], total[3]) / share(c[2], total[2])
            }
        }
        let bestExposure = exposureRatio.values.max() ?? 0
        let bestAward = awardRatio.values.max() ?? 0
        /// z of the cohort's shortfall against the rest of the dimension pooled; 0 without a spread;
        /// nil (not judged) without a rest to compare with, or with fewer than two freelancers on
        /// either side.
        func z(_ name: String, _ num: Int, _ den: Int) -> Double? {
            let rest = names.filter { $0 != name }.map { members[$0] ?? [] }
            guard let own = clusteredRate(members[name] ?? [], num, den),
                let others = clusteredRate(groups: rest, num, den)
            else { return nil }
            let variance = own.variance + others.variance
            return variance > 0 ? (others.rate - own.rate) / variance.squareRoot() : 0
        }
        return names.map { name in
            let c = tally[name] ?? [0, 0, 0, 0]
            let exposureDisparity = exposureRatio[name].map { bestExposure > 0 ? $0 / bestExposure : 1 }
            let awardDisparity = awardRatio[name].map { bestAward > 0 ? $0 / bestAward : 1 }
            let exposureZ = exposureRatio[name] != nil ? z(name, 1, 0) : nil
            let awardZ = awardRatio[name] != nil ? z(name, 3, 2) : nil
            let flagged =
                ((exposureDisparity ?? 1) < threshold && (exposureZ ?? 0) >= criticalZ)
                || ((awardDisparity ?? 1) < threshold && (awardZ ?? 0) >= criticalZ)
            return Cohort(
                dimension: dimension, cohort: name, qualified: c[0], exposed: c[1],
                qualifiedShare: rounded(share(c[0], total[0]), places: 4),
                exposureShare: rounded(share(c[1], total[1]), places: 4),
                exposureRatio: exposureRatio[name].map { rounded($0, places: 4) },
                exposureDisparity: exposureDisparity.map { rounded($0, places: 4) },
                exposureZ: exposureZ.map { rounded($0, places: 4) }, bids: c[2], awards: c[3],
                bidShare: rounded(share(c[2], total[2]), places: 4),
                awardShare: rounded(share(c[3], total[3]), places: 4),
                awardRatio: awardRatio[name].map { rounded($0, places: 4) },
                awardDisparity: awardDisparity.map { rounded($0, places: 4) },
                awardZ: awardZ.map { rounded($0, places: 4) }, flagged: flagged)
        }
    }

    private func empty(weeks: Int, k: Int) -> Report {
        Report(
            weeks: weeks, k: k, gigs: 0, from: nil, to: nil, threshold: Self.threshold, minimumSample: minimumSample,
            comparisons: 0, criticalZ: rounded(Self.criticalZ(comparisons: 0), places: 4), cohorts: [])
    }
}
