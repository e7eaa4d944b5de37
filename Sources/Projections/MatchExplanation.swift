import Foundation
import Marketplace

/// ``Matching/Match`` in words, one line per component, for `gigctl match explain` and the
/// service's explain: what the freelancer has and lacks, and how each number came about.
enum MatchExplanation {
    static func lines(
        _ m: Matching.Match, gig: Matching.GigContext, freelancer f: Matching.FreelancerFacts,
        experience: [String: Matching.Experience], weights w: Matching.Weights
    ) -> [String] {
        let terms = gig.terms
        var lines: [String] = []
        let distinct = Array(Set(gig.skills)).sorted()
        lines.append(
            "Skills: has \(m.matchedSkills.count) of the gig's \(distinct.count) skill(s)"
                + (m.matchedSkills.isEmpty ? "" : " (\(m.matchedSkills.joined(separator: ", ")))")
                + (m.missingSkills.isEmpty ? "" : "; lacks \(m.missingSkills.joined(separator: ", "))")
                + "; rarer skills and higher levels count more: coverage \(number(m.coverage)).")
        let hours = Int(Matching.pricedHours(terms, w))
        let basis = terms.hours == nil ? "\(hours) hours (a typical fixed-price gig)" : "the gig's \(hours) hours"
        if f.currency != terms.currency {
            lines.append(
                "Budget: their rate is in \(f.currency), the gig pays in \(terms.currency) (currencies are never converted): budget fit 0."
            )
        } else {
            lines.append(
                "Budget: rate \(money(f.rate, f.currency))/h × \(basis) = \(money(Int64(Double(f.rate) * Double(hours)), f.currency)) "
                    + "against a budget of \(money(terms.budgetMin, terms.currency))–\(money(terms.budgetMax, terms.currency)): budget fit \(number(m.budgetFit))."
            )
        }
        lines.append(
            "Availability: \(f.hours) hours a week, \(f.active) active contract(s) at \(Int(w.hoursPerActiveContract)) hours each: availability \(number(m.availability))."
        )
        lines.append(
            f.started == 0
                ? "Reputation: a newcomer (no contract yet) starts at the prior: reputation \(number(m.reputation))."
                : "Reputation: \(f.completed) completed, \(f.failed) failed, \(f.ratingsN) client rating(s): reputation \(number(m.reputation))."
        )
        switch terms.experience {
        case .any, .entry:
            lines.append(
                "Experience: the gig asks for \(terms.experience == .any ? "no particular experience" : "entry level"), which everyone meets: experience fit \(number(m.experienceFit))."
            )
        case .intermediate, .expert:
            let target = Int(terms.experience == .expert ? w.expertContracts : w.intermediateContracts)
            let done = distinct.map { "\($0) \(experience[$0]?.completed ?? 0)" }.joined(separator: ", ")
            let rated = distinct.reduce(0) { $0 + (experience[$1]?.ratingsN ?? 0) }
            lines.append(
                "Experience: the gig asks for \(terms.experience.rawValue) (\(target) completed contract(s) per skill); completed in its skills: \(done); \(rated) client rating(s) on them: experience fit \(number(m.experienceFit))."
            )
        }
        let parts = Matching.preferenceFit(terms, skills: gig.skills, freelancer: f)
        var said: [String] = []
        if let minimum = f.minimumBudget, let currency = f.minimumBudgetCurrency {
            said.append(
                currency != terms.currency
                    ? "their minimum budget is in \(currency), the gig's in \(terms.currency)"
                    : parts.budget >= 1
                        ? "the budget meets their minimum of \(money(minimum, currency))"
                        : "the budget is under their minimum of \(money(minimum, currency))")
        }
        if !f.currencies.isEmpty {
            said.append(
                parts.currency >= 1
                    ? "they accept \(terms.currency)" : "they accept only \(f.currencies.joined(separator: ", "))")
        }
        if let limit = f.maxContracts {
            said.append("\(f.active) of the \(limit) contract(s) they take at once in use")
        }
        if !f.wantedSkills.isEmpty {
            said.append(
                parts.wanted >= 1
                    ? "the gig asks for a skill they want more of"
                    : "the gig asks for none of the skills they want more of (\(f.wantedSkills.joined(separator: ", ")))"
            )
        }
        lines.append(
            "Preferences: "
                + (said.isEmpty ? "none set" : said.joined(separator: "; "))
                + ": preference fit \(number(m.preferenceFit)).")
        lines.append(
            "Score: \(number(m.score)) under weights v\(w.version) (coverage \(w.coverage), budget \(w.budget), availability \(w.availability), reputation \(w.reputation), experience \(w.experience), preferences \(w.preference))."
        )
        return lines
    }

    static func number(_ value: Double) -> String { String(format: "%.2f", value) }

    /// `minor` in `code`, e.g. `1,234.50 EUR` (the plain minor units for an unknown code).
    static func money(_ minor: Int64, _ code: String) -> String {
        guard let currency = try? Currency(code: code) else { return "\(minor) minor units of \(code)" }
        let scale = pow(10, Double(currency.minorUnitDigits))
        return String(format: "%.\(currency.minorUnitDigits)f", Double(minor) / scale) + " " + code
    }
}
