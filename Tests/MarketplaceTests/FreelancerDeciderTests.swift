import Foundation
import Marketplace
import Testing

@Suite struct FreelancerDeciderTests {
    typealias F = Fixtures
    let me = ActorRef.freelancer(F.alice)

    func register(
        _ actor: ActorRef? = nil, name: String = "Alice Ng",
        skills: [SkillClaim] = [.init(slug: "nlp", level: 3), .init(slug: "python", level: 2)],
        rate: Money = Fixtures.eur(9_000), hours: Int = 30
    ) -> FreelancerCommand {
        .registerFreelancer(
            .init(
                context: F.context(actor ?? me), freelancerID: F.alice, name: name, skills: skills, hourlyRate: rate,
                hoursPerWeek: hours))
    }

    var registered: FreelancerEvent {
        .freelancerRegistered(
            .init(
                freelancerID: F.alice, name: "Alice Ng",
                skills: [
                    SkillProficiency(skill: F.skills("nlp")[0], level: .expert),
                    SkillProficiency(skill: F.skills("python")[0], level: .intermediate),
                ],
                hourlyRate: F.eur(9_000), hoursPerWeek: 30))
    }

    @Test func registersWithSortedValidatedSkills() {
        Given(FreelancerDecider.self).when(
            register(skills: [.init(slug: "python", level: 2), .init(slug: "nlp", level: 3)])
        )
        .then([registered])
    }

    @Test func anAdminMayRegisterAFreelancer() {
        Given(FreelancerDecider.self).when(register(F.admin)).then([registered])
    }

    @Test func othersMayNot() {
        Given(FreelancerDecider.self).when(register(.freelancer(F.bob))).thenFails(.notAllowed)
        Given(FreelancerDecider.self).when(register(.client(F.clientA))).thenFails(.notAllowed)
        Given(FreelancerDecider.self).when(register(.system)).thenFails(.notAllowed)
    }

    @Test func registeringAgainWithTheSameDataDecidesNothing() {
        Given(FreelancerDecider.self, [registered]).when(register()).thenNothing()
    }

    @Test func registeringAgainWithOtherDataIsRejected() {
        Given(FreelancerDecider.self, [registered]).when(register(hours: 20)).thenFails(.alreadyRegistered)
        Given(FreelancerDecider.self, [registered]).when(register(name: "Alice N.")).thenFails(.alreadyRegistered)
    }

    @Test func validatesRegistration() {
        let given = Given(FreelancerDecider.self)
        given.when(register(name: "")).thenFails(.invalidInput)
        given.when(register(name: "   ")).thenFails(.invalidInput)
        given.when(register(name: String(repeating: "a", count: 201))).thenFails(.invalidInput)
        given.when(register(name: "Alice\u{7}")).thenFails(.invalidInput)
        given.when(register(name: "Alice\nNg")).thenFails(.invalidInput)
        given.when(register(skills: [])).thenFails(.invalidInput)
        given.when(register(skills: [.init(slug: "basket-weaving", level: 1)])).thenFails(.unknownSkill)
        given.when(register(skills: [.init(slug: "nlp", level: 0)])).thenFails(.invalidInput)
        given.when(register(skills: [.init(slug: "nlp", level: 4)])).thenFails(.invalidInput)
        given.when(register(skills: [.init(slug: "nlp", level: 1), .init(slug: "nlp", level: 2)])).thenFails(
            .invalidInput)
        given.when(register(rate: F.eur(0))).thenFails(.invalidAmount)
        given.when(register(rate: F.eur(MarketplaceLimits.maximumAmountMinorUnits + 1))).thenFails(.invalidAmount)
        given.when(register(hours: -1)).thenFails(.invalidInput)
        given.when(register(hours: 169)).thenFails(.invalidInput)
        given.when(register(hours: 0)).then([
            .freelancerRegistered(
                .init(
                    freelancerID: F.alice, name: "Alice Ng",
                    skills: FreelancerDecider.fold([registered]).profile?.skills ?? [],
                    hourlyRate: F.eur(9_000), hoursPerWeek: 0))
        ])
    }

    @Test func updatesSkillsRateAndAvailability() {
        let given = Given(FreelancerDecider.self, [registered])
        let skills: [SkillClaim] = [.init(slug: "explainable-ai", level: 3)]
        let expected = [SkillProficiency(skill: F.skills("explainable-ai")[0], level: .expert)]
        given.when(.updateSkills(.init(context: F.context(me), freelancerID: F.alice, skills: skills)))
            .then([.skillsUpdated(.init(freelancerID: F.alice, skills: expected))])
        given.when(.changeRate(.init(context: F.context(me), freelancerID: F.alice, hourlyRate: F.usd(10_000))))
            .then([.rateChanged(.init(freelancerID: F.alice, hourlyRate: F.usd(10_000)))])
        given.when(.changeAvailability(.init(context: F.context(me), freelancerID: F.alice, hoursPerWeek: 10)))
            .then([.availabilityChanged(.init(freelancerID: F.alice, hoursPerWeek: 10))])
    }

