/// The projectors GigLedger ships, in the order they run.
public enum ShippedProjectors {
    public static var all: [any Projector] {
        [
            CompetitionByGigProjector(), CompetitionBySkillProjector(), PriceTrendsProjector(), MatchingProjector(),
            TimersProjector(),
        ]
    }
}
