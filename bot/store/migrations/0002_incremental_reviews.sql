-- Incremental reviews: which findings were posted inline, and which were carried forward
-- from an earlier review of the same PR because their file did not change.
ALTER TABLE findings ADD COLUMN posted_inline boolean NOT NULL DEFAULT false;
ALTER TABLE findings ADD COLUMN carried_from uuid REFERENCES reviews (id) ON DELETE SET NULL;
-- "The last completed review of this PR", for incremental reviews and resolved findings.
CREATE INDEX reviews_pr_completed ON reviews (owner, repo, pr_number, finished_at DESC)
    WHERE status = 'completed';
