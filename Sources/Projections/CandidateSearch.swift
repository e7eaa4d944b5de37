import Foundation
import Marketplace

/// The top-k search behind ``Matching/candidates(forGig:k:)``: a threshold algorithm over the
/// (skill, level) lists of `match_freelancer_skills_v4` and the (skill, level, skill, level)
/// lists of `match_freelancer_skill_pairs_v4`, each read in `rank_key` order.
///
/// A freelancer's score is coverage (fixed by its levels on the gig's skills) + budget,
/// experience and preference fits (each ≤ 1) + its own part (availability and reputation,
/// = −`rank_key`). An unread freelancer with a given
/// combination of levels is unread in every list of that combination, so its own part is at most
/// that of the furthest-read of those lists: the combination's bound. Reading stops when every
/// combination's bound is below the k-th score — or equal to it (within 1e-9 of rounding) with
/// the furthest list already past the k-th freelancer's id, since ties go to the smaller id.
struct CandidateSearch {
    struct Request {
        let skill: String
        let level: Int
        /// Only freelancers who also have these skills at these levels: with one, the list of
        /// that pair of (skill, level); with two, that list filtered to the second one's level.
        let also: [(skill: String, level: Int)]
        let afterKey: Double
        let afterID: UUID
        let limit: Int
    }

    struct Fetched {
        let request: Int
        let id: UUID
        let key: Double
        let facts: Matching.FreelancerFacts?
        let levels: [String: Int]
        let experience: [String: Matching.Experience]
    }

    private struct List {
        let skill: String
        let level: Int
        var also: [(skill: String, level: Int)] = []
        var key = -Double.infinity
        var id = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
        var started = false
        var exhausted = false
        var limit: Int
    }

    private struct Combination {
        /// Σ idf × level/3 over the gig's skills (duplicates counted), the coverage numerator.
        let covered: Double
        /// The (skill, level) lists of its levels.
        let lists: [Int]
        /// (skill, level) pairs, rarest skill first: for a list of exactly this combination.
        let pairs: [(skill: String, level: Int)]
        /// That list, once read: the pair list of its two rarest skills (filtered to the third
        /// one's level when it has three).
        var own: Int?
    }

    static let levels = 1...3
    static let epsilon = 1e-9

    let gig: Matching.GigContext
    let weights: Matching.Weights
    /// Weights the rank key does not fit: read every list to its end.
    let exhaustive: Bool
    let firstRead: Int?
    private(set) var scored: [UUID: Matching.Match] = [:]

    init(gig: Matching.GigContext, weights: Matching.Weights, exhaustive: Bool, firstRead: Int? = nil) {
        self.gig = gig
        self.weights = weights
        self.exhaustive = exhaustive
        self.firstRead = firstRead
    }

    typealias Fetch = ([Request], _ gigSkills: [String], _ newcomersOnly: Bool) async throws -> [Fetched]

