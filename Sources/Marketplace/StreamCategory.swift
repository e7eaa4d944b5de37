/// The categories of marketplace streams: the part of a stream name before the first hyphen.
public enum StreamCategory: String, Sendable, Hashable, CaseIterable, Codable {
    case freelancer
    case client
    case gig
    case contract
    /// `privacy-<subject's uuid>`: the erasure of a data subject's personal data (PRIVACY.md).
    case privacy
}
