import EventStore
import Foundation
import Marketplace

/// Turns a command written as JSON (what `gigctl … --json` reads on stdin, and what the CLI's
/// flags are turned into) into a ``MarketplaceCommand``, with errors that name the field.
///
/// ```json
/// {"command": "PlaceBid", "actor": "freelancer:0b8f…", "gigId": "6f1c…",
///  "amount": {"currency": "EUR", "minorUnits": 45000}, "estimatedDays": 10}
/// ```
///
/// `commandId` defaults to a new id (send one to make retries safe), `occurredAt` to `now`, and
/// ids a command creates (`gigId` of PostGig, `bidId`, `contractId`, `deliveryId`, `disputeId`)
/// to new ones. Amounts are `{"currency", "minorUnits"}` or `{"currency", "amount": "450.00"}`.
public struct CommandInput: Sendable {
    /// The value of `"command"` for each marketplace command this parser accepts, in the order the
    /// CLI lists them.
    public static let commandNames = [
        "RegisterFreelancer", "UpdateSkills", "ChangeRate", "ChangeAvailability", "SetPreferences", "RegisterClient",
        "PostGig", "PlaceBid", "ReviseBid", "WithdrawBid", "DeclineBid", "AcceptBid", "CancelGig", "ExpireGig",
        "SubmitDelivery", "RequestChanges", "ApproveDelivery", "AutoApproveDelivery", "OpenDispute", "ResolveDispute",
        "SubmitReview", "CancelContract",
    ]

    let fields: [String: JSONValue]
    let now: Date
    let newID: @Sendable () -> UUID

    /// An input over `fields` (the JSON object's members). `now` is the default `occurredAt`;
    /// `newID` makes the ids of a command that creates something (and the default `commandId`) when
    /// the input names none.
    public init(fields: [String: JSONValue], now: Date = Date(), newID: @escaping @Sendable () -> UUID = { UUID() }) {
        self.fields = fields
        self.now = now
        self.newID = newID
    }

    /// Parses one JSON object. Limits its size to 1 MiB.
    public static func parse(json data: Data, now: Date = Date(), newID: @escaping @Sendable () -> UUID = { UUID() })
        throws(CommandError) -> MarketplaceCommand
    {
        guard data.count <= 1 << 20 else {
            throw CommandError(.invalidCommand, "The command is \(data.count) bytes; at most 1 MiB is accepted.")
        }
        let value: JSONValue
        do { value = try JSONDecoder().decode(JSONValue.self, from: data) } catch {
            throw CommandError(
                .invalidCommand,
                "The command is not valid JSON (\(Self.describe(error))). Send one JSON object, e.g. {\"command\": \"PlaceBid\", …}."
            )
        }
        guard case .object(let fields) = value else {
            throw CommandError(
                .invalidCommand, "The command must be a JSON object with a \"command\" field, not \(Self.kind(value)).")
        }
        return try CommandInput(fields: fields, now: now, newID: newID).command()
    }

