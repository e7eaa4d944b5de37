/// How an admin resolves a dispute. Stored as the raw value.
public enum DisputeResolution: String, Hashable, Sendable, Codable, CaseIterable {
    /// Work continues where it stood (a pending delivery stays pending).
    case resumeWork
    /// The freelancer is paid the agreed amount; the contract completes.
    case payFreelancer
    /// The client keeps the money; the contract is cancelled.
    case refundClient
}
