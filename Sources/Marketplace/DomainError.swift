/// Why the domain refused a command, or could not read or write an event.
///
/// An error is a stable machine ``code`` (for clients, tests and metrics) plus a human
/// ``message`` that names the input at fault and what to do about it. Messages name fields and
/// ids, never the free text a user typed. New codes may be added in any release; switch over
/// ``Code`` values with a `default` branch.
///
/// ```swift
/// do {
///     let events = try GigDecider.decide(command, state)
/// } catch {
///     if error.code == .bidNotLive { … }   // error is a DomainError (typed throws)
/// }
/// ```
public struct DomainError: Error, Sendable, CustomStringConvertible {
    /// A stable, machine-readable reason such as `GIG_NOT_OPEN`.
    ///
    /// A struct over a private enum, so adding a code never breaks a caller's exhaustive switch.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Sendable, CaseIterable {
            // Input and vocabulary
            case invalidInput = "INVALID_INPUT"
            case invalidBudget = "INVALID_BUDGET"
            case invalidAmount = "INVALID_AMOUNT"
            case amountOverflow = "AMOUNT_OVERFLOW"
            case invalidRating = "INVALID_RATING"
            case unknownSkill = "UNKNOWN_SKILL"
            case unknownCurrency = "UNKNOWN_CURRENCY"
            case currencyMismatch = "CURRENCY_MISMATCH"
            case invalidStreamName = "INVALID_STREAM_NAME"
            // Who may do what
            case notAllowed = "NOT_ALLOWED"
            case notGigOwner = "NOT_GIG_OWNER"
            case notContractFreelancer = "NOT_CONTRACT_FREELANCER"
            case notContractClient = "NOT_CONTRACT_CLIENT"
            case selfBid = "SELF_BID"
            // Existence and identity
            case freelancerNotFound = "FREELANCER_NOT_FOUND"
            case clientNotFound = "CLIENT_NOT_FOUND"
            case gigNotFound = "GIG_NOT_FOUND"
            case bidNotFound = "BID_NOT_FOUND"
            case contractNotFound = "CONTRACT_NOT_FOUND"
            case alreadyRegistered = "ALREADY_REGISTERED"
            case idInUse = "ID_IN_USE"
            // Gig and bid lifecycle
            case gigNotOpen = "GIG_NOT_OPEN"
            case biddingClosed = "BIDDING_CLOSED"
            case deadlineNotPassed = "DEADLINE_NOT_PASSED"
            case duplicateBid = "DUPLICATE_BID"
            case bidNotLive = "BID_NOT_LIVE"
            case gigAlreadyAwarded = "GIG_ALREADY_AWARDED"
            case gigNotAwarded = "GIG_NOT_AWARDED"
            // Contract lifecycle
            case contractNotActive = "CONTRACT_NOT_ACTIVE"
            case contractDisputed = "CONTRACT_DISPUTED"
            case deliveryPending = "DELIVERY_PENDING"
            case noPendingDelivery = "NO_PENDING_DELIVERY"
            case reviewWindowOpen = "REVIEW_WINDOW_OPEN"
            case nothingToDispute = "NOTHING_TO_DISPUTE"
            case contractNotEnded = "CONTRACT_NOT_ENDED"
            case duplicateReview = "DUPLICATE_REVIEW"
            // Event storage format
            case unknownEventType = "UNKNOWN_EVENT_TYPE"
            case unsupportedSchemaVersion = "UNSUPPORTED_SCHEMA_VERSION"
            case undecodableEvent = "UNDECODABLE_EVENT"
            case unencodableEvent = "UNENCODABLE_EVENT"
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The code as stored and shown, e.g. `GIG_NOT_OPEN`.
        public var rawValue: String { base.rawValue }
        public var description: String { base.rawValue }

        /// Every code this version knows, in declaration order.
        public static var allCodes: [Code] { Base.allCases.map(Code.init) }

