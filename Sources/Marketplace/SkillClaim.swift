/// A skill as a command states it, before validation: a slug and a level number.
///
/// Commands carry claims rather than ``SkillProficiency`` values so that `decide` is the one place
/// that rejects unknown skills (``DomainError/Code/unknownSkill``) and bad levels
/// (``DomainError/Code/invalidInput``).
public struct SkillClaim: Hashable, Sendable, Codable {
    /// The skill's slug, e.g. `computer-vision`.
    public var slug: String
    /// 1 (beginner) to 3 (expert).
    public var level: Int

    /// A claim of `slug` at level `level`, validated later by `decide`.
    public init(slug: String, level: Int) {
        self.slug = slug
        self.level = level
    }
}
