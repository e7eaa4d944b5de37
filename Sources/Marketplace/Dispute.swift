/// A dispute on a contract.
public struct Dispute: Equatable, Sendable, Encodable {
    /// The opening as recorded.
    public let opening: ContractEvent.DisputeOpened
    /// The contract's status when the dispute opened; `resumeWork` returns to it.
    public let statusBefore: ContractRecord.Status
    /// The resolution, once resolved.
    public internal(set) var resolution: DisputeResolution?

    init(_ opening: ContractEvent.DisputeOpened, statusBefore: ContractRecord.Status) {
        self.opening = opening
        self.statusBefore = statusBefore
        resolution = nil
    }

    /// The dispute's id, from its opening.
    public var id: DisputeID { opening.disputeID }
}
