import Foundation
import Testing

@testable import PQ

/// `uuid` values arrive as text; they are read without Foundation's `sscanf`-based parser.
@Suite("UUIDs read from PostgreSQL's text form")
struct UUIDTextTests {
    @Test func theCanonicalFormReadsAsFoundationReadsItInAnyCase() {
        for _ in 0..<2_000 {
            let id = UUID()
            let lower = id.uuidString.lowercased()
            let mixed = String(
                lower.enumerated().map { $0.offset % 3 == 0 ? Character($0.element.uppercased()) : $0.element })
            for text in [lower, id.uuidString, mixed] {
                #expect(UUID.canonical(text) == id, "\(text)")
                #expect(UUID.canonical(text) == UUID(uuidString: text))
            }
        }
    }

    @Test func anythingElseIsNotTakenForAUUID() {
        let id = UUID().uuidString.lowercased()
        let hyphensGone: String = id.replacingOccurrences(of: "-", with: "")
        let underscores: String = id.replacingOccurrences(of: "-", with: "_")
        let badDigit: String = "g" + String(id.dropFirst())
        let shiftedHyphen: String = String(id.prefix(8)) + "0" + String(id.dropFirst(9))
        let braced: String = "{" + String(id.dropFirst().dropLast()) + "}"
        let wrong: [String] = [
            "", String(id.dropLast()), id + "0", hyphensGone, badDigit, shiftedHyphen, braced, underscores,
        ]
        for text in wrong { #expect(UUID.canonical(text) == nil, "\(text)") }
    }
}
