import Foundation

extension UUID {
    /// Whether this id sorts before `other` in the order of their `uuidString`s, the order
    /// matching breaks equal scores in. Compared on the 16 bytes: upper-case hex digits sort as
    /// their values and the hyphens stand at the same places in every id, so the orders agree,
    /// without formatting either id (`uuidString` goes through `sprintf` on Linux, and ranking
    /// compares ids many times per search).
    public func sortsBefore(_ other: UUID) -> Bool {
        withUnsafeBytes(of: uuid) { mine in
            withUnsafeBytes(of: other.uuid) { theirs in mine.lexicographicallyPrecedes(theirs) }
        }
    }
}