    /// Reads until the best `k` freelancers satisfying `qualifies` are scored (in ``scored``).
    mutating func run(k: Int, newcomersOnly: Bool, qualifies: (Matching.Match) -> Bool, fetch: Fetch) async throws {
        var skills: [String] = []
        var count: [String: Int] = [:]
        var idf: [String: Double] = [:]
        var total = 0.0
        for (skill, weight) in zip(gig.skills, gig.idf) {
            if count[skill] == nil { skills.append(skill) }
            count[skill, default: 0] += 1
            idf[skill] = weight
            total += weight
        }
        guard !skills.isEmpty, total > 0 else { return }
        let initial = exhaustive ? 5_000 : max(1, firstRead ?? max(4 * k, 32))
        var lists = skills.flatMap { skill in Self.levels.map { List(skill: skill, level: $0, limit: initial) } }
        func part(_ skill: String, _ level: Int) -> Double {
            Double(count[skill] ?? 0) * (idf[skill] ?? 0) * Double(level) / 3.0
        }
        var combinations: [Combination] = []
        if skills.count <= 5 {
            // Every combination of levels (0 = lacks the skill) on the gig's distinct skills.
            var levels = Array(repeating: 0, count: skills.count)
            while true {
                var i = 0
                while i < levels.count, levels[i] == Self.levels.upperBound {
                    levels[i] = 0
                    i += 1
                }
                if i == levels.count { break }
                levels[i] += 1
                var covered = 0.0
                var members: [Int] = []
                var pairs: [(skill: String, level: Int)] = []
                for (index, level) in levels.enumerated() where level > 0 {
                    covered += part(skills[index], level)
                    members.append(index * Self.levels.count + level - 1)
                    pairs.append((skills[index], level))
                }
                pairs.sort { (idf[$0.skill] ?? 0, $1.skill) > (idf[$1.skill] ?? 0, $0.skill) }
                combinations.append(Combination(covered: covered, lists: members, pairs: pairs))
            }
        } else {
            // Many skills: one (looser) bound per list, the other skills at the top level.
            for (index, list) in lists.enumerated() {
                let others = skills.filter { $0 != list.skill }.reduce(0.0) { $0 + part($1, Self.levels.upperBound) }
                combinations.append(
                    Combination(covered: part(list.skill, list.level) + others, lists: [index], pairs: []))
            }
        }
        let w = weights
        let minimumCoverage = newcomersOnly ? w.newcomerMinimumCoverage : nil
        // A freelancer's own part (availability and reputation, each at most 1) bounds what an
        // unread list can hold.
        let unreadKey = -(w.availability + w.reputation)
        let plain = lists.indices
        var probed = exhaustive
        while true {
            var wanted = Set<Int>()
            if exhaustive {
                wanted = Set(lists.indices.filter { !lists[$0].exhausted })
            } else {
                let ranked = scored.values.filter(qualifies).sorted {
                    $0.score != $1.score ? $0.score > $1.score : $0.freelancerID.sortsBefore($1.freelancerID)
                }
                let kth = ranked.count >= k ? ranked[k - 1] : nil
                // Open combinations, best bound first: reading the most promising ones first
                // raises the k-th score, which closes the rest without reading them.
                var open: [(bound: Double, list: Int)] = []
                for c in combinations.indices {
                    let combination = combinations[c]
                    var members = combination.lists
                    if let own = combination.own { members.append(own) }
                    if members.contains(where: { lists[$0].exhausted }) { continue }
                    if let minimumCoverage, combination.covered / total < minimumCoverage - Self.epsilon { continue }
                    // Its unread freelancers are unread in each of its lists: the furthest-read one bounds them.
                    // (key, id), an unstarted list's id before every id (it reads from the start).
                    func frontier(_ i: Int) -> (key: Double, id: UUID?) {
                        lists[i].started ? (lists[i].key, lists[i].id) : (unreadKey, nil)
                    }
                    func before(_ a: (key: Double, id: UUID?), _ b: (key: Double, id: UUID?)) -> Bool {
                        if a.key != b.key { return a.key < b.key }
                        guard let bID = b.id else { return false }
                        guard let aID = a.id else { return true }
                        return aID.sortsBefore(bID)
                    }
                    guard let furthest = members.max(by: { before(frontier($0), frontier($1)) }) else { continue }
                    let (key, id) = frontier(furthest)
                    let bound =
                        w.coverage * (combination.covered / total) + w.budget + w.experience + w.preference - key
                    if let kth {
                        if bound < kth.score - Self.epsilon { continue }
                        if bound <= kth.score + Self.epsilon, let id, !id.sortsBefore(kth.freelancerID) { continue }
                    }
                    // Still open: read on in a list of exactly this combination (a few skills), else the furthest.
                    if combination.pairs.count >= 2, combination.pairs.count <= 3 {
                        if combination.own == nil {
                            let driver = combination.pairs[0]
                            lists.append(
                                List(
                                    skill: driver.skill, level: driver.level,
                                    also: Array(combination.pairs.dropFirst()), limit: initial))
                            combinations[c].own = lists.count - 1
                        }
                        if let own = combinations[c].own { open.append((bound, own)) }
                    } else {
                        open.append((bound, furthest))
                    }
                }
                if let best = open.map(\.bound).max() {
                    for entry in open where entry.bound >= best - Self.epsilon { wanted.insert(entry.list) }
                }
            }
            if wanted.isEmpty { return }
            // With the first read, the head of every (skill, level) list (one row each): the best
            // own part in it, a much tighter bound than the largest possible.
            var probes = Set<Int>()
            if !probed {
                probed = true
                probes = Set(plain.filter { !wanted.contains($0) && !lists[$0].started })
                wanted.formUnion(probes)
            }
            let order = wanted.sorted()
            let requests = order.map {
                Request(
                    skill: lists[$0].skill, level: lists[$0].level, also: lists[$0].also, afterKey: lists[$0].key,
                    afterID: lists[$0].id,
                    limit: probes.contains($0) ? 1 : lists[$0].limit)
            }
            let rows = try await fetch(requests, gig.skills, newcomersOnly)
            var read = Array(repeating: 0, count: order.count)
            for row in rows {
                guard order.indices.contains(row.request) else { continue }
                read[row.request] += 1
                let index = order[row.request]
                lists[index].key = row.key
                lists[index].id = row.id
                if let facts = row.facts, scored[row.id] == nil {
                    scored[row.id] = gig.match(facts, levels: row.levels, experience: row.experience, weights: w)
                }
            }
            for (position, index) in order.enumerated() {
                lists[index].started = true
                if read[position] < requests[position].limit { lists[index].exhausted = true }
                if !probes.contains(index) { lists[index].limit = min(lists[index].limit * 2, 4_096) }
            }
        }
    }
}
