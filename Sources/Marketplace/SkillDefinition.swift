/// One entry of the ``SkillTaxonomy``: a slug, how people read it, and how rare it is.
public struct SkillDefinition: Hashable, Sendable {
    /// How scarce a skill is in the market, as curated by the taxonomy's editors.
    ///
    /// Matching weighs skills by rarity measured from live data (idf); this flag is the editorial
    /// label shown in the UI and used as the prior for a new marketplace with little data.
    public enum Rarity: String, Hashable, Sendable, Codable {
        /// Few freelancers offer it (e.g. explainable-ai, edge-ai).
        case niche
        /// Widely offered (e.g. python, web).
        case common
    }

    /// A broad family of skills, for grouping in listings and reports.
    public enum Group: String, Hashable, Sendable, Codable, CaseIterable {
        case artificialIntelligence
        case data
        case software
        case design
        case content
        case marketing
        case business
    }

    /// The stable, lower-case slug, e.g. `explainable-ai`.
    public let slug: String
    /// The human name, e.g. `Explainable AI`.
    public let displayName: String
    /// Editorial rarity.
    public let rarity: Rarity
    /// The skill's family.
    public let group: Group

    init(_ slug: String, _ displayName: String, _ rarity: Rarity, _ group: Group) {
        self.slug = slug
        self.displayName = displayName
        self.rarity = rarity
        self.group = group
    }
}
