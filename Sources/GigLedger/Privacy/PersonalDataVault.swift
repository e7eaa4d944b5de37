import Crypto
import EventStore
import Foundation
import Marketplace
import PQ
import Synchronization

/// Crypto-shredding: seals the personal fields (``PersonalData/fields``) of the events a command
/// appends under a data key per data subject, and opens them for readers that show personal
/// data (time travel, `streams show`, `privacy export`). Data keys live wrapped by the
/// ``MasterKey`` in `privacy.subject_keys`; forgetting a subject deletes its key
/// (``forget(_:reason:actor:at:)``), after which its fields read as ``PersonalData/placeholder``.
///
/// Unwrapped data keys are cached in memory for the vault's life, so the append path pays for
/// AES-GCM only (a new subject costs one more durable commit: its key is stored in a transaction
/// of its own before the append; BENCHMARKS.md). A key forgotten by another
/// process may stay cached here: what this process then seals with it is unreadable (its key is
/// gone), and what it opens it could read before; PRIVACY.md states the limit.
public final class PersonalDataVault: Sendable {
    public let pool: ConnectionPool
    let master: MasterKey?

    private struct Cache {
        var keys: [String: SymmetricKey] = [:]
        /// Subjects found erased while sealing (no key is ever made for them again).
        var erased: Set<String> = []
        var verified = false
    }
    private let cache = Mutex(Cache())

    /// A vault over the database behind `pool`, with `masterKey` wrapping its data keys.
    public init(pool: ConnectionPool, masterKey: MasterKey) {
        self.pool = pool
        self.master = masterKey
    }

    private init(unencryptedOver pool: ConnectionPool) {
        self.pool = pool
        self.master = nil
    }

    /// A vault that stores personal fields as plaintext: only for the benchmark's baseline
    /// (the cost of encryption is measured against it). Never used by gigctl or the service.
    package static func unencryptedForBenchmarks(pool: ConnectionPool) -> PersonalDataVault {
        PersonalDataVault(unencryptedOver: pool)
    }

    /// Checks the master key against the one the database records (recording it on first use):
    /// gigctl and the service call this at start and refuse to run on a mismatch.
    ///
    /// - Throws: ``PrivacyError/Code/masterKeyWrong`` for another key; a store failure.
    public func verifyMasterKey() async throws(PrivacyError) {
        guard let master else { return }
        if cache.withLock({ $0.verified }) { return }
        let recorded: String
        do {
            // Read first, so a read-only standby can check the key too; registered on first use.
            if let known = try await pool.query("SELECT key_id FROM privacy.master_key WHERE singleton").rows.first {
                recorded = try known.decode(String.self, at: 0)
            } else {
                recorded = try await pool.query("SELECT privacy.register_master_key(\(master.id))").scalar(String.self)
            }
        } catch {
            throw PrivacyError.store(error, "Checking the master key")
        }
        guard recorded == master.id else {
            throw PrivacyError(
                .masterKeyWrong,
                "The configured master key (\(master.id)) is not the one this database's data keys are wrapped with (\(recorded)): configure the right key file. Nothing was written."
            )
        }
        cache.withLock { $0.verified = true }
    }

    // MARK: - Sealing (the append path)

    /// `events` with their personal fields sealed for `owners` (the stream's subjects, see
    /// ``PersonalData/Field``). A field whose owner was forgotten is stored as the placeholder.
    func seal(_ events: [EncodedEvent], owners: [DataSubject]) async throws(PrivacyError) -> [EncodedEvent] {
        guard master != nil, events.contains(where: { PersonalData.fields[$0.type] != nil }) else { return events }
        guard !owners.isEmpty else {
            throw PrivacyError(
                .invalidRequest,
                "An event with personal fields has no data subject to seal them for. This is a bug in GigLedger.")
        }
        let keys = try await dataKeys(for: owners)
        let ordered = owners.compactMap { subject in
            keys[subject.description].map { (id: subject.description, key: $0) }
        }
        let complete = ordered.count == owners.count
        do {
            return try events.map { event in
                guard
                    let data = try PersonalData.mapFields(
                        of: event.type, in: event.data,
                        { value, field in
                            guard complete else { return PersonalData.placeholder }
                            return try KeyRing.seal(
                                value, keys: ordered, context: PersonalData.context(type: event.type, field: field.key))
                        })
                else { return event }
                return EncodedEvent(type: event.type, schemaVersion: event.schemaVersion, data: data)
            }
        } catch {
            throw PrivacyError(.corruptKey, "Sealing personal fields failed: \(error).", cause: error)
        }
    }

