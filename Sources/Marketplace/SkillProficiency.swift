/// A skill a freelancer offers, at a level. Encodes as `{"level": 3, "skill": "nlp"}`.
public struct SkillProficiency: Hashable, Comparable, Sendable, Codable {
    /// The skill.
    public let skill: Skill
    /// How well the freelancer knows it.
    public let level: SkillLevel

    /// `skill` at `level`.
    public init(skill: Skill, level: SkillLevel) {
        self.skill = skill
        self.level = level
    }

    private enum CodingKeys: String, CodingKey {
        case skill
        case level
    }

    /// By skill slug, then level.
    public static func < (lhs: Self, rhs: Self) -> Bool {
        (lhs.skill, lhs.level) < (rhs.skill, rhs.level)
    }
}
