-- The Gemini quota every replica shares, owned by bot/store/quota.py. gemini_quota has one
-- row, created by the first admit: the latest slot granted and its input tokens (the request
-- and the token schedules both run from it), and how many requests were granted on the
-- Pacific day of that slot. gemini_spend: per installation and Pacific day, the estimated
-- cost of each granted call, corrected by settle_spend once the actual cost is known.
CREATE TABLE gemini_quota (
    id           boolean PRIMARY KEY DEFAULT true CHECK (id),  -- the one row
    last_at      timestamptz,                   -- NULL until the first grant
    last_tokens  integer NOT NULL DEFAULT 0,
    day_requests integer NOT NULL DEFAULT 0     -- on the Pacific day of last_at
);

CREATE TABLE gemini_spend (
    installation_id bigint NOT NULL,
    day             date NOT NULL,              -- in America/Los_Angeles
    spent_usd       numeric(14, 8) NOT NULL DEFAULT 0,
    PRIMARY KEY (installation_id, day)
);
