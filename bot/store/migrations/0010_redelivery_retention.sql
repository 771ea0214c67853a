-- Redelivery (bot/app/redeliver.py, bot/store/redeliveries.py): the deliveries GitHub failed to
-- bring us are asked for again. The checkpoint is the newest delivery of GitHub's list that a
-- pass handled, and everything before it: the next pass lists back to it, no further. No row:
-- no pass finished yet (the first one looks back three days, as far as GitHub redelivers).
CREATE TABLE redelivery_checkpoint (
    id           boolean PRIMARY KEY DEFAULT true CHECK (id),  -- the one row
    delivery_id  bigint NOT NULL,       -- GitHub's id of the delivery (not its guid)
    delivered_at timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Each delivery (by guid) asked for once: a redelivery that fails too is not asked for again,
-- and a pass that stopped before its checkpoint was written asks for none twice.
CREATE TABLE redelivery_requests (
    guid        text PRIMARY KEY,       -- X-GitHub-Delivery, as webhook_deliveries.delivery_id
    delivery_id bigint NOT NULL,        -- the attempt redelivered
    event       text NOT NULL,
    action      text,
    asked_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX redelivery_requests_asked ON redelivery_requests (asked_at);

-- Retention (bot/app/retention_loop.py, bot/store/retention.py) deletes by age in small batches; these
-- let each batch find its rows, and each foreign key's check or action find the referencing
-- rows, without scanning a table.
CREATE INDEX webhook_deliveries_received ON webhook_deliveries (received_at);
CREATE INDEX reviews_finished ON reviews (finished_at)
    WHERE status IN ('completed', 'failed', 'superseded', 'skipped');
CREATE INDEX reviews_delivery ON reviews (delivery_id) WHERE delivery_id IS NOT NULL;
CREATE INDEX reviews_superseded_by ON reviews (superseded_by) WHERE superseded_by IS NOT NULL;
CREATE INDEX findings_carried_from ON findings (carried_from) WHERE carried_from IS NOT NULL;
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE status IN ('done', 'failed');
CREATE INDEX jobs_delivery ON jobs (delivery_id) WHERE delivery_id IS NOT NULL;
-- "Was this PR closed": its jobs of kind closed.
CREATE INDEX jobs_closed ON jobs (owner, repo, pr_number, created_at) WHERE kind = 'closed';
CREATE INDEX gemini_spend_day ON gemini_spend (day);
-- "The latest review of this PR" by arrival (seq), which retention keeps.
CREATE INDEX reviews_pr_seq ON reviews (owner, repo, pr_number, seq DESC);
