/// An amount of one currency, in integer minor units (cents for EUR, yen for JPY).
///
/// Amounts of different currencies never mix: arithmetic and comparison across currencies throw
/// ``DomainError/Code/currencyMismatch``. Overflow throws ``DomainError/Code/amountOverflow``;
/// nothing here traps. A `Money` may be zero or negative; the rules that need a positive amount
/// check it themselves. Encodes as `{"currency": "EUR", "minorUnits": 150000}`.
public struct Money: Hashable, Sendable, Codable, CustomStringConvertible {
    /// The amount in minor units of ``currency``.
    public let minorUnits: Int64
    /// The currency.
    public let currency: Currency

    /// `minorUnits` of `currency`.
    public init(minorUnits: Int64, currency: Currency) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    private enum CodingKeys: String, CodingKey {
        case minorUnits
        case currency
    }

    /// Zero of `currency`.
    public static func zero(_ currency: Currency) -> Money { Money(minorUnits: 0, currency: currency) }

    /// `self + other`.
    public func adding(_ other: Money) throws(DomainError) -> Money {
        try requireSameCurrency(as: other)
        let (sum, overflow) = minorUnits.addingReportingOverflow(other.minorUnits)
        guard !overflow else { throw Money.overflow("Adding") }
        return Money(minorUnits: sum, currency: currency)
    }

    /// `self - other`.
    public func subtracting(_ other: Money) throws(DomainError) -> Money {
        try requireSameCurrency(as: other)
        let (difference, overflow) = minorUnits.subtractingReportingOverflow(other.minorUnits)
        guard !overflow else { throw Money.overflow("Subtracting") }
        return Money(minorUnits: difference, currency: currency)
    }

    /// `self × factor`.
    public func multiplied(by factor: Int64) throws(DomainError) -> Money {
        let (product, overflow) = minorUnits.multipliedReportingOverflow(by: factor)
        guard !overflow else { throw Money.overflow("Multiplying") }
        return Money(minorUnits: product, currency: currency)
    }

    /// `basisPoints` ten-thousandths of `self` (1000 bp = 10 %), rounded half to even in minor
    /// units, so fees computed over many contracts carry no systematic bias.
    public func share(basisPoints: Int64) throws(DomainError) -> Money {
        let (product, overflow) = minorUnits.multipliedReportingOverflow(by: basisPoints)
        guard !overflow else { throw Money.overflow("Taking a share of") }
        let (quotient, remainder) = product.quotientAndRemainder(dividingBy: 10_000)
        // Remainders are in -9999...9999, so doubling cannot overflow.
        let twice = remainder.magnitude * 2
        var rounded = quotient
        if twice > 10_000 || (twice == 10_000 && quotient % 2 != 0) {
            rounded += product < 0 ? -1 : 1
        }
        return Money(minorUnits: rounded, currency: currency)
    }

    /// Whether `self < other`.
    ///
    /// - Throws: ``DomainError/Code/currencyMismatch`` for different currencies.
    public func isLess(than other: Money) throws(DomainError) -> Bool {
        try requireSameCurrency(as: other)
        return minorUnits < other.minorUnits
    }

    /// Throws ``DomainError/Code/currencyMismatch`` unless `other` is in ``currency``.
    public func requireSameCurrency(as other: Money) throws(DomainError) {
        guard currency == other.currency else {
            throw DomainError(
                .currencyMismatch,
                "An amount in \(other.currency) cannot be combined with one in \(currency): currencies are never converted; use \(currency)."
            )
        }
    }

    /// E.g. `EUR 1500.00`, `JPY 1200`, `KWD -0.250`.
    public var description: String {
        let digits = currency.minorUnitDigits
        guard digits > 0 else { return "\(currency.code) \(minorUnits)" }
        var divisor: UInt64 = 1
        for _ in 0..<digits { divisor *= 10 }
        let magnitude = minorUnits.magnitude
        let fraction = String(magnitude % divisor)
        let padded = String(repeating: "0", count: max(0, digits - fraction.count)) + fraction
        return "\(currency.code) \(minorUnits < 0 ? "-" : "")\(magnitude / divisor).\(padded)"
    }

    private static func overflow(_ operation: String) -> DomainError {
        DomainError(
            .amountOverflow,
            "\(operation) the amount overflows 64-bit minor units: use amounts within ±\(MarketplaceLimits.maximumAmountMinorUnits) minor units."
        )
    }
}
