import Marketplace

/// The projectors GigLedger ships, in the order they run.
public enum ShippedProjectors {
    /// The shipped projectors reading through ``EventRegistry/marketplace``.
    public static var all: [any Projector] { all(registry: .marketplace) }

    /// The shipped projectors reading events through `registry` (a test's variant, say).
    public static func all(registry: EventRegistry) -> [any Projector] {
        [
            CompetitionByGigProjector(registry: registry), CompetitionBySkillProjector(registry: registry),
            PriceTrendsProjector(registry: registry), MatchingProjector(registry: registry),
            TimersProjector(registry: registry),
        ]
    }
}
