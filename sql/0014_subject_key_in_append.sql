-- 0014_subject_key_in_append: a new subject's data key is stored in the transaction of the first
-- append sealed with it (a statement the append runs first, EventStore's AppendRequest.prerequisites),
-- not in a commit of its own before it: one WAL flush per registration instead of two, and no
-- durable event is ever sealed with a key that was not stored (nor a key stored for an append
-- that failed).
--
-- privacy.store_subject_key()  stores p_wrapped as p_subject's data key, or finds exactly that
--                              wrapped key stored (the same writer's retry, or another of its
--                              appends with the same new key). It raises, failing the whole
--                              append:
--                                GL410  the subject was forgotten (no key is made for it again);
--                                GL412  the subject has another data key (a concurrent writer's
--                                       won): the writer reads the stored key and decides again.
-- privacy.subject_key() is dropped: it stored the key in a transaction of its own.

CREATE FUNCTION privacy.store_subject_key(p_subject text, p_wrapped bytea, p_master_key_id text)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v_wrapped bytea;
BEGIN
    -- Takes turns with privacy.forget() of the subject (which holds this lock exclusively), so a
    -- forget either sees this key committed and deletes it, or commits first and is seen here.
    PERFORM pg_advisory_xact_lock_shared(hashtextextended('gigledger.forget:' || p_subject, 0));
    IF EXISTS (SELECT 1 FROM privacy.erasures e WHERE e.subject = p_subject) THEN
        RAISE EXCEPTION '% was forgotten: no data key is made for it again', p_subject
            USING ERRCODE = 'GL410', DETAIL = p_subject;
    END IF;
    -- A concurrent insert of the same subject waits here for the other transaction's outcome.
    INSERT INTO privacy.subject_keys (subject, wrapped_key, master_key_id)
    VALUES (p_subject, p_wrapped, p_master_key_id)
    ON CONFLICT (subject) DO NOTHING;
    IF FOUND THEN
        RETURN;
    END IF;
    SELECT k.wrapped_key INTO v_wrapped FROM privacy.subject_keys k WHERE k.subject = p_subject;
    IF v_wrapped IS DISTINCT FROM p_wrapped THEN
        RAISE EXCEPTION '% has another data key already (a concurrent writer stored it)', p_subject
            USING ERRCODE = 'GL412', DETAIL = p_subject;
    END IF;
END;
$$;

REVOKE ALL ON FUNCTION privacy.store_subject_key(text, bytea, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION privacy.store_subject_key(text, bytea, text) TO gigledger_writer;

DROP FUNCTION privacy.subject_key(text, bytea, text);
