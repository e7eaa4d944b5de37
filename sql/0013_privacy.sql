-- 0013_privacy: crypto-shredding. Personal fields of events are stored as AES-GCM ciphertext
-- under a data key per data subject (a freelancer or a client); forgetting a subject deletes its
-- key, so its personal fields can never be read again while the log stays append-only
-- (PRIVACY.md; the per-field envelope in Marketplace.docc/StorageFormat.md).
--
-- privacy.master_key     which master key wraps the data keys: an HMAC-derived id, never the
--                        key (the key comes from a file or an environment variable, never from
--                        the database). gigctl refuses to start with another key (exit 78).
-- privacy.subject_keys   one data key per subject, wrapped (AES-GCM) by the master key. The only
--                        rows of GigLedger that are ever deleted, and only by privacy.forget().
-- privacy.erasures       who was forgotten, when, why (a reason code) and at which position the
--                        PersonalDataErased event stands. No key is ever created again for them.
-- privacy.subject_key()  the writer's way to a data key: inserts the given wrapped key unless the
--                        subject has one (or was erased) and returns what is stored.
-- privacy.forget()       in one transaction: appends PersonalDataErased (through ledger.append),
--                        deletes the key, records the erasure. Idempotent.

CREATE SCHEMA privacy;
COMMENT ON SCHEMA privacy IS 'GigLedger data keys per data subject (crypto-shredding) and the erasures done.';

CREATE TABLE privacy.master_key (
    singleton      boolean     NOT NULL DEFAULT true,
    key_id         text        NOT NULL,
    registered_at  timestamptz NOT NULL DEFAULT now(),
    rotated_at     timestamptz,
    CONSTRAINT master_key_pkey PRIMARY KEY (singleton),
    CONSTRAINT master_key_singleton CHECK (singleton),
    CONSTRAINT master_key_id_format CHECK (key_id ~ '^mk-[0-9a-f]{16}$')
);
COMMENT ON TABLE privacy.master_key IS 'The id (HMAC-derived, not the key) of the master key that wraps every data key.';

CREATE TABLE privacy.subject_keys (
    subject        text        NOT NULL,
    wrapped_key    bytea       NOT NULL,
    master_key_id  text        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT subject_keys_pkey PRIMARY KEY (subject),
    CONSTRAINT subject_keys_subject_format CHECK (subject ~ '^(freelancer|client):[0-9a-f-]{36}$'),
    CONSTRAINT subject_keys_wrapped_length CHECK (octet_length(wrapped_key) = 60)
);
COMMENT ON TABLE privacy.subject_keys IS 'Per data subject: its AES-256 data key, sealed by the master key (nonce + ciphertext + tag).';

CREATE TABLE privacy.erasures (
    subject        text        NOT NULL,
    reason         text        NOT NULL,
    erased_at      timestamptz NOT NULL DEFAULT now(),
    global_position bigint,
    CONSTRAINT erasures_pkey PRIMARY KEY (subject),
    CONSTRAINT erasures_subject_format CHECK (subject ~ '^(freelancer|client):[0-9a-f-]{36}$'),
    CONSTRAINT erasures_reason_format CHECK (reason ~ '^[a-z][a-z0-9-]{0,39}$')
);
COMMENT ON TABLE privacy.erasures IS 'Subjects forgotten (no personal data: subject id, reason code, time, the event position).';

-- Keys are deleted only by privacy.forget (which sets gigledger.forgetting for the row it
-- deletes); a subject never changes; nothing is truncated. Erasures are append-only.
CREATE FUNCTION privacy.guard_subject_keys() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF current_setting('gigledger.forgetting', true) IS DISTINCT FROM OLD.subject THEN
            RAISE EXCEPTION 'privacy.subject_keys rows are deleted only by privacy.forget()'
                USING ERRCODE = 'GL403';
        END IF;
        RETURN OLD;
    END IF;
    IF NEW.subject IS DISTINCT FROM OLD.subject THEN
        RAISE EXCEPTION 'the subject of a data key never changes' USING ERRCODE = 'GL403';
    END IF;
    RETURN NEW;
END;
$$;
CREATE TRIGGER subject_keys_guard BEFORE UPDATE OR DELETE ON privacy.subject_keys
    FOR EACH ROW EXECUTE FUNCTION privacy.guard_subject_keys();
CREATE TRIGGER subject_keys_no_truncate BEFORE TRUNCATE ON privacy.subject_keys
    FOR EACH STATEMENT EXECUTE FUNCTION ledger.refuse_change();
CREATE TRIGGER erasures_append_only BEFORE UPDATE OR DELETE ON privacy.erasures
    FOR EACH ROW EXECUTE FUNCTION ledger.refuse_change();
CREATE TRIGGER erasures_no_truncate BEFORE TRUNCATE ON privacy.erasures
    FOR EACH STATEMENT EXECUTE FUNCTION ledger.refuse_change();

