/// A gig and its bids, as folded from its stream.
public enum GigState: Equatable, Sendable, Encodable {
    /// No `GigPosted` yet.
    case notPosted
    /// Posted; see ``PostedGig/status``.
    case posted(PostedGig)

    /// The gig, when posted.
    public var gig: PostedGig? {
        if case .posted(let gig) = self { return gig }
        return nil
    }
}
