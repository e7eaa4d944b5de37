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
/// AES-GCM only. A new subject's key is made here and stored by the first append sealed with it,
/// in that append's own transaction (``Sealed/newKeys``, ``storeStatements(for:)`` as the
/// append's prerequisites): the key and the events commit together or not at all. When another
/// writer stored a different key first, or the subject was forgotten meanwhile, that append
/// fails as a whole; the handler calls ``refused(_:)`` and decides again with the stored key
/// (or the placeholder). A key forgotten by another
/// process may stay cached here: what this process then seals with it is unreadable (its key is
/// gone), and what it opens it could read before; PRIVACY.md states the limit.
public final class PersonalDataVault: Sendable {
    public let pool: ConnectionPool
    let master: MasterKey?

    private struct Cache {
        var keys: [String: SymmetricKey] = [:]
        /// Keys made here (wrapped, by subject) whose row may not be stored yet: every append
        /// sealed with one stores it first in its own transaction, until ``stored(_:)``.
        var pending: [String: Data] = [:]
        /// Subjects found erased while sealing (no key is ever made for them again).
        var erased: Set<String> = []
        /// Subjects whose presumed-new key the database refused: always read before sealing.
        var mustRead: Set<String> = []
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

    /// Events sealed for an append, and the new data keys (wrapped, by subject) that the append
    /// must store in its own transaction (``storeStatements(for:)``).
    struct Sealed {
        var events: [EncodedEvent]
        var newKeys: [String: Data] = [:]
    }

