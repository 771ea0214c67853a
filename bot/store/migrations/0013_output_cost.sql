-- The share of a call's cost that its output and thinking tokens make (billed at the output
-- rate), kept as it was priced then; review_usage sums it with the thinking tokens apart.
ALTER TABLE gemini_calls ADD COLUMN output_cost_usd numeric(14, 8) NOT NULL DEFAULT 0;

CREATE OR REPLACE VIEW review_usage AS
SELECT review_id,
       count(*)::integer                  AS calls,
       coalesce(sum(prompt_tokens), 0)::bigint   AS prompt_tokens,
       coalesce(sum(cached_tokens), 0)::bigint   AS cached_tokens,
       coalesce(sum(output_tokens), 0)::bigint   AS output_tokens,
       coalesce(sum(thinking_tokens), 0)::bigint AS thinking_tokens,
       coalesce(sum(cost_usd), 0)::numeric(14, 8) AS cost_usd,
       coalesce(sum(output_cost_usd), 0)::numeric(14, 8) AS output_cost_usd
FROM gemini_calls
GROUP BY review_id;
