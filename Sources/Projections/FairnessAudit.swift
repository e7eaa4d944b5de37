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

    /// Where the matching read model is read.
    public let pool: ConnectionPool
    /// The weights the top-k lists are computed with.
    public let weights: Matching.Weights
    /// Below this many qualified pairs (bids) a cohort's exposure (award) disparity is not judged.
    public var minimumSample = 20

    /// An audit of the matching read model behind `pool`, ranking with `weights`.
    public init(pool: ConnectionPool, weights: Matching.Weights = .v2) {
        self.pool = pool
        self.weights = weights
    }

    /// Audits the gigs posted in the last `weeks` weeks (1–520) with top-`k` lists (1–100).
    public func run(weeks: Int = 4, k: Int = 10) async throws -> Snapshot<Report> {
        guard (1...520).contains(weeks) else {
            throw ReadQueryError.invalidArgument("weeks must be 1…520; got \(weeks).")
        }
        guard (1...100).contains(k) else { throw ReadQueryError.invalidArgument("k must be 1…100; got \(k).") }
        let matching = Matching(pool: pool, weights: weights)
        let (report, checkpoints) = try await ReadModels.read(pool, Matching.projections) { conn in
            try await audit(weeks: weeks, k: k, matching: matching, conn)
        }
        return Snapshot(data: report, checkpoints: checkpoints)
    }

    private struct Member {
        let tenure: String
        let country: String
        let rateBand: String
    }

    private func audit(weeks: Int, k: Int, matching: Matching, _ conn: Connection) async throws -> Report {
        let head = try await conn.query("SELECT max(posted_at) FROM read_models.match_gigs_v4").rows.first
        guard let latest = try head?.decode(Date?.self, at: 0) ?? nil else { return empty(weeks: weeks, k: k) }
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
        let qualified = try await qualifiedPairs(from: from, to: to, conn)
        // Top-k places.
        var exposed: [UUID: Int] = [:]
        for gig in gigs {
            for match in try await matching.candidates(gig, k: k, conn) { exposed[match.freelancerID, default: 0] += 1 }
        }
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

        var dimensions: [(String, [String: [[Int]]])] = []
        for (dimension, key) in [
            ("tenure", \Member.tenure), ("country", \Member.country), ("rateBand", \Member.rateBand),
        ] as [(String, KeyPath<Member, String>)] {
            var byCohort: [String: [[Int]]] = [:]
            for (id, member) in members.sorted(by: { $0.key.uuidString < $1.key.uuidString }) {
                byCohort[member[keyPath: key], default: []].append(
                    [qualified[id] ?? 0, exposed[id] ?? 0, bids[id] ?? 0, awards[id] ?? 0])
            }
            dimensions.append((dimension, byCohort))
        }
        let (comparisons, critical, cohorts) = Self.judge(dimensions, minimumSample: minimumSample)
        return Report(
            weeks: weeks, k: k, gigs: gigs.count, from: from, to: to, threshold: Self.threshold,
            minimumSample: minimumSample, comparisons: comparisons, criticalZ: rounded(critical, places: 4),
            cohorts: cohorts)
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
        let counted = members.filter { $0[num] != 0 || $0[den] != 0 }
        let total = Double(counted.reduce(0) { $0 + $1[den] })
        guard total > 0, counted.count >= 2 else { return nil }
        let rate = Double(counted.reduce(0) { $0 + $1[num] }) / total
        let squares = counted.reduce(0.0) {
            let deviation = Double($1[num]) - rate * Double($1[den])
            return $0 + deviation * deviation
        }
        let n = Double(counted.count)
        return (rate, n / (n - 1) * squares / (total * total))
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
            let rest = names.filter { $0 != name }.flatMap { members[$0] ?? [] }
            guard let own = clusteredRate(members[name] ?? [], num, den), let others = clusteredRate(rest, num, den)
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
