import Foundation
import Marketplace
import Testing

@Suite struct MoneyTests {
    @Test func addsAndSubtractsInOneCurrency() throws {
        let sum = try Fixtures.eur(150).adding(Fixtures.eur(50))
        #expect(sum == Fixtures.eur(200))
        #expect(try sum.subtracting(Fixtures.eur(250)) == Fixtures.eur(-50))
    }

    @Test func neverMixesCurrencies() {
        expectFailure(.currencyMismatch) { _ = try Fixtures.eur(1).adding(Fixtures.usd(1)) }
        expectFailure(.currencyMismatch) { _ = try Fixtures.eur(1).subtracting(Fixtures.usd(1)) }
        expectFailure(.currencyMismatch) { _ = try Fixtures.eur(1).isLess(than: Fixtures.usd(2)) }
    }

    @Test func overflowIsAnErrorNotATrap() {
        let big = Money(minorUnits: .max, currency: .eur)
        expectFailure(.amountOverflow) { _ = try big.adding(Fixtures.eur(1)) }
        expectFailure(.amountOverflow) { _ = try Money(minorUnits: .min, currency: .eur).subtracting(Fixtures.eur(1)) }
        expectFailure(.amountOverflow) { _ = try big.multiplied(by: 2) }
        expectFailure(.amountOverflow) { _ = try big.share(basisPoints: 1000) }
    }

    @Test(arguments: [
        // (amount, basis points, expected share): half to even at exact halves.
        (Int64(105), Int64(1000), Int64(10)),  // 10.5 → 10
        (115, 1000, 12),  // 11.5 → 12
        (125, 1000, 12),  // 12.5 → 12
        (126, 1000, 13),  // 12.6 → 13
        (124, 1000, 12),  // 12.4 → 12
        (-105, 1000, -10),
        (-115, 1000, -12),
        (300_000, 1000, 30_000),
        (1, 5000, 0),  // 0.5 → 0
        (3, 5000, 2),  // 1.5 → 2
        (0, 1000, 0),
    ])
    func shareRoundsHalfToEven(amount: Int64, basisPoints: Int64, expected: Int64) throws {
        #expect(try Fixtures.eur(amount).share(basisPoints: basisPoints).minorUnits == expected)
    }

    @Test func comparesWithinACurrency() throws {
        #expect(try Fixtures.eur(1).isLess(than: Fixtures.eur(2)))
        #expect(try !Fixtures.eur(2).isLess(than: Fixtures.eur(2)))
    }

    @Test func describesWithTheCurrencysMinorUnits() {
        #expect(Fixtures.eur(150_000).description == "EUR 1500.00")
        #expect(Fixtures.eur(-5).description == "EUR -0.05")
        #expect(Money(minorUnits: 1200, currency: .jpy).description == "JPY 1200")
        #expect(Money(minorUnits: 250, currency: (try? Currency(code: "KWD")) ?? .eur).description == "KWD 0.250")
    }

    @Test func encodesAsMinorUnitsAndCode() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(Fixtures.eur(150_000)), as: UTF8.self)
        #expect(json == #"{"currency":"EUR","minorUnits":150000}"#)
        #expect(try JSONDecoder().decode(Money.self, from: Data(json.utf8)) == Fixtures.eur(150_000))
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(Money.self, from: Data(#"{"currency":"XXX","minorUnits":1}"#.utf8))
        }
    }
}
