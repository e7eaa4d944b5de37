import Foundation

/// What happened to a client; stored in `client-<id>`.
public enum ClientEvent: DomainEvent {
    case clientRegistered(ClientRegistered)

    /// `ClientRegistered` v1: `{"clientId", "name", "country", "paymentVerified"}`.
    public struct ClientRegistered: EventPayload {
        /// The stored type name.
        public static let eventType = "ClientRegistered"
        /// The client registered (the stream's id).
        public let clientID: ClientID
        /// The client's name as registered.
        public let name: String
        /// ISO 3166-1 alpha-2.
        public let country: String
        /// Whether the handler had verified a payment method at registration.
        public let paymentVerified: Bool

        /// The registration of `clientID` as recorded.
        public init(clientID: ClientID, name: String, country: String, paymentVerified: Bool) {
            self.clientID = clientID
            self.name = name
            self.country = country
            self.paymentVerified = paymentVerified
        }

        private enum CodingKeys: String, CodingKey {
            case clientID = "clientId"
            case name
            case country
            case paymentVerified
        }
    }

    /// The wrapped data.
    public var payload: any EventPayload {
        switch self {
        case .clientRegistered(let payload): payload
        }
    }

    /// `client`.
    public static var category: StreamCategory { .client }

    /// This event wrapped as ``MarketplaceEvent/client(_:)``.
    public var marketplaceEvent: MarketplaceEvent { .client(self) }

    /// `event` when it is a client event; `nil` otherwise.
    public init?(_ event: MarketplaceEvent) {
        guard case .client(let event) = event else { return nil }
        self = event
    }
}

extension ClientEvent.ClientRegistered {
    /// Equal but for the personal fields (``PersonalData/fields``), which no rule reads.
    public func sameFacts(as other: Self) -> Bool {
        clientID == other.clientID && country == other.country && paymentVerified == other.paymentVerified
    }
}
