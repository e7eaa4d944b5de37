extension FreelancerEvent {
    /// `FreelancerRegistered` v1:
    /// `{"freelancerId", "name", "skills": [{"skill", "level"}], "hourlyRate": Money, "hoursPerWeek"}`.
    /// Skills are sorted by slug. `country` (ISO 3166-1 alpha-2) is optional: absent in events
    /// written before freelancers said where they work, and when they do not say.
    public struct FreelancerRegistered: EventPayload {
        /// The stored type name.
        public static let eventType = "FreelancerRegistered"
        /// The new freelancer: the id of their `freelancer-<id>` stream.
        public let freelancerID: FreelancerID
        /// The freelancer's name.
        public let name: String
        /// The skills offered, sorted by slug.
        public let skills: [SkillProficiency]
        /// The hourly rate.
        public let hourlyRate: Money
        /// Hours a week available, 0–168.
        public let hoursPerWeek: Int
        /// Where the freelancer works (the fairness audit's country cohorts); nil: not said.
        public let country: String?

        /// A `FreelancerRegistered` with these fields, as `decide` records it.
        public init(
            freelancerID: FreelancerID, name: String, skills: [SkillProficiency], hourlyRate: Money, hoursPerWeek: Int,
            country: String? = nil
        ) {
            self.freelancerID = freelancerID
            self.name = name
            self.skills = skills
            self.hourlyRate = hourlyRate
            self.hoursPerWeek = hoursPerWeek
            self.country = country
        }

        private enum CodingKeys: String, CodingKey {
            case freelancerID = "freelancerId"
            case name
            case skills
            case hourlyRate
            case hoursPerWeek
            case country
        }
    }

    /// `SkillsUpdated` v1: `{"freelancerId", "skills": [{"skill", "level"}]}`, the whole new set,
    /// sorted by slug.
    public struct SkillsUpdated: EventPayload {
        /// The stored type name.
        public static let eventType = "SkillsUpdated"
        /// The freelancer (the id of their stream).
        public let freelancerID: FreelancerID
        /// The whole new skill set, sorted by slug.
        public let skills: [SkillProficiency]

        /// A `SkillsUpdated` with these fields, as `decide` records it.
        public init(freelancerID: FreelancerID, skills: [SkillProficiency]) {
            self.freelancerID = freelancerID
            self.skills = skills
        }

        private enum CodingKeys: String, CodingKey {
            case freelancerID = "freelancerId"
            case skills
        }
    }

    /// `RateChanged` v1: `{"freelancerId", "hourlyRate": Money}`.
    public struct RateChanged: EventPayload {
        /// The stored type name.
        public static let eventType = "RateChanged"
        /// The freelancer (the id of their stream).
        public let freelancerID: FreelancerID
        /// The hourly rate.
        public let hourlyRate: Money

        /// A `RateChanged` with these fields, as `decide` records it.
        public init(freelancerID: FreelancerID, hourlyRate: Money) {
            self.freelancerID = freelancerID
            self.hourlyRate = hourlyRate
        }

        private enum CodingKeys: String, CodingKey {
            case freelancerID = "freelancerId"
            case hourlyRate
        }
    }

    /// `AvailabilityChanged` v1: `{"freelancerId", "hoursPerWeek"}`.
    public struct AvailabilityChanged: EventPayload {
        /// The stored type name.
        public static let eventType = "AvailabilityChanged"
        /// The freelancer (the id of their stream).
        public let freelancerID: FreelancerID
        /// Hours a week available, 0–168.
        public let hoursPerWeek: Int

        /// An `AvailabilityChanged` with these fields, as `decide` records it.
        public init(freelancerID: FreelancerID, hoursPerWeek: Int) {
            self.freelancerID = freelancerID
            self.hoursPerWeek = hoursPerWeek
        }

        private enum CodingKeys: String, CodingKey {
            case freelancerID = "freelancerId"
            case hoursPerWeek
        }
    }

    /// `PreferencesSet` v1: `{"freelancerId", "minimumBudget": Money | null, "currencies": [code],
    /// "wantedSkills": [slug], "maxConcurrentContracts": int | null}`, the freelancer's whole set
    /// of preferences (see ``FreelancerPreferences``); currencies and skills sorted, each once.
    public struct PreferencesSet: EventPayload {
        /// The stored type name.
        public static let eventType = "PreferencesSet"
        /// The freelancer (the id of their stream).
        public let freelancerID: FreelancerID
        /// The whole new set, replacing the previous one.
        public let preferences: FreelancerPreferences

        /// A `PreferencesSet` with these fields, as `decide` records it.
        public init(freelancerID: FreelancerID, preferences: FreelancerPreferences) {
            self.freelancerID = freelancerID
            self.preferences = preferences
        }

        private enum CodingKeys: String, CodingKey {
            case freelancerID = "freelancerId"
            case minimumBudget
            case currencies
            case wantedSkills
            case maxConcurrentContracts
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            freelancerID = try container.decode(FreelancerID.self, forKey: .freelancerID)
            preferences = FreelancerPreferences(
                minimumBudget: try container.decodeIfPresent(Money.self, forKey: .minimumBudget),
                currencies: try container.decode([Currency].self, forKey: .currencies),
                wantedSkills: try container.decode([Skill].self, forKey: .wantedSkills),
                maxConcurrentContracts: try container.decodeIfPresent(Int.self, forKey: .maxConcurrentContracts))
        }

        /// Writes every key, `null` for an absent minimum budget or contract limit.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(freelancerID, forKey: .freelancerID)
            if let minimum = preferences.minimumBudget {
                try container.encode(minimum, forKey: .minimumBudget)
            } else {
                try container.encodeNil(forKey: .minimumBudget)
            }
            try container.encode(preferences.currencies, forKey: .currencies)
            try container.encode(preferences.wantedSkills, forKey: .wantedSkills)
            if let limit = preferences.maxConcurrentContracts {
                try container.encode(limit, forKey: .maxConcurrentContracts)
            } else {
                try container.encodeNil(forKey: .maxConcurrentContracts)
            }
        }
    }
}

extension FreelancerEvent.FreelancerRegistered {
    /// Equal but for the personal fields (``PersonalData/fields``), which no rule reads.
    public func sameFacts(as other: Self) -> Bool {
        freelancerID == other.freelancerID && skills == other.skills && hourlyRate == other.hourlyRate
            && hoursPerWeek == other.hoursPerWeek && country == other.country
    }
}
