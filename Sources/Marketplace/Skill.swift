/// A skill from the ``SkillTaxonomy``, identified by its slug (e.g. `machine-learning`).
///
/// A `Skill` value always names a known skill. Encodes as the plain slug string.
public struct Skill: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The lower-case slug.
    public let slug: String

    /// The known skill `slug`.
    ///
    /// - Throws: ``DomainError/Code/unknownSkill`` when the taxonomy has no such slug (slugs are
    ///   lower case; `Python` is unknown, `python` is known).
    public init(slug: String) throws(DomainError) {
        guard SkillTaxonomy.definition(of: slug) != nil else {
            throw DomainError(
                .unknownSkill,
                "The skill \(slug.prefix(60)) is not in the skill taxonomy: use a lower-case slug from SkillTaxonomy.all, e.g. machine-learning or python."
            )
        }
        self.slug = slug
    }

    /// The taxonomy entry (display name, rarity, group).
    public var definition: SkillDefinition {
        // Every Skill is built from a known slug, and the taxonomy never shrinks.
        SkillTaxonomy.definition(of: slug) ?? SkillDefinition(slug, slug, .common, .business)
    }

    /// The human name, e.g. `Explainable AI`.
    public var displayName: String { definition.displayName }

    /// Whether the taxonomy labels the skill niche.
    public var isNiche: Bool { definition.rarity == .niche }

    public var description: String { slug }

    /// Alphabetical by slug.
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.slug < rhs.slug }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let slug = try container.decode(String.self)
        guard SkillTaxonomy.definition(of: slug) != nil else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "\(slug.prefix(60)) is not a skill in the taxonomy.")
        }
        self.slug = slug
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(slug)
    }
}