        /// A text field is empty, too long, holds control characters, or a number is out of range.
        public static let invalidInput = Code(.invalidInput)
        /// A gig budget is not `0 < min ≤ max ≤` ``MarketplaceLimits/maximumAmountMinorUnits``.
        public static let invalidBudget = Code(.invalidBudget)
        /// An amount is not positive or exceeds ``MarketplaceLimits/maximumAmountMinorUnits``.
        public static let invalidAmount = Code(.invalidAmount)
        /// Money arithmetic would overflow 64-bit minor units.
        public static let amountOverflow = Code(.amountOverflow)
        /// A review rating is not 1–5.
        public static let invalidRating = Code(.invalidRating)
        /// A skill slug is not in the ``SkillTaxonomy``.
        public static let unknownSkill = Code(.unknownSkill)
        /// A currency code is not one of ``Currency/supported``.
        public static let unknownCurrency = Code(.unknownCurrency)
        /// Two amounts in different currencies were combined or compared.
        public static let currencyMismatch = Code(.currencyMismatch)
        /// A stream name is not `category-<lower-case uuid>` of the expected category.
        public static let invalidStreamName = Code(.invalidStreamName)
        /// The actor may not issue this command.
        public static let notAllowed = Code(.notAllowed)
        /// Only the gig's client may do this.
        public static let notGigOwner = Code(.notGigOwner)
        /// Only the contract's freelancer may do this.
        public static let notContractFreelancer = Code(.notContractFreelancer)
        /// Only the contract's client may do this.
        public static let notContractClient = Code(.notContractClient)
        /// A freelancer tried to bid on a gig posted by their own client account.
        public static let selfBid = Code(.selfBid)
        /// The freelancer is not registered.
        public static let freelancerNotFound = Code(.freelancerNotFound)
        /// The client is not registered.
        public static let clientNotFound = Code(.clientNotFound)
        /// No gig has been posted under this id.
        public static let gigNotFound = Code(.gigNotFound)
        /// The gig has no bid with this id.
        public static let bidNotFound = Code(.bidNotFound)
        /// No contract has been started under this id.
        public static let contractNotFound = Code(.contractNotFound)
        /// The freelancer or client id is already registered with different details.
        public static let alreadyRegistered = Code(.alreadyRegistered)
        /// An id the command brings for a new thing (gig, bid, delivery, dispute) is already used
        /// by something different.
        public static let idInUse = Code(.idInUse)
        /// The gig no longer takes bids or awards (awarded or closed).
        public static let gigNotOpen = Code(.gigNotOpen)
        /// The gig's bidding deadline has passed.
        public static let biddingClosed = Code(.biddingClosed)
        /// A timer fired before the deadline it enforces.
        public static let deadlineNotPassed = Code(.deadlineNotPassed)
        /// The freelancer already has a live bid on this gig.
        public static let duplicateBid = Code(.duplicateBid)
        /// The bid was withdrawn, declined, accepted or has lapsed.
        public static let bidNotLive = Code(.bidNotLive)
        /// The gig was already awarded to another bid.
        public static let gigAlreadyAwarded = Code(.gigAlreadyAwarded)
        /// The gig has not been awarded (or was closed otherwise).
        public static let gigNotAwarded = Code(.gigNotAwarded)
        /// The contract takes no deliveries now (disputed, completed or cancelled).
        public static let contractNotActive = Code(.contractNotActive)
        /// The contract is under dispute; wait for the resolution.
        public static let contractDisputed = Code(.contractDisputed)
        /// A delivery is awaiting the client's review.
        public static let deliveryPending = Code(.deliveryPending)
        /// The delivery named is not awaiting review.
        public static let noPendingDelivery = Code(.noPendingDelivery)
        /// The delivery's review window has not passed yet.
        public static let reviewWindowOpen = Code(.reviewWindowOpen)
        /// The contract is not active or delivered (or the dispute named is not open).
        public static let nothingToDispute = Code(.nothingToDispute)
        /// Reviews wait until the contract is completed or cancelled.
        public static let contractNotEnded = Code(.contractNotEnded)
        /// This side already reviewed the contract, differently.
        public static let duplicateReview = Code(.duplicateReview)
        /// A stored event's type is unknown to this version (or belongs to another aggregate's
        /// streams).
        public static let unknownEventType = Code(.unknownEventType)
        /// A stored event's schema version cannot be read: newer than the type's current version
        /// in ``EventRegistry``, below 1, or with no upcaster to the next version.
        public static let unsupportedSchemaVersion = Code(.unsupportedSchemaVersion)
        /// A stored event's data does not decode.
        public static let undecodableEvent = Code(.undecodableEvent)
        /// An event could not be encoded (a programming error, e.g. a date out of range).
        public static let unencodableEvent = Code(.unencodableEvent)
    }

    /// The stable reason.
    public let code: Code
    /// What was wrong with which input, and what to do about it.
    public let message: String
    /// The underlying error, when one caused this (e.g. a `DecodingError`).
    public let cause: (any Error & Sendable)?

    /// An error of `code` with `message` for the person who sent the command; `cause` when another
    /// error led to it.
    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    public var description: String {
        if let cause {
            return "\(code): \(message) (cause: \(cause))"
        }
        return "\(code): \(message)"
    }
}