-- The master key in use: registers p_key_id when none is recorded, returns the recorded one
-- (the caller refuses to go on when they differ).
CREATE FUNCTION privacy.register_master_key(p_key_id text) RETURNS text
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_key_id text;
BEGIN
    INSERT INTO privacy.master_key (key_id) VALUES (p_key_id) ON CONFLICT (singleton) DO NOTHING;
    SELECT m.key_id INTO v_key_id FROM privacy.master_key m WHERE m.singleton;
    RETURN v_key_id;
END;
$$;

-- A subject's data key: stores p_wrapped (sealed by the master key p_master_key_id) unless the
-- subject has a key already; returns the stored key, or no row when the subject was erased.
CREATE FUNCTION privacy.subject_key(p_subject text, p_wrapped bytea, p_master_key_id text)
RETURNS TABLE (wrapped_key bytea, master_key_id text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM privacy.erasures e WHERE e.subject = p_subject) THEN
        INSERT INTO privacy.subject_keys (subject, wrapped_key, master_key_id)
        VALUES (p_subject, p_wrapped, p_master_key_id)
        ON CONFLICT (subject) DO NOTHING;
    END IF;
    RETURN QUERY SELECT k.wrapped_key, k.master_key_id FROM privacy.subject_keys k WHERE k.subject = p_subject;
END;
$$;

-- privacy.forget: forgets one subject in one transaction. p_subject is freelancer:<id> or
-- client:<id>, whose stream (freelancer-<id> / client-<id>) must exist (else SQLSTATE GL404);
-- p_data is the PersonalDataErased event's data, appended as the first and only event of
-- privacy-<id>; p_command_id is derived from the subject, so a repeat (or a re-application after
-- a restore) is recognised. Returns {"erased": true, "position": n} the first time and
-- {"erased": false, "position": n} for a subject already forgotten (no event; a data key that a
-- restore brought back is deleted).
CREATE FUNCTION privacy.forget(
    p_subject text, p_command_id uuid, p_data jsonb, p_metadata jsonb, p_reason text
) RETURNS jsonb
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_position bigint;
    v_result   jsonb;
BEGIN
    IF p_subject IS NULL OR p_subject !~ '^(freelancer|client):[0-9a-f-]{36}$' THEN
        RAISE EXCEPTION 'forget needs a subject freelancer:<id> or client:<id>' USING ERRCODE = 'GL422';
    END IF;
    -- Two forgets of one subject take turns.
    PERFORM pg_advisory_xact_lock(hashtextextended('gigledger.forget:' || p_subject, 0));
    SELECT e.global_position INTO v_position FROM privacy.erasures e WHERE e.subject = p_subject;
    IF FOUND THEN
        -- Forgotten before; a key restored since (from a backup kept apart) is deleted again.
        PERFORM set_config('gigledger.forgetting', p_subject, true);
        DELETE FROM privacy.subject_keys k WHERE k.subject = p_subject;
        PERFORM set_config('gigledger.forgetting', '', true);
        RETURN jsonb_build_object('erased', false, 'position', v_position);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM ledger.streams s WHERE s.stream_id = replace(p_subject, ':', '-')) THEN
        RAISE EXCEPTION 'there is no %', p_subject USING ERRCODE = 'GL404';
    END IF;
    v_result := ledger.append(
        p_command_id, ARRAY['privacy-' || split_part(p_subject, ':', 2)], ARRAY[0::bigint], ARRAY[1],
        ARRAY['PersonalDataErased'], ARRAY[1], ARRAY[p_data], ARRAY[p_metadata], ARRAY[now()]);
    v_position := (v_result -> 'positions' ->> 0)::bigint;
    PERFORM set_config('gigledger.forgetting', p_subject, true);
    DELETE FROM privacy.subject_keys k WHERE k.subject = p_subject;
    PERFORM set_config('gigledger.forgetting', '', true);
    INSERT INTO privacy.erasures (subject, reason, global_position) VALUES (p_subject, p_reason, v_position);
    RETURN jsonb_build_object('erased', true, 'position', v_position);
END;
$$;

REVOKE ALL ON SCHEMA privacy FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA privacy FROM PUBLIC;
REVOKE ALL ON FUNCTION privacy.register_master_key(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION privacy.subject_key(text, bytea, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION privacy.forget(text, uuid, jsonb, jsonb, text) FROM PUBLIC;
REVOKE ALL ON FUNCTION privacy.guard_subject_keys() FROM PUBLIC;

-- The writer (commands, the service) reads and creates data keys and may forget a subject
-- (the service's admin command); it never deletes or updates a key itself.
GRANT USAGE ON SCHEMA privacy TO gigledger_writer;
GRANT SELECT ON privacy.master_key, privacy.subject_keys, privacy.erasures TO gigledger_writer;
GRANT EXECUTE ON FUNCTION privacy.register_master_key(text) TO gigledger_writer;
GRANT EXECUTE ON FUNCTION privacy.subject_key(text, bytea, text) TO gigledger_writer;
GRANT EXECUTE ON FUNCTION privacy.forget(text, uuid, jsonb, jsonb, text) TO gigledger_writer;
