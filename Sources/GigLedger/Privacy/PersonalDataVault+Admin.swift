import Crypto
import EventStore
import Foundation
import Marketplace
import PQ

/// What ``PersonalDataVault/forget(_:reason:actor:at:)`` did.
public struct ErasureOutcome: Sendable, Codable, Hashable {
    public let subject: DataSubject
    /// `true` the first time; `false` when the subject was forgotten before (nothing appended).
    public let erased: Bool
    /// The position of the subject's `PersonalDataErased` event.
    public let position: Int64
}

/// One recorded erasure (`privacy.erasures`): no personal data.
public struct Erasure: Sendable, Codable, Hashable {
    public let subject: DataSubject
    public let reason: String
    public let erasedAt: Date
    public let position: Int64?
}

/// Everything the log holds about one subject, decrypted (GDPR Art. 15/20): their own events
/// and the events that name them (contracts they are a party of whole).
public struct SubjectExport: Sendable, Encodable {
    public struct Event: Sendable, Encodable {
        public let position: Int64
        public let stream: String
        public let version: Int64
        public let type: String
        public let schemaVersion: Int
        public let occurredAt: Date
        public let recordedAt: Date
        public let actor: String?
        /// The event's data, personal fields opened (or ``PersonalData/placeholder``).
        public let data: JSONValue
    }
    public let subject: DataSubject
    /// Set when the subject was forgotten: every personal field then reads as the placeholder.
    public let erasure: Erasure?
    public let events: [Event]
}

