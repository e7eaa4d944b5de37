/// The categories of marketplace streams: the part of a stream name before the first hyphen.
public enum StreamCategory: String, Sendable, Hashable, CaseIterable, Codable {
    case freelancer
    case client
    case gig
    case contract
}
