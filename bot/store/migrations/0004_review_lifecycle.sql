-- The review lifecycle, owned by bot/store/queue.py: triggers are checked like statuses, a
-- superseded review names the review that replaced it, and a check run we completed (or
-- cancelled for a superseded review) is marked so, to leave none spinning.
ALTER TABLE reviews ADD CONSTRAINT reviews_trigger_check
    CHECK (trigger IN ('opened', 'reopened', 'synchronize', 'ready_for_review', 'edited',
                       'manual'));
ALTER TABLE reviews ADD COLUMN superseded_by uuid REFERENCES reviews (id) ON DELETE SET NULL;
ALTER TABLE reviews ADD COLUMN check_run_done boolean NOT NULL DEFAULT false;
-- "Superseded reviews of this PR whose check run is still open".
CREATE INDEX reviews_open_checks ON reviews (owner, repo, pr_number)
    WHERE status = 'superseded' AND check_run_id IS NOT NULL AND NOT check_run_done;