extension PersonalDataVault {
    /// The command id of forgetting `subject`: derived from it, so a repeat, or a re-application
    /// after a restore, is recognised by the log.
    static func forgetCommandID(_ subject: DataSubject) -> UUID {
        var bytes = Array(SHA256.hash(data: Data("gigledger.forget:\(subject)".utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x80  // version 8 (name-derived, custom)
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // RFC 9562 variant
        return UUID(
            uuid: (
                bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7], bytes[8], bytes[9],
                bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
            ))
    }

    /// Forgets `subject` (GDPR Art. 17): in one transaction (`privacy.forget`) appends
    /// `PersonalDataErased` to `privacy-<id>`, deletes the subject's data key and records the
    /// erasure. Idempotent: a second call appends nothing and reports `erased: false`.
    ///
    /// - Throws: ``PrivacyError/Code/invalidRequest`` for a reason that is not a code,
    ///   ``PrivacyError/Code/subjectNotFound`` when there is no such freelancer or client.
    public func forget(_ subject: DataSubject, reason: String, actor: ActorRef, at time: Date = Date())
        async throws(PrivacyError) -> ErasureOutcome
    {
        let events: [PrivacyEvent]
        do {
            events = try PrivacyDecider.decide(.forget(subject: subject, reason: reason, occurredAt: time), .retained)
        } catch { throw PrivacyError(.invalidRequest, error.message, cause: error) }
        let commandID = Self.forgetCommandID(subject)
        let result: JSONValue
        do {
            let encoded = try EventRegistry.marketplace.encode(events[0])
            let data = PGJSON(text: String(decoding: encoded.data, as: UTF8.self))
            let metadata = try PGJSON(encoding: EventMetadata(actor: actor.description, commandId: commandID))
            result = try await pool.query(
                "SELECT privacy.forget(\(subject.description), \(commandID), \(data), \(metadata), \(reason))"
            ).scalar(PGJSON.self).decode(JSONValue.self)
            _ = try? await pool.query(EventStore.notifyStatement)
        } catch let error as PQError where error.sqlState == .subjectNotFound {
            throw PrivacyError(
                .subjectNotFound,
                "There is no \(subject.description.replacingOccurrences(of: ":", with: " ")): check the id.")
        } catch {
            throw PrivacyError.store(error, "Forgetting \(subject)")
        }
        evict(subject.description)
        guard case .object(let object) = result, case .bool(let erased)? = object["erased"],
            case .number(let position)? = object["position"]
        else { throw PrivacyError(.store, "privacy.forget returned an unexpected result.") }
        return ErasureOutcome(subject: subject, erased: erased, position: Int64(position))
    }

    /// The erasures recorded in this database, oldest first.
    public func erasures() async throws(PrivacyError) -> [Erasure] {
        do {
            return try await pool.query(
                "SELECT subject, reason, erased_at, global_position FROM privacy.erasures ORDER BY erased_at, subject"
            ).rows.map { row in
                Erasure(
                    subject: try DataSubject(parsing: try row.decode(String.self, "subject")),
                    reason: try row.decode(String.self, "reason"), erasedAt: try row.decode(Date.self, "erased_at"),
                    position: try row.decode(Int64?.self, "global_position"))
            }
        } catch {
            throw PrivacyError.store(error, "Listing the erasures")
        }
    }

    /// After a restore: forgets again every subject whose `PersonalDataErased` the log holds, and
    /// every one of `also` (an erasure list kept outside the backups, `gigctl privacy erasures
    /// --json`), so no key a backup brought back survives. Returns what each forget did.
    public func reapplyErasures(also: [Erasure] = [], actor: ActorRef) async throws(PrivacyError) -> [ErasureOutcome] {
        var wanted: [DataSubject: String] = [:]
        do {
            for row in try await pool.query(
                "SELECT data->>'subject' AS subject, data->>'reason' AS reason FROM ledger.events WHERE event_type = \(PrivacyEvent.PersonalDataErased.eventType) ORDER BY global_position"
            ).rows {
                wanted[try DataSubject(parsing: try row.decode(String.self, "subject"))] = try row.decode(
                    String.self, "reason")
            }
        } catch {
            throw PrivacyError.store(error, "Reading the erasures in the log")
        }
        for erasure in also where wanted[erasure.subject] == nil { wanted[erasure.subject] = erasure.reason }
        var outcomes: [ErasureOutcome] = []
        for (subject, reason) in wanted.sorted(by: { $0.key < $1.key }) {
            outcomes.append(try await forget(subject, reason: reason, actor: actor))
        }
        return outcomes
    }

    /// Re-wraps every data key with `newKey` in one transaction and records it as the master key.
    /// Afterwards configure `newKey`: the old one is refused.
    ///
    /// - Throws: ``PrivacyError/Code/masterKeyWrong`` unless this vault's key is the recorded one.
    @discardableResult
    public func rotateMasterKey(to newKey: MasterKey) async throws(PrivacyError) -> Int {
        guard let master else { return 0 }
        try await verifyMasterKey()
        do {
            return try await pool.withTransaction { connection in
                let recorded = try await connection.query(
                    "SELECT key_id FROM privacy.master_key WHERE singleton FOR UPDATE"
                ).scalar(String.self)
                guard recorded == master.id else {
                    throw PrivacyError(
                        .masterKeyWrong,
                        "The master key changed under this rotation (now \(recorded)); nothing was changed.")
                }
                let rows = try await connection.query(
                    "SELECT subject, wrapped_key, master_key_id FROM privacy.subject_keys ORDER BY subject FOR UPDATE"
                ).rows
                for row in rows {
                    let subject = try row.decode(String.self, "subject")
                    let key = try unwrapRow(row, subject: subject, master: master)
                    let wrapped = try newKey.wrap(key, for: subject)
                    try await connection.execute(
                        "UPDATE privacy.subject_keys SET wrapped_key = \(wrapped), master_key_id = \(newKey.id) WHERE subject = \(subject)"
                    )
                }
                try await connection.execute(
                    "UPDATE privacy.master_key SET key_id = \(newKey.id), rotated_at = now() WHERE singleton")
                return rows.count
            }
        } catch {
            throw PrivacyError.store(error, "Rotating the master key")
        }
    }

    /// Everything held about `subject`, decrypted where its key exists (GDPR Art. 15/20).
    public func export(_ subject: DataSubject, registry: EventRegistry = .marketplace) async throws(PrivacyError)
        -> SubjectExport
    {
        let id: String
        switch subject {
        case .freelancer(let value): id = value.description
        case .client(let value): id = value.description
        }
        let own = [subject.stream.name, subject.privacyStream.name]
        let rows: [Row]
        do {
            guard
                try await pool.query("SELECT count(*) FROM ledger.streams WHERE stream_id = \(own[0])").scalar(
                    Int64.self)
                    > 0
            else {
                throw PrivacyError(
                    .subjectNotFound,
                    "There is no \(subject.description.replacingOccurrences(of: ":", with: " ")): check the id.")
            }
            rows = try await pool.query(
                """
                WITH contracts AS (
                    SELECT stream_id FROM ledger.events
                    WHERE event_type = 'ContractStarted' AND (data->>'freelancerId' = \(id) OR data->>'clientId' = \(id))
                )
                SELECT e.global_position, e.stream_id, e.stream_version, e.event_type, e.schema_version, e.data,
                       e.metadata->>'actor' AS actor, e.occurred_at, e.recorded_at
                FROM ledger.events e
                WHERE e.stream_id = ANY(\(own)::text[]) OR e.stream_id IN (SELECT stream_id FROM contracts)
                   OR strpos(e.data::text, \(id)) > 0 OR e.metadata->>'actor' = \(subject.description)
                ORDER BY e.global_position
                """
            ).rows
        } catch {
            throw PrivacyError.store(error, "Reading the events of \(subject)")
        }
        do {
            var stored: [(row: Row, event: EncodedEvent)] = []
            for row in rows {
                stored.append(
                    (
                        row,
                        EncodedEvent(
                            type: try row.decode(String.self, "event_type"),
                            schemaVersion: try row.decode(Int.self, "schema_version"),
                            data: try row.decode(PGJSON.self, "data").data)
                    ))
            }
            let reader = try await self.revealing(stored.map(\.event), in: registry)
            let events = try stored.map { row, event in
                let upcast = try? reader.upcast(event)
                let shown = try upcast ?? reader.reveal(event)
                return SubjectExport.Event(
                    position: try row.decode(Int64.self, "global_position"),
                    stream: try row.decode(String.self, "stream_id"),
                    version: try row.decode(Int64.self, "stream_version"), type: event.type,
                    schemaVersion: event.schemaVersion, occurredAt: try row.decode(Date.self, "occurred_at"),
                    recordedAt: try row.decode(Date.self, "recorded_at"), actor: try row.decode(String?.self, "actor"),
                    data: try JSONDecoder().decode(JSONValue.self, from: shown.data))
            }
            let erasure = try await erasures().first { $0.subject == subject }
            return SubjectExport(subject: subject, erasure: erasure, events: events)
        } catch {
            throw PrivacyError.store(error, "Exporting the data of \(subject)")
        }
    }

    fileprivate func unwrapRow(_ row: Row, subject: String, master: MasterKey) throws -> SymmetricKey {
        let keyID = try row.decode(String.self, "master_key_id")
        guard keyID == master.id else {
            throw PrivacyError(
                .masterKeyWrong, "The data key of \(subject) is wrapped by master key \(keyID), not \(master.id).")
        }
        return try master.unwrap(try row.decode(Data.self, "wrapped_key"), for: subject)
    }
}
