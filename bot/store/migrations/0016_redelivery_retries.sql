-- A redelivery that GitHub reports failed (its attempt shows up failed in the list) is asked for
-- again with backoff, up to a limit (bot/app/redeliver.py). Additive: a replica of the version
-- before keeps inserting rows with the defaults (asked once, nothing due) and reads only the
-- columns it knew, so it asks for none twice.
ALTER TABLE redelivery_requests
    ADD COLUMN asks   integer NOT NULL DEFAULT 1 CHECK (asks >= 1),  -- times asked, the first too
    ADD COLUMN due_at timestamptz;  -- when to ask again; NULL: nothing to ask (yet, or any more)

-- "What is due now" and "when is the next one", for every pass.
CREATE INDEX redelivery_requests_due ON redelivery_requests (due_at) WHERE due_at IS NOT NULL;
