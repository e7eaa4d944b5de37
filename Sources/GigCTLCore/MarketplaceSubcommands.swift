import ArgumentParser
import EventStore
import Foundation
import GigLedger
import Marketplace
import Projections
import Timers

// One subcommand per marketplace command. Every flag is optional to the parser: a command can
// also arrive whole as JSON on stdin (`--json` with no flags, or `--stdin`), and CommandInput
// checks what is missing with one message per field. Flags map to the JSON fields named in help.

private func fields(_ pairs: [(String, JSONValue?)]) -> [String: JSONValue] {
    var out: [String: JSONValue] = [:]
    for (key, value) in pairs { if let value { out[key] = value } }
    return out
}

private func s(_ value: String?) -> JSONValue? { value.map { .string($0) } }
private func n(_ value: Int?) -> JSONValue? { value.map { .number(Double($0)) } }
private func m(_ amount: String?, _ currency: String?) -> JSONValue? {
    guard let amount else { return nil }
    return Fields.money(amount, currency ?? "EUR")
}
private func actor(_ kind: String, _ id: String?) -> String? { id.map { "\(kind):\($0.lowercased())" } }

private let jsonDiscussion = """
    With --json and no other flags (or with --stdin), the command is read as one JSON object on \
    stdin instead, and the result is printed as JSON. See `gigctl submit --help` for the format.

    Exit codes: 0 done (or already done), 64 malformed command, 65 rejected by a marketplace \
    rule (the code, e.g. GIG_NOT_OPEN, is printed), 69 database unavailable, 75 conflict after \
    retries (send it again with the same --command-id), 78 database not migrated (run gigctl \
    migrate). With --json a failure is one JSON object on stderr: code, message, exitCode and \
    the rule's fields (rule, command, stream, field; for a conflict stream, expected, actual).
    """

// MARK: - Freelancers and clients

struct FreelancerGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "freelancer", abstract: "Register freelancers and change their skills, rate or availability.",
        subcommands: [
            RegisterFreelancer.self, UpdateSkills.self, ChangeRate.self, ChangeAvailability.self, SetPreferences.self,
        ])
}

struct RegisterFreelancer: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register", abstract: "Register a freelancer with skills, hourly rate and weekly hours.",
        discussion:
            "Example: gigctl freelancer register --name Ada --skill nlp:3 --skill python:2 --rate 90.00 --currency EUR --hours 30\n\n"
            + jsonDiscussion)
    @OptionGroup var options: CommandOptions
    @Option(help: "The freelancer's id (default: a new one, printed).") var id: String?
    @Option(help: "Display name.") var name: String?
    @Option(
        name: .customLong("skill"),
        help: ArgumentHelp("A skill as slug:level (level 1–3); repeat the flag.", valueName: "slug:level")) var skills:
        [String] = []
    @Option(help: "Hourly rate, e.g. 90.00.") var rate: String?
    @Option(help: "ISO 4217 currency (default EUR).") var currency: String?
    @Option(help: "Hours per week available (0–168).") var hours: Int?
    @Option(help: "Where the freelancer works: ISO 3166-1 alpha-2, e.g. DE (optional).") var country: String?
    func run() async throws {
        try await options.execute(
            "RegisterFreelancer",
            fields([
                ("freelancerId", s(id)), ("name", s(name)),
                ("skills", skills.isEmpty ? nil : try Fields.skills(skills)),
                ("hourlyRate", m(rate, currency)), ("hoursPerWeek", n(hours)), ("country", s(country)),
            ]), created: ["freelancerId"], actorFrom: ("freelancer", "freelancerId"))
    }
}

struct UpdateSkills: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "update-skills", abstract: "Replace a freelancer's skills.", discussion: jsonDiscussion)
    @OptionGroup var options: CommandOptions
    @Option(help: "The freelancer's id.") var freelancer: String?
    @Option(
        name: .customLong("skill"),
        help: ArgumentHelp("A skill as slug:level; repeat the flag.", valueName: "slug:level")) var skills: [String] =
            []
    func run() async throws {
        try await options.execute(
            "UpdateSkills",
            fields([("freelancerId", s(freelancer)), ("skills", skills.isEmpty ? nil : try Fields.skills(skills))]),
            defaultActor: actor("freelancer", freelancer))
    }
}

