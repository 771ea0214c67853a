-- bot/store/quota.py's admission for several Gemini calls in one statement: the agents of a
-- part start together, and their four admissions were four round trips. gemini_admit_many
-- grants its requests in order, each as gemini_admit (0014) granted one, under one lock of
-- the quota row; after a refusal the rest are refused alike (same slot, same reason), so a
-- batch never overtakes its own earlier request. gemini_admit goes: quota.admit is a batch of one.
CREATE FUNCTION gemini_admit_many(
    p_now timestamptz, p_rpm integer, p_tpm integer, p_rpd integer, p_budget numeric,
    p_installation bigint, p_tokens integer[], p_costs numeric[], p_max_wait double precision
) RETURNS TABLE (granted boolean, slot timestamptz, refused text) LANGUAGE plpgsql AS $$
DECLARE
    q gemini_quota%ROWTYPE;
    token_slot timestamptz;
    by_tokens boolean;
    slot_day date;
    requests integer;
    why text;
BEGIN
    SELECT * INTO q FROM gemini_quota FOR UPDATE;
    IF NOT FOUND THEN
        -- Of callers racing here, one inserts; the others wait for its commit, then lock.
        INSERT INTO gemini_quota DEFAULT VALUES ON CONFLICT DO NOTHING;
        SELECT * INTO q FROM gemini_quota FOR UPDATE;
    END IF;
    FOR i IN 1 .. coalesce(array_length(p_tokens, 1), 0) LOOP
        granted := false;
        IF why IS NOT NULL THEN
            refused := why;
            RETURN NEXT;
            CONTINUE;
        END IF;
        -- The later of now and both schedules from the last slot granted: 60/rpm s after
        -- it, and its tokens * 60/tpm s after it, each rounded up to the microsecond.
        by_tokens := false;
        slot := p_now;
        IF q.last_at IS NOT NULL THEN
            slot := greatest(p_now, q.last_at + ceil(60000000.0 / p_rpm) * interval '1 microsecond');
            IF p_tpm IS NOT NULL THEN
                token_slot := q.last_at
                    + ceil(q.last_tokens * 60000000.0 / p_tpm) * interval '1 microsecond';
                by_tokens := token_slot > slot;
                slot := greatest(slot, token_slot);
            END IF;
        END IF;
        slot_day := (slot AT TIME ZONE 'America/Los_Angeles')::date;
        requests := CASE WHEN q.last_at IS NOT NULL
                          AND (q.last_at AT TIME ZONE 'America/Los_Angeles')::date = slot_day
                         THEN q.day_requests ELSE 0 END;
        IF p_rpd IS NOT NULL AND requests >= p_rpd THEN
            why := 'rpd';
        ELSIF p_budget IS NOT NULL AND coalesce((
                SELECT s.spent_usd FROM gemini_spend s
                 WHERE s.installation_id = p_installation AND s.day = slot_day), 0)
                + p_costs[i] > p_budget THEN
            why := 'budget';
        ELSIF slot - p_now > p_max_wait * interval '1 second' THEN
            why := CASE WHEN by_tokens THEN 'tpm' ELSE 'rpm' END;
        END IF;
        IF why IS NOT NULL THEN
            refused := why;
            RETURN NEXT;
            CONTINUE;
        END IF;
        UPDATE gemini_quota SET last_at = slot, last_tokens = p_tokens[i],
               day_requests = requests + 1
         RETURNING * INTO q;
        INSERT INTO gemini_spend AS s (installation_id, day, spent_usd)
            VALUES (p_installation, slot_day, p_costs[i])
            ON CONFLICT (installation_id, day) DO UPDATE SET spent_usd = s.spent_usd + EXCLUDED.spent_usd;
        granted := true;
        refused := NULL;
        RETURN NEXT;
    END LOOP;
END
$$;

DROP FUNCTION gemini_admit(timestamptz, integer, integer, integer, numeric, bigint, integer,
                           numeric, double precision);
