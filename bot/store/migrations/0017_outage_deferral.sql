-- An outage defers, it does not fail (bot/app/outage.py): a review or job that met GitHub or
-- Gemini away after its in-place retries goes back to pending until `not_before`, and fails
-- only once `outage_since` is older than OUTAGE_HORIZON_SECONDS. Additive: a replica of the
-- previous release keeps working against this schema (it never sets these columns).
ALTER TABLE reviews
    ADD COLUMN outage_since timestamptz,
    ADD COLUMN outage_retries integer NOT NULL DEFAULT 0;
ALTER TABLE jobs
    ADD COLUMN not_before timestamptz,
    ADD COLUMN outage_since timestamptz,
    ADD COLUMN outage_retries integer NOT NULL DEFAULT 0;