struct ChangeRate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "change-rate", abstract: "Change a freelancer's hourly rate.", discussion: jsonDiscussion)
    @OptionGroup var options: CommandOptions
    @Option(help: "The freelancer's id.") var freelancer: String?
    @Option(help: "Hourly rate, e.g. 95.00.") var rate: String?
    @Option(help: "ISO 4217 currency (default EUR).") var currency: String?
    func run() async throws {
        try await options.execute(
            "ChangeRate", fields([("freelancerId", s(freelancer)), ("hourlyRate", m(rate, currency))]),
            defaultActor: actor("freelancer", freelancer))
    }
}

struct ChangeAvailability: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "change-availability", abstract: "Change a freelancer's weekly hours.", discussion: jsonDiscussion)
    @OptionGroup var options: CommandOptions
    @Option(help: "The freelancer's id.") var freelancer: String?
    @Option(help: "Hours per week available (0–168).") var hours: Int?
    func run() async throws {
        try await options.execute(
            "ChangeAvailability", fields([("freelancerId", s(freelancer)), ("hoursPerWeek", n(hours))]),
            defaultActor: actor("freelancer", freelancer))
    }
}

struct SetPreferences: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "set-preferences",
        abstract: "Set a freelancer's terms: minimum budget, currencies, skills wanted, contracts at once.",
        discussion:
            "Replaces the whole set: a flag left out means no preference. Matching respects them and explains how.\n\n"
            + "Example: gigctl freelancer set-preferences --freelancer ID --min-budget 800.00 --currency EUR --accept EUR --accept USD --want nlp --max-contracts 2\n\n"
            + jsonDiscussion)
    @OptionGroup var options: CommandOptions
    @Option(help: "The freelancer's id.") var freelancer: String?
    @Option(name: .customLong("min-budget"), help: "The least budget maximum a gig must offer, e.g. 800.00.")
    var minBudget: String?
    @Option(help: "The minimum budget's ISO 4217 currency (default EUR).") var currency: String?
    @Option(
        name: .customLong("accept"),
        help: ArgumentHelp("A currency accepted (ISO 4217); repeat the flag. None: any.", valueName: "code"))
    var accepted: [String] = []
    @Option(
        name: .customLong("want"), help: ArgumentHelp("A skill wanted more of; repeat the flag.", valueName: "slug"))
    var wanted: [String] = []
    @Option(name: .customLong("max-contracts"), help: "At most this many active contracts at once (1–50).")
    var maxContracts: Int?
    func run() async throws {
        try await options.execute(
            "SetPreferences",
            fields([
                ("freelancerId", s(freelancer)), ("minimumBudget", m(minBudget, currency)),
                ("currencies", .array(accepted.map { .string($0) })),
                ("wantedSkills", .array(wanted.map { .string($0) })),
                ("maxConcurrentContracts", n(maxContracts)),
            ]), defaultActor: actor("freelancer", freelancer))
    }
}

struct ClientGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "client", abstract: "Register clients.", subcommands: [RegisterClient.self])
}

struct RegisterClient: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "register", abstract: "Register a client.",
        discussion: "Example: gigctl client register --name \"Acme Robotics\" --country DE --payment-verified\n\n"
            + jsonDiscussion)
    @OptionGroup var options: CommandOptions
    @Option(help: "The client's id (default: a new one, printed).") var id: String?
    @Option(help: "Display name.") var name: String?
    @Option(help: "ISO 3166 country code, e.g. DE.") var country: String?
    @Flag(name: .customLong("payment-verified"), help: "The client's payment method is verified.") var paymentVerified =
        false
    func run() async throws {
        try await options.execute(
            "RegisterClient",
            fields([
                ("clientId", s(id)), ("name", s(name)), ("country", s(country)),
                ("paymentVerified", paymentVerified ? .bool(true) : nil),
            ]), created: ["clientId"], actorFrom: ("client", "clientId"))
    }
}

