-- bot/store/quota.py's admission in one statement: a Gemini call's slot, its Pacific day's
-- request count and its installation's spend were six round trips (BEGIN, the locked quota
-- row, the day's spend, two writes, COMMIT) before every call; now one. The quota row stays
-- locked until the statement ends, so replicas still take turns. A refusal writes nothing and
-- says which limit: 'rpd', 'budget', 'tpm' or 'rpm' (quota.py words it).
CREATE FUNCTION gemini_admit(
    p_now timestamptz, p_rpm integer, p_tpm integer, p_rpd integer, p_budget numeric,
    p_installation bigint, p_tokens integer, p_cost numeric, p_max_wait double precision,
    OUT granted boolean, OUT slot timestamptz, OUT refused text
) LANGUAGE plpgsql AS $$
DECLARE
    q gemini_quota%ROWTYPE;
    token_slot timestamptz;
    by_tokens boolean := false;
    slot_day date;
    requests integer;
BEGIN
    granted := false;
    SELECT * INTO q FROM gemini_quota FOR UPDATE;
    IF NOT FOUND THEN
        -- Of callers racing here, one inserts; the others wait for its commit, then lock.
        INSERT INTO gemini_quota DEFAULT VALUES ON CONFLICT DO NOTHING;
        SELECT * INTO q FROM gemini_quota FOR UPDATE;
    END IF;
    -- The later of now and both schedules from the last slot granted: 60/rpm s after it, and
    -- its tokens * 60/tpm s after it, each rounded up to the microsecond (no burst).
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
        refused := 'rpd';
        RETURN;
    END IF;
    IF p_budget IS NOT NULL AND coalesce((
            SELECT s.spent_usd FROM gemini_spend s
             WHERE s.installation_id = p_installation AND s.day = slot_day), 0)
            + p_cost > p_budget THEN
        refused := 'budget';
        RETURN;
    END IF;
    IF slot - p_now > p_max_wait * interval '1 second' THEN
        refused := CASE WHEN by_tokens THEN 'tpm' ELSE 'rpm' END;
        RETURN;
    END IF;
    UPDATE gemini_quota SET last_at = slot, last_tokens = p_tokens, day_requests = requests + 1;
    INSERT INTO gemini_spend AS s (installation_id, day, spent_usd)
        VALUES (p_installation, slot_day, p_cost)
        ON CONFLICT (installation_id, day) DO UPDATE SET spent_usd = s.spent_usd + EXCLUDED.spent_usd;
    granted := true;
END
$$;
