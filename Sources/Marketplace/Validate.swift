import Foundation

/// The input checks `decide` shares. Each throws a ``DomainError`` naming the field and the fix.
enum Validate {
    /// Checks a text's length and characters.
    ///
    /// - Parameters:
    ///   - multiline: whether newline and tab are allowed (descriptions, notes, reviews); other
    ///     control characters never are.
    ///   - length: allowed character count; a lower bound of 1 also refuses whitespace-only text.
    static func text(
        _ value: String, field: String, length: ClosedRange<Int>, multiline: Bool
    ) throws(DomainError) {
        guard value.utf8.count <= length.upperBound * 4, length.contains(value.count) else {
            throw DomainError(
                .invalidInput,
                "\(field) must be \(length.lowerBound)–\(length.upperBound) characters long; it has \(value.count). Shorten or fill it in."
            )
        }
        if length.lowerBound > 0, value.allSatisfy(\.isWhitespace) {
            throw DomainError(.invalidInput, "\(field) must not be blank: give it some text.")
        }
        for scalar in value.unicodeScalars {
            let isLineBreakOrTab = scalar == "\n" || scalar == "\t"
            let isControl = scalar.properties.generalCategory == .control
            let isSeparator = scalar == "\u{2028}" || scalar == "\u{2029}"
            if (isControl || isSeparator) && !(multiline && isLineBreakOrTab) {
                let allowed = multiline ? " other than newline and tab" : ""
                throw DomainError(
                    .invalidInput,
                    "\(field) contains a control character (U+\(String(scalar.value, radix: 16, uppercase: true)))\(allowed): remove it."
                )
            }
        }
    }

    /// Checks that `value` lies in `range`.
    static func number(_ value: Int, field: String, in range: ClosedRange<Int>) throws(DomainError) {
        guard range.contains(value) else {
            throw DomainError(
                .invalidInput,
                "\(field) must be between \(range.lowerBound) and \(range.upperBound); it is \(value).")
        }
    }

    /// Checks that `amount` is positive and at most ``MarketplaceLimits/maximumAmountMinorUnits``.
    static func positiveAmount(
        _ amount: Money, field: String, code: DomainError.Code = .invalidAmount
    ) throws(DomainError) {
        let cap = MarketplaceLimits.maximumAmountMinorUnits
        guard amount.minorUnits > 0, amount.minorUnits <= cap else {
            throw DomainError(
                code,
                "\(field) must be more than 0 and at most \(cap) minor units of \(amount.currency); it is \(amount.minorUnits)."
            )
        }
    }

    /// Checks that a time to be stored lies in the years 1970–9999 (the range of the stored form).
    static func storableTime(_ date: Date, field: String) throws(DomainError) {
        guard EventTime.isStorable(date) else {
            throw DomainError(
                .invalidInput,
                "\(field) must lie between the years 1970 and 9999: send a real calendar time.")
        }
    }

    /// Checks the command's business time.
    static func context(_ context: CommandContext) throws(DomainError) {
        try storableTime(context.occurredAt, field: "occurredAt")
        if case .admin(let name) = context.actor {
            try text(name, field: "The admin actor's name", length: MarketplaceLimits.adminNameLength, multiline: false)
        }
    }

    /// Resolves gig skill slugs: known, de-duplicated, sorted, within
    /// ``MarketplaceLimits/gigSkillCount``.
    static func gigSkills(_ slugs: [String]) throws(DomainError) -> [Skill] {
        var skills = Set<Skill>()
        for slug in slugs {
            skills.insert(try Skill(slug: slug))
        }
        // "At least one known skill" is the skill rule (UNKNOWN_SKILL); too many is a size limit.
        guard !skills.isEmpty else {
            throw DomainError(.unknownSkill, "skills is empty: name at least one skill from the taxonomy.")
        }
        let range = MarketplaceLimits.gigSkillCount
        guard range.contains(skills.count) else {
            throw DomainError(
                .invalidInput,
                "skills names \(skills.count) skills; at most \(range.upperBound) are allowed: keep the essential ones."
            )
        }
        return skills.sorted()
    }

    /// Resolves freelancer skill claims: known skills, levels 1–3, each skill once, sorted.
    /// A freelancer's preferences, normalised: currencies and skills sorted and unique.
    static func preferences(_ command: FreelancerCommand.SetPreferences) throws(DomainError) -> FreelancerPreferences {
        if let minimum = command.minimumBudget { try positiveAmount(minimum, field: "minimumBudget") }
        var currencies = Set<Currency>()
        for code in command.currencies { currencies.insert(try Currency(code: code)) }
        var skills = Set<Skill>()
        for slug in command.wantedSkills { skills.insert(try Skill(slug: slug)) }
        try number(currencies.count, field: "currencies (count)", in: MarketplaceLimits.preferenceListCount)
        try number(skills.count, field: "wantedSkills (count)", in: MarketplaceLimits.preferenceListCount)
        if let limit = command.maxConcurrentContracts {
            try number(limit, field: "maxConcurrentContracts", in: MarketplaceLimits.maxConcurrentContracts)
        }
        return FreelancerPreferences(
            minimumBudget: command.minimumBudget, currencies: currencies.sorted(),
            wantedSkills: skills.sorted { $0.slug < $1.slug }, maxConcurrentContracts: command.maxConcurrentContracts)
    }

    static func freelancerSkills(_ claims: [SkillClaim]) throws(DomainError) -> [SkillProficiency] {
        var bySkill: [Skill: SkillLevel] = [:]
        for claim in claims {
            let skill = try Skill(slug: claim.slug)
            guard let level = SkillLevel(rawValue: claim.level) else {
                throw DomainError(
                    .invalidInput,
                    "The level of skill \(skill) must be 1 (beginner), 2 (intermediate) or 3 (expert); it is \(claim.level)."
                )
            }
            guard bySkill[skill] == nil else {
                throw DomainError(
                    .invalidInput, "The skill \(skill) is listed twice: list each skill once, with one level.")
            }
            bySkill[skill] = level
        }
        let range = MarketplaceLimits.freelancerSkillCount
        guard range.contains(bySkill.count) else {
            throw DomainError(
                .invalidInput,
                "skills must list \(range.lowerBound)–\(range.upperBound) skills; it lists \(bySkill.count).")
        }
        return bySkill.map { SkillProficiency(skill: $0.key, level: $0.value) }.sorted()
    }
}