// MARK: - Gigs and bids

struct GigGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gig", abstract: "Post and cancel gigs.", subcommands: [PostGig.self, CancelGig.self])
}

struct PostGig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "post", abstract: "Post a gig with its skills, budget and bidding deadline.",
        discussion:
            "Example: gigctl gig post --client ID --title \"Label 10k images\" --skill data-labeling --budget-min 500 --budget-max 900 --currency EUR --closes-in-days 7 --experience expert --engagement hourly --hours 40\n\n"
            + jsonDiscussion)
    @OptionGroup var options: CommandOptions
    @Option(help: "The posting client's id.") var client: String?
    @Option(help: "The gig's id (default: a new one, printed).") var id: String?
    @Option(help: "Title (1–200 characters).") var title: String?
    @Option(help: "Description.") var description: String?
    @Option(
        name: .customLong("skill"), help: ArgumentHelp("A required skill slug; repeat the flag.", valueName: "slug"))
    var skills: [String] = []
    @Option(name: .customLong("budget-min"), help: "Lowest budget, e.g. 500.00.") var budgetMin: String?
    @Option(name: .customLong("budget-max"), help: "Highest budget, e.g. 900.00.") var budgetMax: String?
    @Option(help: "ISO 4217 currency (default EUR).") var currency: String?
    @Option(name: .customLong("closes-at"), help: "When bidding closes, ISO 8601.") var closesAt: String?
    @Option(name: .customLong("closes-in-days"), help: "When bidding closes, in days from the command's time.")
    var closesInDays: Double?
    @Option(help: "Experience wanted: entry, intermediate, expert or any (default any).") var experience: String?
    @Option(help: "fixedPrice (default) or hourly (then give --hours).") var engagement: String?
    @Option(help: "Hours of an hourly gig (1–2000).") var hours: Int?
    func run() async throws {
        var closes = closesAt
        if closes == nil, let days = closesInDays {
            let base = options.at.flatMap { ISO8601DateFormatter().date(from: $0) } ?? Date()
            closes = ISO8601DateFormatter().string(from: base.addingTimeInterval(days * 86_400))
        }
        try await options.execute(
            "PostGig",
            fields([
                ("gigId", s(id)), ("clientId", s(client)), ("title", s(title)), ("description", s(description)),
                ("skills", skills.isEmpty ? nil : .array(skills.map { .string($0) })),
                ("budgetMin", m(budgetMin, currency)), ("budgetMax", m(budgetMax, currency)),
                ("biddingClosesAt", s(closes)), ("experience", s(experience)), ("engagement", s(engagement)),
                ("hours", n(hours)),
            ]), created: ["gigId"], defaultActor: actor("client", client), actorFrom: ("client", "clientId"))
    }
}

struct CancelGig: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Cancel an open gig (its client only).", discussion: jsonDiscussion)
    @OptionGroup var options: CommandOptions
    @Option(help: "The gig's id.") var gig: String?
    @Option(help: "The gig's client (the actor).") var client: String?
    func run() async throws {
        try await options.execute("CancelGig", fields([("gigId", s(gig))]), defaultActor: actor("client", client))
    }
}

struct BidGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bid", abstract: "Place, revise, withdraw, decline and accept bids.",
        subcommands: [PlaceBid.self, ReviseBid.self, WithdrawBid.self, DeclineBid.self, AcceptBid.self])
}