    /// The data keys of `subjects`, created where missing; a forgotten subject has none.
    private func dataKeys(for subjects: [DataSubject]) async throws(PrivacyError) -> [String: SymmetricKey] {
        guard let master else { return [:] }
        var found: [String: SymmetricKey] = [:]
        var missing: [String] = []
        cache.withLock { cache in
            for subject in subjects.map(\.description) {
                if let key = cache.keys[subject] {
                    found[subject] = key
                } else if !cache.erased.contains(subject) {
                    missing.append(subject)
                }
            }
        }
        if missing.isEmpty { return found }
        try await verifyMasterKey()
        for subject in missing {
            let fresh = SymmetricKey(size: .bits256)
            let row: Row?
            do {
                let wrapped = try master.wrap(fresh, for: subject)
                row = try await pool.query(
                    "SELECT wrapped_key, master_key_id FROM privacy.subject_key(\(subject), \(wrapped), \(master.id))"
                ).rows.first
            } catch {
                throw PrivacyError.store(error, "Fetching the data key of \(subject)")
            }
            guard let row else {
                cache.withLock { _ = $0.erased.insert(subject) }
                continue
            }
            let key = try unwrap(row, subject: subject, master: master)
            cache.withLock { $0.keys[subject] = key }
            found[subject] = key
        }
        return found
    }

    private func unwrap(_ row: Row, subject: String, master: MasterKey) throws(PrivacyError) -> SymmetricKey {
        let wrapped: Data
        let keyID: String
        do {
            wrapped = try row.decode(Data.self, "wrapped_key")
            keyID = try row.decode(String.self, "master_key_id")
        } catch {
            throw PrivacyError.store(error, "Reading the data key of \(subject)")
        }
        guard keyID == master.id else {
            throw PrivacyError(
                .masterKeyWrong,
                "The data key of \(subject) is wrapped by master key \(keyID), not by the configured \(master.id): configure the right key file."
            )
        }
        return try master.unwrap(wrapped, for: subject)
    }

    // MARK: - Opening (readers)

    /// A keyring holding the data keys of every subject named in an envelope of `events`' data
    /// (the subjects forgotten have none), for ``EventRegistry/revealing(with:)``.
    public func keyRing(for events: [EncodedEvent]) async throws(PrivacyError) -> KeyRing {
        guard master != nil else { return KeyRing(keys: [:]) }
        var subjects: Set<String> = []
        // Only events whose data holds an envelope are parsed (the handler's fold calls this for
        // every page it reads).
        for event in events
        where PersonalData.fields[event.type] != nil && event.data.range(of: Self.envelopeMarker) != nil {
            _ = try? PersonalData.mapFields(of: event.type, in: event.data) { value, _ in
                if let envelope = PersonalDataEnvelope(parsing: value) { subjects.formUnion(envelope.keyIDs) }
                return value
            }
        }
        return try await keyRing(for: subjects)
    }

    private static let envelopeMarker = Data(PersonalData.envelopePrefix.utf8)

    /// A keyring with the data keys of `subjects` that still exist.
    public func keyRing(for subjects: Set<String>) async throws(PrivacyError) -> KeyRing {
        guard let master, !subjects.isEmpty else { return KeyRing(keys: [:]) }
        var keys: [String: SymmetricKey] = [:]
        var missing: [String] = []
        cache.withLock { cache in
            for subject in subjects {
                if let key = cache.keys[subject] { keys[subject] = key } else { missing.append(subject) }
            }
        }
        if missing.isEmpty { return KeyRing(keys: keys) }
        try await verifyMasterKey()
        let rows: [Row]
        do {
            rows = try await pool.query(
                "SELECT subject, wrapped_key, master_key_id FROM privacy.subject_keys WHERE subject = ANY(\(missing.sorted())::text[])"
            ).rows
        } catch {
            throw PrivacyError.store(error, "Reading data keys")
        }
        for row in rows {
            let subject: String
            do { subject = try row.decode(String.self, "subject") } catch {
                throw PrivacyError.store(error, "Reading data keys")
            }
            let key = try unwrap(row, subject: subject, master: master)
            keys[subject] = key
            cache.withLock { $0.keys[subject] = key }
        }
        return KeyRing(keys: keys)
    }

    /// `registry` opening the personal fields of `events` (loads their subjects' keys).
    public func revealing(_ events: [EncodedEvent], in registry: EventRegistry) async throws(PrivacyError)
        -> EventRegistry
    {
        registry.revealing(with: try await keyRing(for: events))
    }

    /// Drops `subject`'s key from this process's cache (after it was forgotten).
    func evict(_ subject: String) {
        cache.withLock { cache in
            cache.keys[subject] = nil
            cache.erased.insert(subject)
        }
    }
}
