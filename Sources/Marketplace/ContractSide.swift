/// One of the two parties of a contract. Stored as the raw value.
public enum ContractSide: String, Hashable, Sendable, Codable, CodingKeyRepresentable, CaseIterable {
    case client
    case freelancer
}