struct PlaceBid: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "place", abstract: "Place a freelancer's bid on an open gig.",
        discussion: "Example: gigctl bid place --gig GIG --freelancer ID --amount 750.00 --currency EUR --days 10\n\n"
            + jsonDiscussion)
    @OptionGroup var options: CommandOptions
    @Option(help: "The gig's id.") var gig: String?
    @Option(help: "The bidding freelancer (the actor).") var freelancer: String?
    @Option(help: "The bid's id (default: a new one, printed).") var id: String?
    @Option(help: "Amount, e.g. 750.00, in the gig's currency.") var amount: String?
    @Option(help: "ISO 4217 currency (default EUR).") var currency: String?
    @Option(help: "Estimated days of work (1–365).") var days: Int?
    func run() async throws {
        try await options.execute(
            "PlaceBid",
            fields([("gigId", s(gig)), ("bidId", s(id)), ("amount", m(amount, currency)), ("estimatedDays", n(days))]),
            created: ["bidId"], defaultActor: actor("freelancer", freelancer))
    }
}

struct ReviseBid: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "revise", abstract: "Revise a live bid's amount and days.", discussion: jsonDiscussion)
    @OptionGroup var options: CommandOptions
    @Option(help: "The gig's id.") var gig: String?
    @Option(help: "The bid's id.") var bid: String?
    @Option(help: "The bidding freelancer (the actor).") var freelancer: String?
    @Option(help: "New amount, e.g. 700.00.") var amount: String?
    @Option(help: "ISO 4217 currency (default EUR).") var currency: String?
    @Option(help: "New estimated days.") var days: Int?
    func run() async throws {
        try await options.execute(
            "ReviseBid",
            fields([("gigId", s(gig)), ("bidId", s(bid)), ("amount", m(amount, currency)), ("estimatedDays", n(days))]),
            defaultActor: actor("freelancer", freelancer))
    }
}

struct WithdrawBid: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "withdraw", abstract: "Withdraw a live bid (its freelancer only).", discussion: jsonDiscussion)
    @OptionGroup var options: CommandOptions
    @Option(help: "The gig's id.") var gig: String?
    @Option(help: "The bid's id.") var bid: String?
    @Option(help: "The bidding freelancer (the actor).") var freelancer: String?
    func run() async throws {
        try await options.execute(
            "WithdrawBid", fields([("gigId", s(gig)), ("bidId", s(bid))]), defaultActor: actor("freelancer", freelancer)
        )
    }
}

struct DeclineBid: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decline", abstract: "Decline a live bid (the gig's client only).", discussion: jsonDiscussion)
    @OptionGroup var options: CommandOptions
    @Option(help: "The gig's id.") var gig: String?
    @Option(help: "The bid's id.") var bid: String?
    @Option(help: "The gig's client (the actor).") var client: String?
    @Option(help: "priceTooHigh, timelineTooLong, skillsMismatch, preferredOtherBid or other.") var reason: String?
    func run() async throws {
        try await options.execute(
            "DeclineBid", fields([("gigId", s(gig)), ("bidId", s(bid)), ("reason", s(reason))]),
            defaultActor: actor("client", client))
    }
}

struct AcceptBid: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "accept", abstract: "Accept a bid: awards the gig and starts its contract in one atomic append.",
        discussion: jsonDiscussion)
    @OptionGroup var options: CommandOptions
    @Option(help: "The gig's id.") var gig: String?
    @Option(help: "The bid's id.") var bid: String?
    @Option(help: "The gig's client (the actor).") var client: String?
    @Option(help: "The new contract's id (default: a new one, printed).") var contract: String?
    func run() async throws {
        try await options.execute(
            "AcceptBid", fields([("gigId", s(gig)), ("bidId", s(bid)), ("contractId", s(contract))]),
            created: ["contractId"], defaultActor: actor("client", client))
    }
}

// MARK: - Contracts

struct ContractGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "contract", abstract: "Deliver, request changes, approve (and pay), dispute and review contracts.",
        subcommands: [
            Deliver.self, RequestChanges.self, Approve.self, OpenDispute.self, ResolveDispute.self, Review.self,
            CancelContract.self,
        ])
}

