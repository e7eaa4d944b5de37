import Foundation
import Marketplace
import Testing

@Suite struct CurrencyTests {
    @Test func acceptsSupportedCodesOnly() throws {
        #expect(try Currency(code: "EUR") == .eur)
        #expect(try Currency(code: "JPY").minorUnitDigits == 0)
        for bad in ["eur", "EURO", "XXX", "", "E1R"] {
            expectFailure(.unknownCurrency) { _ = try Currency(code: bad) }
        }
    }

    @Test func supportedListIsSortedUniqueAndWellFormed() {
        let codes = Currency.supported.map(\.code)
        #expect(codes == codes.sorted())
        #expect(Set(codes).count == codes.count)
        #expect(codes.allSatisfy { $0.count == 3 && $0.allSatisfy { $0.isUppercase && $0.isASCII } })
        #expect(Currency.supported.allSatisfy { (0...3).contains($0.minorUnitDigits) })
    }
}
