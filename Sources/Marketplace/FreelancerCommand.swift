/// A request to change a freelancer's stream (`freelancer-<id>`).
///
/// Every command is allowed to the freelancer themselves (`.freelancer(id)`) and to admins;
/// anyone else gets ``DomainError/Code/notAllowed``.
public enum FreelancerCommand: Hashable, Sendable {
    /// Registers a new freelancer.
    case registerFreelancer(RegisterFreelancer)
    /// Replaces the freelancer's skills.
    case updateSkills(UpdateSkills)
    /// Changes the hourly rate.
    case changeRate(ChangeRate)
    /// Changes the hours per week the freelancer can take on.
    case changeAvailability(ChangeAvailability)
    /// Replaces the freelancer's preferences.
    case setPreferences(SetPreferences)

    /// Registers freelancer ``freelancerID``.
    ///
    /// Repeating it with the same data decides nothing; registering an id already registered with
    /// other data fails with ``DomainError/Code/alreadyRegistered`` (use the update commands).
    public struct RegisterFreelancer: Hashable, Sendable {
        /// The command's id, actor and business time.
        public var context: CommandContext
        /// The freelancer (the id of their stream).
        public var freelancerID: FreelancerID
        /// 1–200 characters, no control characters.
        public var name: String
        /// 1–50 known skills, each once, levels 1–3.
        public var skills: [SkillClaim]
        /// Positive, at most ``MarketplaceLimits/maximumAmountMinorUnits``.
        public var hourlyRate: Money
        /// 0–168.
        public var hoursPerWeek: Int
        /// ISO 3166-1 alpha-2, two upper-case letters (`INVALID_INPUT` otherwise); nil: not said.
        public var country: String?

        /// A `RegisterFreelancer` command with these fields; `decide` checks the rules, not this
        /// initializer.
        public init(
            context: CommandContext, freelancerID: FreelancerID, name: String, skills: [SkillClaim],
            hourlyRate: Money, hoursPerWeek: Int, country: String? = nil
        ) {
            self.context = context
            self.freelancerID = freelancerID
            self.name = name
            self.skills = skills
            self.hourlyRate = hourlyRate
            self.hoursPerWeek = hoursPerWeek
            self.country = country
        }
    }

    /// Replaces the skill set. The same set again decides nothing.
    public struct UpdateSkills: Hashable, Sendable {
        /// The command's id, actor and business time.
        public var context: CommandContext
        /// The freelancer (the id of their stream).
        public var freelancerID: FreelancerID
        /// 1–50 known skills, each once, levels 1–3; order does not matter.
        public var skills: [SkillClaim]

        /// An `UpdateSkills` command with these fields; `decide` checks the rules, not this
        /// initializer.
        public init(context: CommandContext, freelancerID: FreelancerID, skills: [SkillClaim]) {
            self.context = context
            self.freelancerID = freelancerID
            self.skills = skills
        }
    }

    /// Sets the hourly rate (its currency may change too). The current rate again decides nothing.
    public struct ChangeRate: Hashable, Sendable {
        /// The command's id, actor and business time.
        public var context: CommandContext
        /// The freelancer (the id of their stream).
        public var freelancerID: FreelancerID
        /// Positive, at most ``MarketplaceLimits/maximumAmountMinorUnits``.
        public var hourlyRate: Money

        /// A `ChangeRate` command with these fields; `decide` checks the rules, not this
        /// initializer.
        public init(context: CommandContext, freelancerID: FreelancerID, hourlyRate: Money) {
            self.context = context
            self.freelancerID = freelancerID
            self.hourlyRate = hourlyRate
        }
    }

    /// Sets the hours per week. The current value again decides nothing.
    public struct ChangeAvailability: Hashable, Sendable {
        /// The command's id, actor and business time.
        public var context: CommandContext
        /// The freelancer (the id of their stream).
        public var freelancerID: FreelancerID
        /// 0–168.
        public var hoursPerWeek: Int

        /// A `ChangeAvailability` command with these fields; `decide` checks the rules, not this
        /// initializer.
        public init(context: CommandContext, freelancerID: FreelancerID, hoursPerWeek: Int) {
            self.context = context
            self.freelancerID = freelancerID
            self.hoursPerWeek = hoursPerWeek
        }
    }

    /// Replaces the freelancer's preferences (minimum budget per gig, currencies accepted,
    /// skills wanted more of, maximum concurrent contracts). The same set again decides nothing.
    ///
    /// Checks: registered (`FREELANCER_NOT_FOUND`); a positive minimum budget within the cap
    /// (`INVALID_AMOUNT`); known currencies (`UNKNOWN_CURRENCY`) and skills (`UNKNOWN_SKILL`), at
    /// most 20 of each (`INVALID_INPUT`); 1–50 concurrent contracts (`INVALID_INPUT`).
    public struct SetPreferences: Hashable, Sendable {
        /// The command's id, actor and business time.
        public var context: CommandContext
        /// The freelancer (the id of their stream).
        public var freelancerID: FreelancerID
        /// nil: any budget.
        public var minimumBudget: Money?
        /// ISO 4217 codes; empty: any currency. Duplicates are merged.
        public var currencies: [String]
        /// Skill slugs; duplicates are merged.
        public var wantedSkills: [String]
        /// nil: no limit of their own.
        public var maxConcurrentContracts: Int?

        /// A `SetPreferences` command with these fields; `decide` checks the rules, not this
        /// initializer.
        public init(
            context: CommandContext, freelancerID: FreelancerID, minimumBudget: Money?, currencies: [String],
            wantedSkills: [String], maxConcurrentContracts: Int?
        ) {
            self.context = context
            self.freelancerID = freelancerID
            self.minimumBudget = minimumBudget
            self.currencies = currencies
            self.wantedSkills = wantedSkills
            self.maxConcurrentContracts = maxConcurrentContracts
        }
    }

    /// The command's id, actor and time.
    public var context: CommandContext {
        switch self {
        case .registerFreelancer(let command): command.context
        case .updateSkills(let command): command.context
        case .changeRate(let command): command.context
        case .changeAvailability(let command): command.context
        case .setPreferences(let command): command.context
        }
    }

    /// The freelancer whose stream the command changes.
    public var freelancerID: FreelancerID {
        switch self {
        case .registerFreelancer(let command): command.freelancerID
        case .updateSkills(let command): command.freelancerID
        case .changeRate(let command): command.freelancerID
        case .changeAvailability(let command): command.freelancerID
        case .setPreferences(let command): command.freelancerID
        }
    }

    /// The stream to load and append to.
    public var stream: MarketplaceStream { freelancerID.stream }
}
