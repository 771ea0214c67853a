-- Every status a review passes through, and when, for the dashboard's timeline. A trigger
-- writes them, so that no code path that changes a review's status can leave one out; the
-- statuses themselves are still changed only by bot/store/queue.py.
CREATE TABLE review_events (
    id            bigserial PRIMARY KEY,
    review_id     uuid NOT NULL REFERENCES reviews (id) ON DELETE CASCADE,
    at            timestamptz NOT NULL DEFAULT clock_timestamp(),
    status        text NOT NULL,
    attempt       integer NOT NULL,
    error         text,
    superseded_by uuid,
    lease_owner   text
);
CREATE INDEX review_events_review ON review_events (review_id, id);

CREATE FUNCTION record_review_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status
       OR NEW.attempts IS DISTINCT FROM OLD.attempts THEN
        INSERT INTO review_events (review_id, status, attempt, error, superseded_by, lease_owner)
        VALUES (NEW.id, NEW.status, NEW.attempts, NEW.error, NEW.superseded_by, NEW.lease_owner);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER reviews_record_events AFTER INSERT OR UPDATE OF status, attempts ON reviews
    FOR EACH ROW EXECUTE FUNCTION record_review_event();

-- The dashboard's list: newest first, by repository, by status.
CREATE INDEX reviews_created ON reviews (created_at DESC);