    /// The command these fields describe.
    public func command() throws(CommandError) -> MarketplaceCommand {
        let name = try string("command")
        let context = CommandContext(
            commandID: CommandID(try optionalUUID("commandId") ?? newID()), actor: try actor(),
            occurredAt: try optionalDate("occurredAt") ?? now)
        switch name {
        case "RegisterFreelancer":
            return .freelancer(
                .registerFreelancer(
                    .init(
                        context: context, freelancerID: FreelancerID(try uuid("freelancerId")),
                        name: try string("name"),
                        skills: try skillClaims("skills"), hourlyRate: try money("hourlyRate"),
                        hoursPerWeek: try int("hoursPerWeek"), country: try optionalString("country"))))
        case "UpdateSkills":
            return .freelancer(
                .updateSkills(
                    .init(
                        context: context, freelancerID: FreelancerID(try uuid("freelancerId")),
                        skills: try skillClaims("skills"))))
        case "ChangeRate":
            return .freelancer(
                .changeRate(
                    .init(
                        context: context, freelancerID: FreelancerID(try uuid("freelancerId")),
                        hourlyRate: try money("hourlyRate"))))
        case "ChangeAvailability":
            return .freelancer(
                .changeAvailability(
                    .init(
                        context: context, freelancerID: FreelancerID(try uuid("freelancerId")),
                        hoursPerWeek: try int("hoursPerWeek"))))
        case "SetPreferences":
            return .freelancer(
                .setPreferences(
                    .init(
                        context: context, freelancerID: FreelancerID(try uuid("freelancerId")),
                        minimumBudget: try optionalMoney("minimumBudget"),
                        currencies: try strings("currencies", default: []),
                        wantedSkills: try strings("wantedSkills", default: []),
                        maxConcurrentContracts: try optionalInt("maxConcurrentContracts"))))
        case "RegisterClient":
            return .client(
                .registerClient(
                    .init(
                        context: context, clientID: ClientID(try uuid("clientId")), name: try string("name"),
                        country: try string("country"), paymentVerified: try bool("paymentVerified", default: false)
                    )))
        case "PostGig":
            return .gig(
                .postGig(
                    .init(
                        context: context, gigID: GigID(try optionalUUID("gigId") ?? newID()),
                        clientID: ClientID(try uuid("clientId")),
                        title: try string("title"), description: try string("description", default: ""),
                        skills: try strings("skills"),
                        budgetMin: try money("budgetMin"), budgetMax: try money("budgetMax"),
                        biddingClosesAt: try date("biddingClosesAt"), clientRegistered: false,
                        experience: try enumeration("experience", default: ExperienceLevel.any),
                        engagement: try engagement())))
        case "PlaceBid":
            return .gig(
                .placeBid(
                    .init(
                        context: context, gigID: GigID(try uuid("gigId")),
                        bidID: BidID(try optionalUUID("bidId") ?? newID()),
                        amount: try money("amount"), estimatedDays: try int("estimatedDays"),
                        bidderRegistered: false)))
        case "ReviseBid":
            return .gig(
                .reviseBid(
                    .init(
                        context: context, gigID: GigID(try uuid("gigId")), bidID: BidID(try uuid("bidId")),
                        amount: try money("amount"), estimatedDays: try int("estimatedDays"))))
        case "WithdrawBid":
            return .gig(
                .withdrawBid(
                    .init(context: context, gigID: GigID(try uuid("gigId")), bidID: BidID(try uuid("bidId")))))
        case "DeclineBid":
            return .gig(
                .declineBid(
                    .init(
                        context: context, gigID: GigID(try uuid("gigId")), bidID: BidID(try uuid("bidId")),
                        reason: try enumeration("reason", default: BidDeclineReason.other))))
        case "AcceptBid":
            return .gig(
                .acceptBid(
                    .init(
                        context: context, gigID: GigID(try uuid("gigId")), bidID: BidID(try uuid("bidId")),
                        contractID: ContractID(try optionalUUID("contractId") ?? newID()))))
        case "CancelGig":
            return .gig(.cancelGig(.init(context: context, gigID: GigID(try uuid("gigId")))))
        case "ExpireGig":
            return .gig(.expireGig(.init(context: context, gigID: GigID(try uuid("gigId")))))
        case "SubmitDelivery":
            return .contract(
                .submitDelivery(
                    .init(
                        context: context, contractID: ContractID(try uuid("contractId")),
                        deliveryID: DeliveryID(try optionalUUID("deliveryId") ?? newID()),
                        note: try string("note", default: ""), artifacts: try strings("artifacts", default: []))))
        case "RequestChanges":
            return .contract(
                .requestChanges(
                    .init(
                        context: context, contractID: ContractID(try uuid("contractId")),
                        deliveryID: DeliveryID(try uuid("deliveryId")),
                        reason: try string("reason"))))
        case "ApproveDelivery":
            return .contract(
                .approveDelivery(
                    .init(
                        context: context, contractID: ContractID(try uuid("contractId")),
                        deliveryID: DeliveryID(try uuid("deliveryId")))))
        case "AutoApproveDelivery":
            return .contract(
                .autoApproveDelivery(
                    .init(
                        context: context, contractID: ContractID(try uuid("contractId")),
                        deliveryID: DeliveryID(try uuid("deliveryId")))))
        case "OpenDispute":
            return .contract(
                .openDispute(
                    .init(
                        context: context, contractID: ContractID(try uuid("contractId")),
                        disputeID: DisputeID(try optionalUUID("disputeId") ?? newID()),
                        reason: try string("reason"))))
        case "ResolveDispute":
            return .contract(
                .resolveDispute(
                    .init(
                        context: context, contractID: ContractID(try uuid("contractId")),
                        disputeID: DisputeID(try uuid("disputeId")),
                        resolution: try enumeration("resolution", default: nil as DisputeResolution?),
                        note: try string("note", default: ""))))
        case "SubmitReview":
            return .contract(
                .submitReview(
                    .init(
                        context: context, contractID: ContractID(try uuid("contractId")), rating: try int("rating"),
                        text: try string("text", default: ""))))
        case "CancelContract":
            return .contract(
                .cancelContract(.init(context: context, contractID: ContractID(try uuid("contractId")))))
        default:
            throw CommandError(
                .invalidCommand,
                "Unknown command \"\(name.prefix(60))\". Known commands: \(Self.commandNames.joined(separator: ", "))."
            )
        }
    }

