import Crypto
import Foundation
import Marketplace

/// Data keys loaded for the events at hand: opens envelopes for ``EventRegistry/revealing(with:)``.
/// A subject without a key here was forgotten (or never had one): its fields read as the placeholder.
public struct KeyRing: PersonalDataReader {
    let keys: [String: SymmetricKey]

    public func open(_ envelope: PersonalDataEnvelope, context: Data) throws -> String? {
        var bytes = envelope.sealed
        for keyID in envelope.keyIDs.reversed() {
            guard let key = keys[keyID] else { return nil }
            bytes = try AES.GCM.open(AES.GCM.SealedBox(combined: bytes), using: key, authenticating: context)
        }
        guard let text = String(data: bytes, encoding: .utf8) else {
            throw PrivacyError(.corruptKey, "A personal field opened to bytes that are not UTF-8.")
        }
        return text
    }

    /// Seals `text` with the keys of `keyIDs` in order (the first innermost).
    static func seal(_ text: String, keys: [(id: String, key: SymmetricKey)], context: Data) throws -> String {
        var bytes = Data(text.utf8)
        for (_, key) in keys {
            guard let combined = try AES.GCM.seal(bytes, using: key, authenticating: context).combined else {
                throw PrivacyError(.corruptKey, "AES-GCM gave no combined box.")
            }
            bytes = combined
        }
        return PersonalDataEnvelope(keyIDs: keys.map(\.id), sealed: bytes).text
    }
}
