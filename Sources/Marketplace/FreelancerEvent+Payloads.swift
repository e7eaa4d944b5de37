extension FreelancerEvent {
    /// `FreelancerRegistered` v1:
    /// `{"freelancerId", "name", "skills": [{"skill", "level"}], "hourlyRate": Money, "hoursPerWeek"}`.
    /// Skills are sorted by slug.
    public struct FreelancerRegistered: EventPayload {
        public static let eventType = "FreelancerRegistered"
        public let freelancerID: FreelancerID
        public let name: String
        public let skills: [SkillProficiency]
        public let hourlyRate: Money
        public let hoursPerWeek: Int

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
        public static let eventType = "SkillsUpdated"
        public let freelancerID: FreelancerID
        public let skills: [SkillProficiency]

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
        public static let eventType = "RateChanged"
        public let freelancerID: FreelancerID
        public let hourlyRate: Money

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
        public static let eventType = "AvailabilityChanged"
        public let freelancerID: FreelancerID
        public let hoursPerWeek: Int

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