    // MARK: - Fields

    private func missing(_ key: String, _ expected: String) -> CommandError {
        CommandError(
            .invalidCommand,
            "Field \"\(key)\" is missing: \(fields["command"].map { _ in "this command needs" } ?? "it needs") \(expected).",
            field: key)
    }

    private func wrong(_ key: String, _ expected: String, _ got: JSONValue) -> CommandError {
        CommandError(.invalidCommand, "Field \"\(key)\" must be \(expected), not \(Self.kind(got)).", field: key)
    }

    func string(_ key: String, default fallback: String? = nil) throws(CommandError) -> String {
        guard let value = fields[key], value != .null else {
            if let fallback { return fallback }
            throw missing(key, "a string")
        }
        guard case .string(let text) = value else { throw wrong(key, "a string", value) }
        guard text.utf8.count <= 100_000 else {
            throw CommandError(
                .invalidCommand, "Field \"\(key)\" is \(text.utf8.count) bytes long; at most 100,000 are accepted.",
                field: key)
        }
        return text
    }

    func strings(_ key: String, default fallback: [String]? = nil) throws(CommandError) -> [String] {
        guard let value = fields[key], value != .null else {
            if let fallback { return fallback }
            throw missing(key, "an array of strings")
        }
        guard case .array(let items) = value, items.count <= 1000 else {
            throw wrong(key, "an array of at most 1000 strings", value)
        }
        var out: [String] = []
        for item in items {
            guard case .string(let text) = item else { throw wrong("\(key)[]", "a string", item) }
            out.append(text)
        }
        return out
    }

    func optionalString(_ key: String) throws(CommandError) -> String? {
        guard let value = fields[key], value != .null else { return nil }
        return try string(key)
    }

    func optionalInt(_ key: String) throws(CommandError) -> Int? {
        guard let value = fields[key], value != .null else { return nil }
        return try int(key)
    }

    func optionalMoney(_ key: String) throws(CommandError) -> Money? {
        guard let value = fields[key], value != .null else { return nil }
        return try money(key)
    }

    func int(_ key: String) throws(CommandError) -> Int {
        guard let value = fields[key], value != .null else { throw missing(key, "a whole number") }
        guard case .number(let number) = value, number.rounded() == number, abs(number) < 1e15 else {
            throw wrong(key, "a whole number", value)
        }
        return Int(number)
    }

    func bool(_ key: String, default fallback: Bool) throws(CommandError) -> Bool {
        guard let value = fields[key], value != .null else { return fallback }
        guard case .bool(let flag) = value else { throw wrong(key, "true or false", value) }
        return flag
    }

    func optionalUUID(_ key: String) throws(CommandError) -> UUID? {
        guard let value = fields[key], value != .null else { return nil }
        guard case .string(let text) = value else { throw wrong(key, "a UUID string", value) }
        guard let id = UUID(uuidString: text) else {
            throw CommandError(
                .invalidCommand,
                "Field \"\(key)\" must be a UUID such as 6f1c0e4e-7a55-4c1b-9d7e-1b2c3d4e5f60; \"\(Self.preview(text))\" is not one.",
                field: key)
        }
        return id
    }

    func uuid(_ key: String) throws(CommandError) -> UUID {
        guard let id = try optionalUUID(key) else { throw missing(key, "a UUID") }
        return id
    }

    func optionalDate(_ key: String) throws(CommandError) -> Date? {
        guard let value = fields[key], value != .null else { return nil }
        guard case .string(let text) = value else { throw wrong(key, "an ISO 8601 time string", value) }
        guard let date = Self.parseDate(text) else {
            throw CommandError(
                .invalidCommand,
                "Field \"\(key)\" must be an ISO 8601 time such as 2026-12-01T12:00:00Z; \"\(Self.preview(text))\" is not one.",
                field: key)
        }
        return date
    }

    func date(_ key: String) throws(CommandError) -> Date {
        guard let date = try optionalDate(key) else { throw missing(key, "an ISO 8601 time") }
        return date
    }

    func actor() throws(CommandError) -> ActorRef {
        let text = try string("actor")
        do { return try ActorRef(parsing: text) } catch { throw CommandError.rejected(error) }
    }

