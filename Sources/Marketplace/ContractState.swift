/// A contract, as folded from its stream.
public enum ContractState: Equatable, Sendable, Encodable {
    /// No `ContractStarted` yet.
    case notStarted
    /// Started; see ``ContractRecord/status``.
    case started(ContractRecord)

    /// The contract, when started.
    public var contract: ContractRecord? {
        if case .started(let contract) = self { return contract }
        return nil
    }
}
