-- Every Gemini call of a review, with what it cost; a review's totals are their sums
-- (review_usage). A review re-queued for a quota is not claimed before not_before.
CREATE TABLE gemini_calls (
    id              bigserial PRIMARY KEY,
    review_id       uuid NOT NULL REFERENCES reviews (id) ON DELETE CASCADE,
    installation_id bigint NOT NULL,
    owner           text NOT NULL,
    repo            text NOT NULL,
    model           text NOT NULL,
    agent           text NOT NULL,
    chunk           integer NOT NULL,           -- the chunk's number in its review, from 1
    chunk_digest    text NOT NULL,              -- sha256 of the prompt: an answer is reused for it
    attempt         integer NOT NULL,           -- 1 for the first try of this (agent, chunk)
    status          text NOT NULL,              -- ok | failed | cancelled
    error           text,
    latency_ms      integer NOT NULL DEFAULT 0,
    prompt_tokens   integer NOT NULL DEFAULT 0, -- input, cached tokens included
    cached_tokens   integer NOT NULL DEFAULT 0,
    output_tokens   integer NOT NULL DEFAULT 0, -- thinking tokens not included
    thinking_tokens integer NOT NULL DEFAULT 0,
    estimated       boolean NOT NULL DEFAULT false, -- no usage reported: tokens are our count
    cost_usd        numeric(14, 8) NOT NULL DEFAULT 0,
    answer          jsonb,                      -- the parsed answer of an ok call
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (status IN ('ok', 'failed', 'cancelled'))
);

CREATE INDEX gemini_calls_review ON gemini_calls (review_id);
CREATE INDEX gemini_calls_installation_day ON gemini_calls (installation_id, created_at);
CREATE INDEX gemini_calls_created ON gemini_calls (created_at);

CREATE VIEW review_usage AS
SELECT review_id,
       count(*)::integer                  AS calls,
       coalesce(sum(prompt_tokens), 0)::bigint   AS prompt_tokens,
       coalesce(sum(cached_tokens), 0)::bigint   AS cached_tokens,
       coalesce(sum(output_tokens), 0)::bigint   AS output_tokens,
       coalesce(sum(thinking_tokens), 0)::bigint AS thinking_tokens,
       coalesce(sum(cost_usd), 0)::numeric(14, 8) AS cost_usd
FROM gemini_calls
GROUP BY review_id;

ALTER TABLE reviews ADD COLUMN not_before timestamptz;
