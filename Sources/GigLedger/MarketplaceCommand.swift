import Marketplace

/// Any command of the marketplace, routed to the aggregate that decides it.
public enum MarketplaceCommand: Hashable, Sendable {
    case freelancer(FreelancerCommand)
    case client(ClientCommand)
    case gig(GigCommand)
    case contract(ContractCommand)

    /// The command's id, actor and business time.
    public var context: CommandContext {
        switch self {
        case .freelancer(let command): command.context
        case .client(let command): command.context
        case .gig(let command): command.context
        case .contract(let command): command.context
        }
    }

    /// The stream of the aggregate that decides the command.
    public var stream: MarketplaceStream {
        switch self {
        case .freelancer(let command): command.stream
        case .client(let command): command.stream
        case .gig(let command): command.stream
        case .contract(let command): command.stream
        }
    }

    /// The command's name as it appears in JSON input (`PlaceBid`).
    public var name: String {
        switch self {
        case .freelancer(.registerFreelancer): "RegisterFreelancer"
        case .freelancer(.updateSkills): "UpdateSkills"
        case .freelancer(.changeRate): "ChangeRate"
        case .freelancer(.changeAvailability): "ChangeAvailability"
        case .freelancer(.setPreferences): "SetPreferences"
        case .client(.registerClient): "RegisterClient"
        case .gig(.postGig): "PostGig"
        case .gig(.placeBid): "PlaceBid"
        case .gig(.reviseBid): "ReviseBid"
        case .gig(.withdrawBid): "WithdrawBid"
        case .gig(.declineBid): "DeclineBid"
        case .gig(.acceptBid): "AcceptBid"
        case .gig(.cancelGig): "CancelGig"
        case .gig(.expireGig): "ExpireGig"
        case .gig(.closeAwardedGig): "CloseAwardedGig"
        case .contract(.submitDelivery): "SubmitDelivery"
        case .contract(.requestChanges): "RequestChanges"
        case .contract(.approveDelivery): "ApproveDelivery"
        case .contract(.autoApproveDelivery): "AutoApproveDelivery"
        case .contract(.openDispute): "OpenDispute"
        case .contract(.resolveDispute): "ResolveDispute"
        case .contract(.submitReview): "SubmitReview"
        case .contract(.cancelContract): "CancelContract"
        }
    }
}
