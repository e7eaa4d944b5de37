import Foundation

/// Automated invoicing: the payment a contract releases, computed from its terms alone.
public enum Invoice {
    /// The invoice number of `contractID`, issued at `issuedAt`:
    /// `INV-<yyyy>-<the contract id's 32 hex digits, upper case>`, the year in UTC.
    ///
    /// Deterministic (a replayed decision yields the same number) and unique, since a contract is
    /// paid at most once. The full id is used, not a prefix: 8 hex digits (32 bits) would make a
    /// collision between two contracts of the same year likely after some 77 000 contracts.
    ///
    /// - Throws: ``DomainError/Code/invalidInput`` when `issuedAt` lies outside the years
    ///   1970–9999.
    public static func number(contractID: ContractID, issuedAt: Date) throws(DomainError) -> String {
        guard let year = EventTime.year(of: issuedAt) else {
            throw DomainError(.invalidInput, "The invoice time must lie between the years 1970 and 9999.")
        }
        let hex = contractID.uuid.uuidString.replacingOccurrences(of: "-", with: "")
        return "INV-\(year)-\(hex)"
    }

    /// The payment of `contract` released at `issuedAt`: gross = the agreed amount, platform
    /// fee = ``ContractTerms/platformFeeBasisPoints`` of it rounded half to even, net = gross − fee.
    public static func payment(for contract: ContractRecord, issuedAt: Date) throws(DomainError)
        -> ContractEvent.PaymentReleased
    {
        let gross = contract.amount
        let fee = try gross.share(basisPoints: Int64(contract.terms.platformFeeBasisPoints))
        let net = try gross.subtracting(fee)
        return ContractEvent.PaymentReleased(
            contractID: contract.id, invoiceNumber: try number(contractID: contract.id, issuedAt: issuedAt),
            gross: gross, platformFee: fee, net: net)
    }
}
