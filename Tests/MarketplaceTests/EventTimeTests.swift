import Foundation
import Testing

@testable import Marketplace

@Suite struct EventTimeTests {
    @Test func formatsUTCWithMilliseconds() {
        #expect(EventTime.string(from: Fixtures.t0) == "2026-01-01T00:00:00.000Z")
        #expect(EventTime.string(from: Date(timeIntervalSince1970: 951_827_696.789)) == "2000-02-29T12:34:56.789Z")
        #expect(EventTime.string(from: Date(timeIntervalSince1970: 0)) == "1970-01-01T00:00:00.000Z")
        #expect(EventTime.string(from: Date(timeIntervalSince1970: -1)) == nil)
        #expect(EventTime.string(from: Date(timeIntervalSince1970: 253_402_300_800)) == nil)  // 10000-01-01
        #expect(EventTime.string(from: Date(timeIntervalSince1970: 253_402_300_799.999)) == "9999-12-31T23:59:59.999Z")
    }

    @Test func parsesWhatItFormats() {
        #expect(EventTime.date(from: "2026-01-01T00:00:00.000Z") == Fixtures.t0)
        #expect(EventTime.date(from: "2026-01-01T00:00:00Z") == Fixtures.t0)
        for bad in [
            "2026-02-30T00:00:00.000Z", "2026-13-01T00:00:00.000Z", "2026-01-01 00:00:00.000Z",
            "2026-01-01T24:00:00.000Z", "2026-01-01T00:00:00.000+01:00", "", "1969-12-31T23:59:59.999Z",
        ] {
            #expect(EventTime.date(from: bad) == nil, "\(bad)")
        }
    }

    @Test func normalizedTimesSurviveTheRoundTripExactly() {
        // A deterministic spread over the storable range, with sub-millisecond fractions.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        for _ in 0..<5000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let seconds = Double(state >> 11) / Double(1 << 53) * 253_402_300_799
            let date = Date(timeIntervalSince1970: seconds)
            let normalized = EventTime.normalized(date)
            #expect(EventTime.normalized(normalized) == normalized)
            guard let text = EventTime.string(from: normalized) else {
                Issue.record("no string for \(date)")
                continue
            }
            #expect(EventTime.date(from: text) == normalized, "\(text)")
            // half a millisecond plus Double's error near year 9999
            #expect(abs(normalized.timeIntervalSince(date)) <= 0.0006)
        }
    }

    @Test func yearsAreUTC() {
        #expect(EventTime.year(of: Date(timeIntervalSince1970: 1_767_225_599)) == 2025)
        #expect(EventTime.year(of: Fixtures.t0) == 2026)
    }
}
