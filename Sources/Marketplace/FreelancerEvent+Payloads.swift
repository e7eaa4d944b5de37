extension FreelancerEvent {
    /// `FreelancerRegistered` v1:
    /// `{"freelancerId", "name", "skills": [{"skill", "level"}], "hourlyRate": Money, "hoursPerWeek"}`.
    /// Skills are sorted by slug.
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

        /// A `FreelancerRegistered` with these fields, as `decide` records it.
        public init(
            freelancerID: FreelancerID, name: String, skills: [SkillProficiency], hourlyRate: Money, hoursPerWeek: Int
        ) {
            self.freelancerID = freelancerID
            self.name = name
            self.skills = skills
            self.hourlyRate = hourlyRate
            self.hoursPerWeek = hoursPerWeek
        }

        private enum CodingKeys: String, CodingKey {
            case freelancerID = "freelancerId"
            case name
            case skills
            case hourlyRate
            case hoursPerWeek
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
}
