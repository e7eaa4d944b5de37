/// A request to change a client's stream (`client-<id>`).
///
/// Allowed to the client themselves (`.client(id)`) and to admins; anyone else gets
/// ``DomainError/Code/notAllowed``.
public enum ClientCommand: Hashable, Sendable {
    /// Registers a new client.
    case registerClient(RegisterClient)

    /// Registers client ``clientID``.
    ///
    /// Repeating it with the same data decides nothing; registering an id already registered with
    /// other data fails with ``DomainError/Code/alreadyRegistered``.
    public struct RegisterClient: Hashable, Sendable {
        /// The command's id, actor and business time.
        public var context: CommandContext
        /// The client to register: the id of the `client-<id>` stream.
        public var clientID: ClientID
        /// 1–200 characters, no control characters.
        public var name: String
        /// ISO 3166-1 alpha-2 code, two upper-case letters (e.g. `DE`).
        public var country: String
        /// Whether a payment method was verified. The handler sets it from the payment provider's
        /// answer, never from the client's own claim.
        public var paymentVerified: Bool

        /// A registration of `clientID`; the rules are checked by ``ClientDecider``, not here.
        public init(context: CommandContext, clientID: ClientID, name: String, country: String, paymentVerified: Bool) {
            self.context = context
            self.clientID = clientID
            self.name = name
            self.country = country
            self.paymentVerified = paymentVerified
        }
    }

    /// The command's id, actor and time.
    public var context: CommandContext {
        switch self {
        case .registerClient(let command): command.context
        }
    }

    /// The client whose stream the command changes.
    public var clientID: ClientID {
        switch self {
        case .registerClient(let command): command.clientID
        }
    }

    /// The stream to load and append to.
    public var stream: MarketplaceStream { clientID.stream }
}
