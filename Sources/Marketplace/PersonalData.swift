import Foundation

/// Which fields of which events hold personal data, how such a field is stored, and how a reader
/// gets the plaintext back (PRIVACY.md; the envelope in the storage format article).
///
/// Personal fields are names and free texts written by or about a person. Ids, amounts, skills,
/// times, ratings, states, reason codes and countries are not. No marketplace rule reads a
/// personal field. Only the recognition of a repeated command (same id, other details: rejected)
/// compares one, opened by the handler's fold; a field read as ``placeholder`` (erased) matches
/// any text (``matches(_:_:)``), so a repeat of what was decided before erasure is still one.
///
/// Stored form of a personal string: an **envelope**, itself a JSON string, so events keep their
/// shape, types, versions and positions:
///
/// ```text
/// $enc:v1;<key id>[;<key id>];<base64 of nonce ‖ ciphertext ‖ tag>
/// ```
///
/// Key ids are data subjects (`freelancer:<uuid>`, `client:<uuid>`). With two keys the text was
/// sealed with the first, and that sealed box again with the second: either subject's erasure
/// makes it unreadable (a text about both parties of a contract). AES-256-GCM with a random
/// 96-bit nonce per seal; the authenticated data is `<event type>.<field>`.
public enum PersonalData {
    /// What a reader sees where the subject's key was destroyed.
    public static let placeholder = "[erased]"

    /// Whether a personal text held in a state (`stored`, opened by the handler's fold) allows
    /// a command carrying `given` to be a repeat: equal, or erased (then nobody can tell, and the
    /// facts decide).
    public static func matches(_ stored: String, _ given: String) -> Bool {
        stored == given || stored == placeholder
    }

    /// ``matches(_:_:)`` for a list of texts (a delivery's artifacts), item by item.
    public static func matches(_ stored: [String], _ given: [String]) -> Bool {
        stored.count == given.count && zip(stored, given).allSatisfy { matches($0, $1) }
    }

    /// The envelope's prefix (its format version).
    public static let envelopePrefix = "$enc:v1;"

    /// One personal field: its JSON key and whether it is a list of strings. Whose key seals it
    /// follows from the stream: a freelancer's or client's own stream, their key; a gig's stream,
    /// its client's; a contract's stream, both parties' (client, then freelancer), since its
    /// texts are written by one party about the work of the other.
    public struct Field: Sendable, Hashable {
        public let key: String
        public let isList: Bool

        init(_ key: String, list: Bool = false) {
            self.key = key
            self.isList = list
        }
    }

    /// The personal fields of every event type that has any (types not listed have none).
    public static let fields: [String: [Field]] = [
        FreelancerEvent.FreelancerRegistered.eventType: [Field("name")],
        ClientEvent.ClientRegistered.eventType: [Field("name")],
        GigEvent.GigPosted.eventType: [Field("title"), Field("description")],
        ContractEvent.DeliverySubmitted.eventType: [
            Field("note"), Field("artifacts", list: true),
        ],
        ContractEvent.ChangesRequested.eventType: [Field("reason")],
        ContractEvent.DisputeOpened.eventType: [Field("reason")],
        ContractEvent.DisputeResolved.eventType: [Field("note")],
        ContractEvent.ReviewSubmitted.eventType: [Field("text")],
    ]

    /// The authenticated data of a field's seal: `<event type>.<field>`.
    public static func context(type: String, field: String) -> Data { Data("\(type).\(field)".utf8) }

    /// `data` (a stored event's JSON object) with every personal field of `type` passed through
    /// `transform` (each string of a list field on its own); `nil` when `type` has none or the
    /// data holds none of them.
    public static func mapFields(
        of type: String, in data: Data, _ transform: (_ value: String, _ field: Field) throws -> String
    ) throws -> Data? {
        guard let fields = fields[type] else { return nil }
        let rewritten = try rewriteTopLevelStrings(data, fields: fields, transform)
        return rewritten.changed ? rewritten.data : nil
    }
}

/// A personal field as stored: the key ids that sealed it and the sealed bytes.
public struct PersonalDataEnvelope: Sendable, Hashable {
    /// The subjects whose data keys sealed the text, innermost first.
    public let keyIDs: [String]
    /// Nonce ‖ ciphertext ‖ tag of the outermost seal.
    public let sealed: Data

    public init(keyIDs: [String], sealed: Data) {
        self.keyIDs = keyIDs
        self.sealed = sealed
    }

    /// Parses a stored string; `nil` when it is not an envelope (plaintext written before
    /// encryption began: PRIVACY.md, "Logs written before encryption").
    public init?(parsing text: String) {
        guard text.hasPrefix(PersonalData.envelopePrefix) else { return nil }
        let parts = text.dropFirst(PersonalData.envelopePrefix.count).split(
            separator: ";", omittingEmptySubsequences: false)
        guard parts.count >= 2, let sealed = Data(base64Encoded: String(parts[parts.count - 1])) else { return nil }
        let keys = parts.dropLast().map(String.init)
        guard keys.allSatisfy({ (try? DataSubject(parsing: $0)) != nil }) else { return nil }
        self.keyIDs = keys
        self.sealed = sealed
    }

    /// The stored string.
    public var text: String {
        PersonalData.envelopePrefix + keyIDs.joined(separator: ";") + ";" + sealed.base64EncodedString()
    }
}

/// Opens personal-field envelopes for a reader (``EventRegistry/revealing(with:)``): a keyring
/// loaded for the events at hand.
public protocol PersonalDataReader: Sendable {
    /// The plaintext sealed in `envelope` with the authenticated data `context`, or `nil` when
    /// one of its keys no longer exists (the subject was forgotten).
    ///
    /// - Throws: when a key exists but does not open the envelope (corrupt or tampered data).
    func open(_ envelope: PersonalDataEnvelope, context: Data) throws -> String?
}