struct Deliver: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "deliver", abstract: "Submit a delivery (the contract's freelancer only).",
        discussion: jsonDiscussion)
    @OptionGroup var options: CommandOptions
    @Option(help: "The contract's id.") var contract: String?
    @Option(help: "The contract's freelancer (the actor).") var freelancer: String?
    @Option(help: "A note for the client.") var note: String?
    @Option(name: .customLong("artifact"), help: "A reference to a delivered artifact (URL or path); repeat the flag.")
    var artifacts: [String] = []
    func run() async throws {
        try await options.execute(
            "SubmitDelivery",
            fields([
                ("contractId", s(contract)), ("note", s(note)),
                ("artifacts", artifacts.isEmpty ? nil : .array(artifacts.map { .string($0) })),
            ]), created: ["deliveryId"], defaultActor: actor("freelancer", freelancer))
    }
}

struct RequestChanges: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "request-changes", abstract: "Send a pending delivery back with a reason (the client only).",
        discussion: jsonDiscussion)
    @OptionGroup var options: CommandOptions
    @Option(help: "The contract's id.") var contract: String?
    @Option(help: "The pending delivery's id.") var delivery: String?
    @Option(help: "The contract's client (the actor).") var client: String?
    @Option(help: "What to change.") var reason: String?
    func run() async throws {
        try await options.execute(
            "RequestChanges",
            fields([("contractId", s(contract)), ("deliveryId", s(delivery)), ("reason", s(reason))]),
            defaultActor: actor("client", client))
    }
}

struct Approve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Approve a pending delivery: releases payment (fee, net, invoice) and completes the contract.",
        discussion: jsonDiscussion)
    @OptionGroup var options: CommandOptions
    @Option(help: "The contract's id.") var contract: String?
    @Option(help: "The pending delivery's id.") var delivery: String?
    @Option(help: "The contract's client (the actor).") var client: String?
    func run() async throws {
        try await options.execute(
            "ApproveDelivery", fields([("contractId", s(contract)), ("deliveryId", s(delivery))]),
            defaultActor: actor("client", client))
    }
}

struct OpenDispute: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dispute", abstract: "Open a dispute on an active or delivered, unpaid contract.",
        discussion: jsonDiscussion)
    @OptionGroup var options: CommandOptions
    @Option(help: "The contract's id.") var contract: String?
    @Option(help: "Why.") var reason: String?
    func run() async throws {
        try await options.execute(
            "OpenDispute", fields([("contractId", s(contract)), ("reason", s(reason))]), created: ["disputeId"])
    }
}

struct ResolveDispute: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resolve", abstract: "Resolve a dispute (an admin): resumeWork, payFreelancer or refundClient.",
        discussion: jsonDiscussion)
    @OptionGroup var options: CommandOptions
    @Option(help: "The contract's id.") var contract: String?
    @Option(help: "The dispute's id.") var dispute: String?
    @Option(help: "resumeWork, payFreelancer or refundClient.") var resolution: String?
    @Option(help: "A note for both sides.") var note: String?
    func run() async throws {
        try await options.execute(
            "ResolveDispute",
            fields([
                ("contractId", s(contract)), ("disputeId", s(dispute)), ("resolution", s(resolution)),
                ("note", s(note)),
            ]))
    }
}

struct Review: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "review", abstract: "Review the other side of an ended contract (once per side, rating 1–5).",
        discussion: jsonDiscussion)
    @OptionGroup var options: CommandOptions
    @Option(help: "The contract's id.") var contract: String?
    @Option(help: "Rating 1–5.") var rating: Int?
    @Option(help: "Review text.") var text: String?
    func run() async throws {
        try await options.execute(
            "SubmitReview", fields([("contractId", s(contract)), ("rating", n(rating)), ("text", s(text))]))
    }
}

struct CancelContract: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel an active contract with no delivery pending (either party or an admin); nothing is paid.",
        discussion: jsonDiscussion)
    @OptionGroup var options: CommandOptions
    @Option(help: "The contract's id.") var contract: String?
    func run() async throws {
        try await options.execute("CancelContract", fields([("contractId", s(contract))]))
    }
}

// MARK: - Any command as JSON, and timers

