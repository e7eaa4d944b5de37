/// How well a freelancer knows a skill: 1 (beginner) to 3 (expert). Encodes as the number.
public enum SkillLevel: Int, Hashable, Comparable, Sendable, Codable, CaseIterable {
    case beginner = 1
    case intermediate = 2
    case expert = 3

    /// By level: beginner < intermediate < expert.
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}