    /// `events` with their personal fields sealed for `owners` (the stream's subjects, see
    /// ``PersonalData/Field``). A field whose owner was forgotten is stored as the placeholder.
    ///
    /// `presumedNew` names owners whose own stream the append creates (its expectation is "no
    /// stream"): they can have no key yet, so one is made without reading `privacy.subject_keys`
    /// (one round trip fewer for a registration). Should one be stored after all (a racing
    /// registration, a key made by another stream's event, a forgotten subject), the append's
    /// prerequisite refuses it, ``refused(_:)`` marks the subject, and the retry reads.
    func seal(_ events: [EncodedEvent], owners: [DataSubject], presumedNew: Set<DataSubject> = [])
        async throws(PrivacyError) -> Sealed
    {
        guard master != nil, events.contains(where: { PersonalData.fields[$0.type] != nil }) else {
            return Sealed(events: events)
        }
        guard !owners.isEmpty else {
            throw PrivacyError(
                .invalidRequest,
                "An event with personal fields has no data subject to seal them for. This is a bug in GigLedger.")
        }
        let (keys, newKeys) = try await dataKeys(for: owners, presumedNew: presumedNew)
        let ordered = owners.compactMap { subject in
            keys[subject.description].map { (id: subject.description, key: $0) }
        }
        let complete = ordered.count == owners.count
        do {
            let sealed = try events.map { event in
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
            return Sealed(events: sealed, newKeys: complete ? newKeys : [:])
        } catch {
            throw PrivacyError(.corruptKey, "Sealing personal fields failed: \(error).", cause: error)
        }
    }

    /// The statements that store `newKeys` (from ``Sealed/newKeys``), for the append's
    /// ``AppendRequest/prerequisites``: each raises ``SQLState/subjectKeyTaken`` when the subject
    /// has another key, ``SQLState/subjectForgotten`` when it was forgotten (see ``refused(_:)``).
    func storeStatements(for newKeys: [String: Data]) -> [SQL] {
        guard let master else { return [] }
        // Sorted: two appends storing the same keys lock their rows in one order.
        return newKeys.sorted { $0.key < $1.key }.map { subject, wrapped in
            "SELECT privacy.store_subject_key(\(subject), \(wrapped), \(master.id))"
        }
    }

    /// The append that stored `newKeys` committed: appends no longer need to store them.
    func stored(_ newKeys: [String: Data]) {
        guard !newKeys.isEmpty else { return }
        cache.withLock { cache in
            for (subject, wrapped) in newKeys where cache.pending[subject] == wrapped {
                cache.pending[subject] = nil
            }
        }
    }

    /// The subject whose new data key the database refused in `error` (another writer's key
    /// was stored first, or the subject was forgotten), having dropped that key from the cache:
    /// the next seal reads what is stored. `nil` when `error` is no such refusal.
    func refused(_ error: any Error) -> String? {
        var cause: (any Error)? = error
        while let current = cause {
            if let error = current as? PQError {
                guard error.sqlState == .subjectKeyTaken || error.sqlState == .subjectForgotten,
                    let subject = error.server?.detail
                else { return nil }
                cache.withLock { cache in
                    cache.keys[subject] = nil
                    cache.pending[subject] = nil
                    cache.mustRead.insert(subject)
                }
                return subject
            }
            switch current {
            case let error as CommandError: cause = error.cause
            case let error as EventStoreError: cause = error.cause
            default: cause = nil
            }
        }
        return nil
    }

    /// The data keys of `subjects` (a forgotten subject has none), and those among them made
    /// here and not yet stored (wrapped, by subject).
    private func dataKeys(for subjects: [DataSubject], presumedNew: Set<DataSubject>) async throws(PrivacyError)
        -> (keys: [String: SymmetricKey], newKeys: [String: Data])
    {
        guard let master else { return ([:], [:]) }
        var found: [String: SymmetricKey] = [:]
        var newKeys: [String: Data] = [:]
        var missing: [String] = []
        var unread: [String] = []
        cache.withLock { cache in
            for owner in subjects {
                let subject = owner.description
                if let key = cache.keys[subject] {
                    found[subject] = key
                    if let wrapped = cache.pending[subject] { newKeys[subject] = wrapped }
                } else if cache.erased.contains(subject) {
                    continue
                } else if presumedNew.contains(owner) && !cache.mustRead.contains(subject) {
                    unread.append(subject)
                } else {
                    missing.append(subject)
                }
            }
        }
        if missing.isEmpty && unread.isEmpty { return (found, newKeys) }
        try await verifyMasterKey()
        for subject in unread {
            let (key, pending) = try makeKey(for: subject, master: master)
            found[subject] = key
            if let pending { newKeys[subject] = pending }
        }
        if missing.isEmpty { return (found, newKeys) }
        let rows: [Row]
        do {
            rows = try await pool.query(
                """
                SELECT s.subject, k.wrapped_key, k.master_key_id, e.subject IS NOT NULL AS erased
                FROM unnest(\(missing)::text[]) AS s(subject)
                LEFT JOIN privacy.subject_keys k ON k.subject = s.subject
                LEFT JOIN privacy.erasures e ON e.subject = s.subject
                """
            ).rows
        } catch {
            throw PrivacyError.store(error, "Reading the data keys of \(missing.joined(separator: ", "))")
        }
        for row in rows {
            let subject: String
            let erased: Bool
            let stored: Data?
            do {
                subject = try row.decode(String.self, "subject")
                erased = try row.decode(Bool.self, "erased")
                stored = try row.decode(Data?.self, "wrapped_key")
            } catch {
                throw PrivacyError.store(error, "Reading data keys")
            }
            if erased {
                cache.withLock { _ = $0.erased.insert(subject) }
                continue
            }
            if stored != nil {
                let key = try unwrap(row, subject: subject, master: master)
                cache.withLock { $0.keys[subject] = key }
                found[subject] = key
                continue
            }
            // No key yet: made here, stored by the append that uses it.
            let (key, pending) = try makeKey(for: subject, master: master)
            found[subject] = key
            if let pending { newKeys[subject] = pending }
        }
        return (found, newKeys)
    }

    /// A new data key for `subject`, cached as pending (wrapped: the append that uses it stores
    /// it). A key another task of this process made meanwhile is used instead (one pending key
    /// per subject); its wrapped form is returned while it is still pending.
    private func makeKey(for subject: String, master: MasterKey) throws(PrivacyError) -> (SymmetricKey, Data?) {
        let fresh = SymmetricKey(size: .bits256)
        let wrapped: Data
        do { wrapped = try master.wrap(fresh, for: subject) } catch {
            throw PrivacyError.store(error, "Wrapping a new data key for \(subject)")
        }
        return cache.withLock { cache -> (SymmetricKey, Data?) in
            if let key = cache.keys[subject] { return (key, cache.pending[subject]) }
            cache.keys[subject] = fresh
            cache.pending[subject] = wrapped
            return (fresh, wrapped)
        }
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
            // A pending key opens nothing stored (no event sealed with it commits before it):
            // what is stored for its subject is read, and replaces it if it differs.
            for subject in subjects {
                if let key = cache.keys[subject], cache.pending[subject] == nil {
                    keys[subject] = key
                } else {
                    missing.append(subject)
                }
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
            cache.withLock { cache in
                cache.keys[subject] = key
                cache.pending[subject] = nil
            }
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
            cache.pending[subject] = nil
            cache.erased.insert(subject)
        }
    }
}
