import Foundation

/// What happened to a client; stored in `client-<id>`.
public enum ClientEvent: DomainEvent {
    case clientRegistered(ClientRegistered)

    /// `ClientRegistered` v1: `{"clientId", "name", "country", "paymentVerified"}`.
    public struct ClientRegistered: EventPayload {
        public static let eventType = "ClientRegistered"
        public let clientID: ClientID
        public let name: String
        /// ISO 3166-1 alpha-2.
        public let country: String
        public let paymentVerified: Bool

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

    public static var category: StreamCategory { .client }

    public var marketplaceEvent: MarketplaceEvent { .client(self) }

    public init?(_ event: MarketplaceEvent) {
        guard case .client(let event) = event else { return nil }
        self = event
    }
}
