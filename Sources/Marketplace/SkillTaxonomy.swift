/// The skills the marketplace knows. Unknown skills are rejected, never invented.
///
/// The taxonomy is append only: slugs are stored in events, so removing or renaming one would make
/// old events unreadable. To retire a skill, stop offering it in the UI and keep it here.
public enum SkillTaxonomy {
    /// Every known skill, sorted by slug.
    public static let all: [SkillDefinition] = [
        SkillDefinition("ai-ethics", "AI Ethics", .niche, .artificialIntelligence),
        SkillDefinition("android", "Android Development", .common, .software),
        SkillDefinition("cloud-infrastructure", "Cloud Infrastructure", .common, .software),
        SkillDefinition("computer-vision", "Computer Vision", .niche, .artificialIntelligence),
        SkillDefinition("copywriting", "Copywriting", .common, .content),
        SkillDefinition("cybersecurity", "Cybersecurity", .niche, .software),
        SkillDefinition("data-engineering", "Data Engineering", .common, .data),
        SkillDefinition("data-labeling", "Data Labeling", .common, .data),
        SkillDefinition("data-science", "Data Science", .common, .data),
        SkillDefinition("data-visualization", "Data Visualization", .common, .data),
        SkillDefinition("design", "Design", .common, .design),
        SkillDefinition("devops", "DevOps", .common, .software),
        SkillDefinition("digital-marketing", "Digital Marketing", .common, .marketing),
        SkillDefinition("edge-ai", "Edge AI", .niche, .artificialIntelligence),
        SkillDefinition("explainable-ai", "Explainable AI", .niche, .artificialIntelligence),
        SkillDefinition("generative-ai", "Generative AI", .common, .artificialIntelligence),
        SkillDefinition("illustration", "Illustration", .common, .design),
        SkillDefinition("ios", "iOS Development", .common, .software),
        SkillDefinition("javascript", "JavaScript", .common, .software),
        SkillDefinition("llm-fine-tuning", "LLM Fine-Tuning", .niche, .artificialIntelligence),
        SkillDefinition("machine-learning", "Machine Learning", .common, .artificialIntelligence),
        SkillDefinition("mlops", "MLOps", .niche, .artificialIntelligence),
        SkillDefinition("nlp", "Natural Language Processing", .niche, .artificialIntelligence),
        SkillDefinition("project-management", "Project Management", .common, .business),
        SkillDefinition("prompt-engineering", "Prompt Engineering", .common, .artificialIntelligence),
        SkillDefinition("python", "Python", .common, .software),
        SkillDefinition("reinforcement-learning", "Reinforcement Learning", .niche, .artificialIntelligence),
        SkillDefinition("rust", "Rust", .niche, .software),
        SkillDefinition("seo", "SEO", .common, .marketing),
        SkillDefinition("sql", "SQL", .common, .data),
        SkillDefinition("statistics", "Statistics", .common, .data),
        SkillDefinition("swift", "Swift", .common, .software),
        SkillDefinition("technical-writing", "Technical Writing", .common, .content),
        SkillDefinition("time-series-forecasting", "Time Series Forecasting", .niche, .data),
        SkillDefinition("translation", "Translation", .common, .content),
        SkillDefinition("typescript", "TypeScript", .common, .software),
        SkillDefinition("ui-ux-design", "UI/UX Design", .common, .design),
        SkillDefinition("video-editing", "Video Editing", .common, .design),
        SkillDefinition("web", "Web Development", .common, .software),
        SkillDefinition("writing", "Writing", .common, .content),
    ]

    private static let bySlug: [String: SkillDefinition] = Dictionary(
        all.map { ($0.slug, $0) }, uniquingKeysWith: { first, _ in first })

    /// The definition of `slug`, or `nil` when the taxonomy does not know it.
    public static func definition(of slug: String) -> SkillDefinition? { bySlug[slug] }
}
