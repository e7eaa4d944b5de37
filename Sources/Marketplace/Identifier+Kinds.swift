/// The kinds of ``Identifier`` the marketplace uses.
public enum IdentifierKinds {
    /// A freelancer (owns a `freelancer-…` stream).
    public enum Freelancer: StreamIdentifierKind {
        /// `freelancer`.
        public static var noun: String { "freelancer" }
        /// `freelancer`.
        public static var category: StreamCategory { .freelancer }
    }
    /// A client (owns a `client-…` stream).
    public enum Client: StreamIdentifierKind {
        /// `client`.
        public static var noun: String { "client" }
        /// `client`.
        public static var category: StreamCategory { .client }
    }
    /// A gig (owns a `gig-…` stream, which also holds the gig's bids).
    public enum Gig: StreamIdentifierKind {
        /// `gig`.
        public static var noun: String { "gig" }
        /// `gig`.
        public static var category: StreamCategory { .gig }
    }
    /// A contract (owns a `contract-…` stream).
    public enum Contract: StreamIdentifierKind {
        /// `contract`.
        public static var noun: String { "contract" }
        /// `contract`.
        public static var category: StreamCategory { .contract }
    }
    /// A bid, inside its gig's stream.
    public enum Bid: IdentifierKind {
        /// `bid`.
        public static var noun: String { "bid" }
    }
    /// A delivery, inside its contract's stream.
    public enum Delivery: IdentifierKind {
        /// `delivery`.
        public static var noun: String { "delivery" }
    }
    /// A dispute, inside its contract's stream.
    public enum Dispute: IdentifierKind {
        /// `dispute`.
        public static var noun: String { "dispute" }
    }
    /// A command: the idempotency key of an append.
    public enum Command: IdentifierKind {
        /// `command`.
        public static var noun: String { "command" }
    }
}

/// Identifies a freelancer and their `freelancer-…` stream.
public typealias FreelancerID = Identifier<IdentifierKinds.Freelancer>
/// Identifies a client and their `client-…` stream.
public typealias ClientID = Identifier<IdentifierKinds.Client>
/// Identifies a gig and its `gig-…` stream.
public typealias GigID = Identifier<IdentifierKinds.Gig>
/// Identifies a contract and its `contract-…` stream.
public typealias ContractID = Identifier<IdentifierKinds.Contract>
/// Identifies a bid within its gig.
public typealias BidID = Identifier<IdentifierKinds.Bid>
/// Identifies a delivery within its contract.
public typealias DeliveryID = Identifier<IdentifierKinds.Delivery>
/// Identifies a dispute within its contract.
public typealias DisputeID = Identifier<IdentifierKinds.Dispute>
/// Identifies a command; the event store uses it as the append's idempotency key.
public typealias CommandID = Identifier<IdentifierKinds.Command>