struct Submit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "submit", abstract: "Run one command given as a JSON object on stdin.",
        discussion: """
            The object names the command and its fields; ids the command creates may be omitted \
            (new ones are drawn and printed), commandId defaults to a new one (send your own to \
            retry safely), occurredAt to now. Amounts are {"currency": "EUR", "minorUnits": 45000} \
            or {"currency": "EUR", "amount": "450.00"}; times are ISO 8601.

            Commands: \(CommandInput.commandNames.joined(separator: ", ")).

            Example:
              echo '{"command": "PlaceBid", "actor": "freelancer:0b8f…", "gigId": "6f1c…",
                     "amount": {"currency": "EUR", "amount": "750.00"}, "estimatedDays": 10}' | gigctl submit --json

            Exit codes: 0 done (or already done), 64 malformed command, 65 rejected by a \
            marketplace rule, 69 database unavailable, 75 conflict after retries, 78 database not \
            migrated. With --json a failure is one JSON object on stderr (see `gigctl --help`).
            """)
    @OptionGroup var options: CommandOptions
    func run() async throws {
        try await runReportingErrors(json: options.global.json) {
            let input = try CommandOptions.readStdinObject()
            guard case .string(let name)? = input["command"] else {
                throw CLIError(
                    .usage,
                    "The JSON object has no \"command\" field; name one of: \(CommandInput.commandNames.joined(separator: ", "))."
                )
            }
            var opts = options
            opts.fromStdin = false
            try await opts.execute(name, input)
        }
    }
}

struct TimersGroup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "timers", abstract: "Run the marketplace's timers.", subcommands: [TimersRun.self])
}

struct TimersRun: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Expire gigs past their deadline and approve deliveries past their review window.",
        discussion: """
            Run it from cron every minute or so. It reads what is due from the timers read model \
            (read_models.timers_v1), so the projection daemon (gigctl projections run --follow) \
            must be running; it warns on stderr when that read model is behind the log or failed. \
            It is idempotent and safe to run twice at once: each timer's command id is derived \
            from the gig or delivery it acts on, so a second run appends nothing; the domain \
            decides each timer, so a gig or contract that moved on is left alone. Exits 1 if any \
            timer failed (they are retried on the next run), 78 if the read model does not exist.

            Example (cron): * * * * * gigctl timers run --json >> /var/log/gigledger-timers.log
            """)
    @OptionGroup var global: GlobalOptions
    @Option(help: "Act as if it were this time (ISO 8601), e.g. for backfills and simulations.") var now: String?
    func run() async throws {
        try await runReportingErrors(json: global.json) {
            var when = Date()
            if let now {
                guard let parsed = ISO8601DateFormatter().date(from: now) else {
                    throw CLIError(.usage, "--now \(now) is not an ISO 8601 time such as 2026-12-01T12:00:00Z.")
                }
                when = parsed
            }
            let report: TimerJob.Report
            do {
                report = try await global.withPool(maxConnections: 2) { pool in
                    try await TimerJob(
                        service: try await global.service(pool),
                        logger: global.logger
                    ).run(now: when)
                }
            } catch let error as DueTimersError {
                throw CLIError(.configuration, error.description)
            }
            if report.readModel.state != "running" || report.readModel.lagEvents > 0 {
                Output.error(
                    "warning: the timers read model is \(report.readModel.state), \(report.readModel.lagEvents) event(s) behind the log; timers of those events wait for the projection daemon (gigctl projections status)."
                )
            }
            if global.json {
                try Output.json(report)
            } else {
                Output.line(
                    "Expired \(report.expiredGigs.count) gig(s), auto-approved \(report.autoApproved.count) delivery(ies); \(report.alreadyHandled) already handled."
                )
                for stream in report.expiredGigs { Output.line("  expired        \(stream)") }
                for stream in report.autoApproved { Output.line("  auto-approved  \(stream)") }
                for failure in report.failures { Output.line("  FAILED         \(failure)") }
            }
            if !report.failures.isEmpty {
                throw CLIError(
                    .problemFound, "\(report.failures.count) timer(s) failed; they will be tried again on the next run."
                )
            }
        }
    }
}