    func enumeration<E: RawRepresentable & CaseIterable>(_ key: String, default fallback: E?) throws(CommandError) -> E
    where E.RawValue == String {
        guard let value = fields[key], value != .null else {
            if let fallback { return fallback }
            throw missing(key, "one of \(E.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard case .string(let text) = value, let choice = E(rawValue: text) else {
            throw wrong(key, "one of \(E.allCases.map(\.rawValue).joined(separator: ", "))", value)
        }
        return choice
    }

    /// `"engagement": "fixedPrice"` (the default) or `"hourly"` with `"hours"`.
    func engagement() throws(CommandError) -> Engagement {
        let kind = try string("engagement", default: "fixedPrice")
        // (`null` counts as absent, as for every optional field.)
        let hasHours = (fields["hours"] ?? .null) != .null
        switch kind {
        case "fixedPrice":
            guard !hasHours else {
                throw CommandError(
                    .invalidCommand,
                    "Field \"hours\" applies to hourly gigs only: send \"engagement\": \"hourly\" with it, or leave it out.",
                    field: "hours")
            }
            return .fixedPrice
        case "hourly":
            return .hourly(hours: try int("hours"))
        default:
            throw wrong("engagement", "one of fixedPrice, hourly", .string(kind))
        }
    }

    func money(_ key: String) throws(CommandError) -> Money {
        guard let value = fields[key], value != .null else {
            throw missing(key, "an amount {\"currency\": \"EUR\", \"minorUnits\": 45000}")
        }
        guard case .object(let parts) = value, case .string(let code)? = parts["currency"] else {
            throw wrong(key, "an object {\"currency\": \"EUR\", \"minorUnits\": 45000}", value)
        }
        let currency: Currency
        do { currency = try Currency(code: code) } catch { throw CommandError.rejected(error) }
        if case .number(let minor)? = parts["minorUnits"] {
            guard minor.rounded() == minor, abs(minor) <= 9_007_199_254_740_991 else {
                throw CommandError(
                    .invalidCommand,
                    "Field \"\(key).minorUnits\" must be a whole number of minor units (cents), within ±9007199254740991.",
                    field: "\(key).minorUnits")
            }
            return Money(minorUnits: Int64(minor), currency: currency)
        }
        if case .string(let amount)? = parts["amount"] {
            guard let minor = Self.minorUnits(amount, digits: currency.minorUnitDigits) else {
                throw CommandError(
                    .invalidCommand,
                    "Field \"\(key).amount\" must be a decimal amount with at most \(currency.minorUnitDigits) decimals for \(currency.code), e.g. \"450.00\".",
                    field: "\(key).amount")
            }
            return Money(minorUnits: minor, currency: currency)
        }
        throw wrong(key, "an object with \"minorUnits\" (number) or \"amount\" (decimal string)", value)
    }

    func skillClaims(_ key: String) throws(CommandError) -> [SkillClaim] {
        guard let value = fields[key], value != .null else {
            throw missing(key, "an array of {\"skill\": \"nlp\", \"level\": 3}")
        }
        guard case .array(let items) = value, items.count <= 100 else {
            throw wrong(key, "an array of at most 100 skills", value)
        }
        var claims: [SkillClaim] = []
        for item in items {
            guard case .string(let slug)? = item["skill"], case .number(let level)? = item["level"],
                level.rounded() == level, abs(level) < 1e9
            else {
                throw wrong("\(key)[]", "an object {\"skill\": \"nlp\", \"level\": 1…3}", item)
            }
            claims.append(SkillClaim(slug: slug, level: Int(level)))
        }
        return claims
    }

    // MARK: - Helpers

    /// "450.5" with 2 digits → 45050; nil if malformed, too precise or too large.
    static func minorUnits(_ text: String, digits: Int) -> Int64? {
        guard text.range(of: #"^-?[0-9]{1,15}(\.[0-9]+)?$"#, options: .regularExpression) != nil else { return nil }
        let negative = text.hasPrefix("-")
        let body = negative ? String(text.dropFirst()) : text
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        let whole = parts[0]
        let fraction = parts.count > 1 ? String(parts[1]) : ""
        guard fraction.count <= digits else { return nil }
        let padded = fraction + String(repeating: "0", count: digits - fraction.count)
        guard let value = Int64(whole + padded) else { return nil }
        return negative ? -value : value
    }

    static func parseDate(_ text: String) -> Date? {
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = withFraction.date(from: text) { return date }
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        return plain.date(from: text)
    }

    /// At most 40 characters of `text`, with control characters shown as `?`, for messages.
    static func preview(_ text: String) -> String {
        let cleaned = String(
            text.unicodeScalars.prefix(40).map { $0.properties.generalCategory == .control ? "?" : Character($0) })
        return text.unicodeScalars.count > 40 ? cleaned + "…" : cleaned
    }

    static func kind(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }

    static func describe(_ error: any Error) -> String {
        if case DecodingError.dataCorrupted(let context) = error { return context.debugDescription }
        return "malformed"
    }
}
