import Foundation
import Marketplace

/// Makes copy k of an exported market (`gigctl export` NDJSON) a market of its own rather than a
/// twin of the source: what the match score and the price series depend on is varied,
/// deterministically from (k, the entity's id in the source), and every event stays valid for its
/// type. Copy 0 is the source unchanged. (Ids are not changed here: `gigbench scale` gives every
/// copy, copy 0 included, UUIDs of its own after this.)
///
/// What varies, per copy k:
/// - per freelancer: the hourly rate (`FreelancerRegistered`, `RateChanged`) and the minimum budget
///   of `PreferencesSet` by one factor in 0.6–1.6; hours per week by a factor in 0.5–1.5 (kept in
///   1…168, 0 stays 0); each skill's level by −1, 0 or +1 (kept in 1…3; `SkillsUpdated` moves the
///   same skill by the same step, so a freelancer's later claims stay consistent);
/// - per gig: every amount of money about it — budget min and max (`GigPosted`), bid amounts
///   (`BidPlaced`, `BidRevised`), the agreed amount (`BidAccepted`), the contract's amount
///   (`ContractStarted`) and its payment (`PaymentReleased`: gross scaled, fee recomputed from the
///   contract's basis points, net = gross − fee) — by one factor in 0.6–1.6, so a bid and its
///   acceptance stay equal and min ≤ max still holds (rounding is monotone);
/// - per review (contract and side): the rating by −1, 0, 0 or +1 (kept in 1…5).
///
/// Other events, and every field not named above, are left as they are.
package struct MarketCopies: Sendable {
    /// Per contract of the source (by id): its gig and platform fee (from `ContractStarted`).
    let contracts: [String: (gig: String, feeBasisPoints: Int64)]

    static let perturbed: Set<String> = [
        "FreelancerRegistered", "SkillsUpdated", "RateChanged", "AvailabilityChanged", "PreferencesSet", "GigPosted",
        "BidPlaced", "BidRevised", "BidAccepted", "ContractStarted", "PaymentReleased", "ReviewSubmitted",
    ]

    /// Reads the contracts of the source's lines (one pass over its `ContractStarted` events).
    package init(sourceLines: [ArraySlice<UInt8>]) {
        var contracts: [String: (gig: String, feeBasisPoints: Int64)] = [:]
        for line in sourceLines where Self.eventType(of: line) == "ContractStarted" {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
                let data = object["data"] as? [String: Any], let contract = data["contractId"] as? String,
                let gig = data["gigId"] as? String
            else { continue }
            contracts[contract] = (gig, Self.integer(data["platformFeeBasisPoints"]) ?? 0)
        }
        self.contracts = contracts
    }

    static let typeKey = Array(#""type": ""#.utf8)

    /// The value of the line's top-level `"type": "…"` (the export writes jsonb text, whose keys
    /// are `data`, `type`, … and whose payloads have no `type` key), without decoding the line.
    static func eventType(of line: ArraySlice<UInt8>) -> String? {
        let key = typeKey
        var i = line.startIndex
        while i + key.count < line.endIndex {
            if line[i] == key[0], line[i..<(i + key.count)].elementsEqual(key) {
                var end = i + key.count
                while end < line.endIndex, line[end] != UInt8(ascii: "\"") { end += 1 }
                return String(decoding: line[(i + key.count)..<end], as: UTF8.self)
            }
            i += 1
        }
        return nil
    }

    /// `line` as copy `k`'s, or nil when it stays as it is (copy 0, or an event with nothing to vary).
    package func vary(_ line: ArraySlice<UInt8>, copy k: Int) throws -> [UInt8]? {
        guard k != 0, let type = Self.eventType(of: line), Self.perturbed.contains(type) else { return nil }
        guard var object = try JSONSerialization.jsonObject(with: Data(line)) as? [String: Any],
            var data = object["data"] as? [String: Any]
        else { throw CopyError("an export line of type \(type) is not a JSON object with a data object") }
        let key = UInt64(k)
        switch type {
        case "FreelancerRegistered", "SkillsUpdated", "RateChanged", "AvailabilityChanged", "PreferencesSet":
            guard let freelancer = data["freelancerId"] as? String else { return nil }
            let rate = Self.factor(key, "rate", freelancer, 600...1600)
            if let money = data["hourlyRate"] { data["hourlyRate"] = try Self.scaled(money, rate) }
            if let money = data["minimumBudget"], !(money is NSNull) {
                data["minimumBudget"] = try Self.scaled(money, rate)
            }
            if let hours = Self.integer(data["hoursPerWeek"]), hours > 0 {
                let factor = Self.factor(key, "hours", freelancer, 500...1500)
                data["hoursPerWeek"] = Int(min(168, max(1, (hours * factor + 500) / 1000)))
            }
            if let skills = data["skills"] as? [[String: Any]] {
                data["skills"] = skills.map { claim -> [String: Any] in
                    guard let skill = claim["skill"] as? String, let level = Self.integer(claim["level"]) else {
                        return claim
                    }
                    var claim = claim
                    let step = Int64(Self.hash(key, "level", freelancer, skill) % 3) - 1
                    claim["level"] = Int(min(3, max(1, level + step)))
                    return claim
                }
            }
        case "GigPosted", "BidPlaced", "BidRevised", "BidAccepted", "ContractStarted":
            guard let gig = data["gigId"] as? String else { return nil }
            let factor = Self.factor(key, "gig", gig, 600...1600)
            for field in ["budgetMin", "budgetMax", "amount", "agreedAmount"] {
                if let money = data[field] { data[field] = try Self.scaled(money, factor) }
            }
        case "PaymentReleased":
            guard let contract = data["contractId"] as? String, let terms = contracts[contract],
                let gross = data["gross"] as? [String: Any], let minor = Self.integer(gross["minorUnits"]),
                let code = gross["currency"] as? String
            else { return nil }
            let factor = Self.factor(key, "gig", terms.gig, 600...1600)
            let newGross = Money(minorUnits: Self.scale(minor, factor), currency: try Currency(code: code))
            let fee = try newGross.share(basisPoints: terms.feeBasisPoints)
            let net = try newGross.subtracting(fee)
            data["gross"] = Self.json(newGross)
            data["platformFee"] = Self.json(fee)
            data["net"] = Self.json(net)
        case "ReviewSubmitted":
            guard let contract = data["contractId"] as? String, let rating = Self.integer(data["rating"]) else {
                return nil
            }
            let side = data["authorSide"] as? String ?? ""
            let step: Int64 = [-1, 0, 0, 1][Int(Self.hash(key, "rating", contract, side) % 4)]
            data["rating"] = Int(min(5, max(1, rating + step)))
        default:
            return nil
        }
        object["data"] = data
        return [UInt8](try JSONSerialization.data(withJSONObject: object))
    }

    struct CopyError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    static func json(_ money: Money) -> [String: Any] {
        ["currency": money.currency.code, "minorUnits": Int(money.minorUnits)]
    }

    /// A `Money` JSON object with its minor units times `factor` ‰ (rounded; a positive amount
    /// stays at least 1).
    static func scaled(_ value: Any, _ factor: Int64) throws -> Any {
        guard var money = value as? [String: Any], let minor = integer(money["minorUnits"]) else {
            throw CopyError("an amount of money is not {\"currency\", \"minorUnits\"}")
        }
        money["minorUnits"] = Int(scale(minor, factor))
        return money
    }

    static func scale(_ minor: Int64, _ factor: Int64) -> Int64 {
        guard minor > 0 else { return minor }
        let (product, overflow) = minor.multipliedReportingOverflow(by: factor)
        guard !overflow else { return minor }
        return max(1, (product + 500) / 1000)
    }

    static func integer(_ value: Any?) -> Int64? {
        switch value {
        case let v as Int: Int64(v)
        case let v as Int64: v
        case let v as NSNumber: v.int64Value
        default: nil
        }
    }

    /// A factor in `range` (per mille) for (copy, what, id).
    static func factor(_ k: UInt64, _ salt: String, _ id: String, _ range: ClosedRange<Int64>) -> Int64 {
        range.lowerBound + Int64(hash(k, salt, id) % UInt64(range.count))
    }

    /// FNV-1a over the copy number, a salt and the ids, finished with splitmix64's mixer.
    static func hash(_ k: UInt64, _ parts: String...) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        func add(_ byte: UInt8) {
            h ^= UInt64(byte)
            h = h &* 0x0000_0100_0000_01b3
        }
        for shift in stride(from: 0, to: 64, by: 8) { add(UInt8(truncatingIfNeeded: k >> UInt64(shift))) }
        for part in parts {
            for byte in part.utf8 { add(byte) }
            add(0)
        }
        h ^= h >> 30
        h = h &* 0xbf58_476d_1ce4_e5b9
        h ^= h >> 27
        h = h &* 0x94d0_49bb_1331_11eb
        h ^= h >> 31
        return h
    }
}
