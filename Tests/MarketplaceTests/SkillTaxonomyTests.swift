import Foundation
import Marketplace
import Testing

@Suite struct SkillTaxonomyTests {
    /// The taxonomy is append only: these slugs are stored in events and must stay.
    static let required = [
        "machine-learning", "data-science", "nlp", "computer-vision", "ai-ethics", "data-labeling",
        "prompt-engineering", "edge-ai", "generative-ai", "explainable-ai", "mlops", "llm-fine-tuning",
        "python", "swift", "web", "design", "writing", "seo",
    ]

    @Test func containsTheSkillsTheMarketPaysFor() {
        for slug in Self.required {
            #expect(SkillTaxonomy.definition(of: slug) != nil, "\(slug)")
        }
        #expect(SkillTaxonomy.all.count >= Self.required.count + 12)
    }

    @Test func slugsAreSortedUniqueLowerCaseSlugs() {
        let slugs = SkillTaxonomy.all.map(\.slug)
        #expect(slugs == slugs.sorted())
        #expect(Set(slugs).count == slugs.count)
        for slug in slugs {
            #expect(slug.allSatisfy { ($0.isLowercase && $0.isASCII) || $0.isNumber || $0 == "-" }, "\(slug)")
            #expect(!slug.hasPrefix("-") && !slug.hasSuffix("-") && !slug.contains("--"), "\(slug)")
        }
        #expect(SkillTaxonomy.all.allSatisfy { !$0.displayName.isEmpty })
    }

    @Test func labelsRarity() throws {
        #expect(try Skill(slug: "explainable-ai").isNiche)
        #expect(try !Skill(slug: "python").isNiche)
        #expect(try Skill(slug: "nlp").displayName == "Natural Language Processing")
    }

    @Test(arguments: ["Python", "quantum-basket-weaving", "", " python", "python "])
    func rejectsUnknownSkills(slug: String) {
        expectFailure(.unknownSkill) { _ = try Skill(slug: slug) }
    }

    @Test func encodesAsTheSlug() throws {
        let data = try JSONEncoder().encode([try Skill(slug: "edge-ai")])
        #expect(String(decoding: data, as: UTF8.self) == #"["edge-ai"]"#)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([Skill].self, from: Data(#"["unknown"]"#.utf8)) }
    }
}
