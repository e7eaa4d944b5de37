/// An ISO 4217 currency the marketplace trades in, with the number of digits of its minor unit.
///
/// Only the codes in ``supported`` exist: ``init(code:)`` rejects any other. The list only ever
/// grows (events store codes, and an event must stay readable forever). Encodes as the plain code
/// string, e.g. `"EUR"`.
public struct Currency: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    /// The three upper-case letters, e.g. `EUR`.
    public let code: String
    /// Digits after the decimal point: 2 for EUR (cents), 0 for JPY, 3 for KWD.
    public let minorUnitDigits: Int

    private init(_ code: String, _ minorUnitDigits: Int) {
        self.code = code
        self.minorUnitDigits = minorUnitDigits
    }

    /// The supported currency with this code.
    ///
    /// - Throws: ``DomainError/Code/unknownCurrency`` unless `code` is three upper-case letters
    ///   naming one of ``supported``.
    public init(code: String) throws(DomainError) {
        guard let known = Currency.byCode[code] else {
            throw DomainError(
                .unknownCurrency,
                "The currency code \(code.prefix(8)) is not supported: use an upper-case ISO 4217 code from the supported list (e.g. EUR, USD, GBP)."
            )
        }
        self = known
    }

    public var description: String { code }

    /// Alphabetical by code.
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.code < rhs.code }

    /// US dollar, 2 minor digits.
    public static let usd = Currency("USD", 2)
    /// Euro, 2 minor digits.
    public static let eur = Currency("EUR", 2)
    /// Pound sterling, 2 minor digits.
    public static let gbp = Currency("GBP", 2)
    /// Yen, no minor unit.
    public static let jpy = Currency("JPY", 0)
    /// Swiss franc, 2 minor digits.
    public static let chf = Currency("CHF", 2)
    /// Indian rupee, 2 minor digits.
    public static let inr = Currency("INR", 2)

    /// Every currency the marketplace accepts, sorted by code. Append only.
    public static let supported: [Currency] = [
        Currency("AED", 2), Currency("ARS", 2), Currency("AUD", 2), Currency("BHD", 3),
        Currency("BRL", 2), Currency("CAD", 2), chf, Currency("CLP", 0),
        Currency("CNY", 2), Currency("COP", 2), Currency("CZK", 2), Currency("DKK", 2),
        Currency("EGP", 2), eur, gbp, Currency("HKD", 2),
        Currency("HUF", 2), Currency("IDR", 2), Currency("ILS", 2), inr,
        jpy, Currency("KES", 2), Currency("KRW", 0), Currency("KWD", 3),
        Currency("MXN", 2), Currency("MYR", 2), Currency("NGN", 2), Currency("NOK", 2),
        Currency("NZD", 2), Currency("PHP", 2), Currency("PKR", 2), Currency("PLN", 2),
        Currency("RON", 2), Currency("SAR", 2), Currency("SEK", 2), Currency("SGD", 2),
        Currency("THB", 2), Currency("TRY", 2), Currency("TWD", 2), Currency("UAH", 2),
        usd, Currency("VND", 0), Currency("ZAR", 2),
    ]

    private static let byCode: [String: Currency] = Dictionary(
        supported.map { ($0.code, $0) }, uniquingKeysWith: { first, _ in first })

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let code = try container.decode(String.self)
        guard let known = Currency.byCode[code] else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "\(code.prefix(8)) is not a supported currency code.")
        }
        self = known
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(code)
    }
}
