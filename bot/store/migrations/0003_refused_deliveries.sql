-- A delivery we refused (400) is recorded with the one-line reason, so an operator can see it;
-- a redelivery of the same id is taken afresh.
ALTER TABLE webhook_deliveries ADD COLUMN refused text;
CREATE INDEX webhook_deliveries_refused ON webhook_deliveries (received_at DESC)
    WHERE refused IS NOT NULL;