    @Test func updatesToTheCurrentValuesDecideNothing() {
        let given = Given(FreelancerDecider.self, [registered])
        given.when(
            .updateSkills(
                .init(
                    context: F.context(me), freelancerID: F.alice,
                    skills: [.init(slug: "python", level: 2), .init(slug: "nlp", level: 3)]))
        ).thenNothing()
        given.when(.changeRate(.init(context: F.context(me), freelancerID: F.alice, hourlyRate: F.eur(9_000))))
            .thenNothing()
        given.when(.changeAvailability(.init(context: F.context(me), freelancerID: F.alice, hoursPerWeek: 30)))
            .thenNothing()
    }

    @Test func updatesNeedARegisteredFreelancer() {
        Given(FreelancerDecider.self).when(
            .changeAvailability(.init(context: F.context(me), freelancerID: F.alice, hoursPerWeek: 10))
        )
        .thenFails(.freelancerNotFound)
    }

    @Test func updatesAreValidated() {
        let given = Given(FreelancerDecider.self, [registered])
        given.when(
            .updateSkills(.init(context: F.context(me), freelancerID: F.alice, skills: [.init(slug: "Nlp", level: 1)]))
        )
        .thenFails(.unknownSkill)
        given.when(.changeRate(.init(context: F.context(me), freelancerID: F.alice, hourlyRate: F.eur(-1)))).thenFails(
            .invalidAmount)
        given.when(.changeAvailability(.init(context: F.context(me), freelancerID: F.alice, hoursPerWeek: 200)))
            .thenFails(.invalidInput)
        given.when(
            .changeAvailability(.init(context: F.context(.freelancer(F.bob)), freelancerID: F.alice, hoursPerWeek: 1))
        )
        .thenFails(.notAllowed)
    }

    @Test func rejectsTimesOutsideTheStorableRange() {
        let command = FreelancerCommand.changeAvailability(
            .init(context: F.context(me, at: Date(timeIntervalSince1970: -10)), freelancerID: F.alice, hoursPerWeek: 1))
        Given(FreelancerDecider.self, [registered]).when(command).thenFails(.invalidInput)
    }

    @Test func evolvesTheProfile() {
        let state = FreelancerDecider.fold([
            registered, .rateChanged(.init(freelancerID: F.alice, hourlyRate: F.eur(1))),
            .availabilityChanged(.init(freelancerID: F.alice, hoursPerWeek: 5)),
        ])
        #expect(state.profile?.hourlyRate == F.eur(1))
        #expect(state.profile?.hoursPerWeek == 5)
        #expect(state.isRegistered)
        #expect(!FreelancerDecider.initialState.isRegistered)
    }

    func setPreferences(
        _ actor: ActorRef? = nil, minimum: Money? = Fixtures.eur(80_000), currencies: [String] = ["USD", "EUR", "EUR"],
        wanted: [String] = ["nlp"], limit: Int? = 2
    ) -> FreelancerCommand {
        .setPreferences(
            .init(
                context: F.context(actor ?? me), freelancerID: F.alice, minimumBudget: minimum, currencies: currencies,
                wantedSkills: wanted, maxConcurrentContracts: limit))
    }

    var preferencesSet: FreelancerEvent {
        .preferencesSet(
            .init(
                freelancerID: F.alice,
                preferences: FreelancerPreferences(
                    minimumBudget: F.eur(80_000), currencies: [.eur, .usd], wantedSkills: F.skills("nlp"),
                    maxConcurrentContracts: 2)))
    }

    @Test func setsPreferencesSortedAndUnique() {
        Given(FreelancerDecider.self, [registered]).when(setPreferences()).then([preferencesSet])
        Given(FreelancerDecider.self, [registered]).when(setPreferences(F.admin)).then([preferencesSet])
    }

    @Test func theSamePreferencesAgainDecideNothingAndNoneAtAllIsAPreference() {
        Given(FreelancerDecider.self, [registered, preferencesSet]).when(setPreferences()).thenNothing()
        Given(FreelancerDecider.self, [registered, preferencesSet])
            .when(setPreferences(minimum: nil, currencies: [], wanted: [], limit: nil))
            .then([.preferencesSet(.init(freelancerID: F.alice, preferences: .none))])
        // A freelancer who never set any has none: setting none decides nothing.
        Given(FreelancerDecider.self, [registered])
            .when(setPreferences(minimum: nil, currencies: [], wanted: [], limit: nil)).thenNothing()
    }

    @Test func validatesPreferences() {
        let given = Given(FreelancerDecider.self, [registered])
        given.when(setPreferences(minimum: F.eur(0))).thenFails(.invalidAmount)
        given.when(setPreferences(currencies: ["XXX"])).thenFails(.unknownCurrency)
        given.when(setPreferences(wanted: ["alchemy"])).thenFails(.unknownSkill)
        given.when(setPreferences(limit: 0)).thenFails(.invalidInput)
        given.when(setPreferences(limit: 51)).thenFails(.invalidInput)
        given.when(setPreferences(.freelancer(F.bob))).thenFails(.notAllowed)
        Given(FreelancerDecider.self).when(setPreferences()).thenFails(.freelancerNotFound)
    }
}
