-- What reached GitHub for each review (bot/store/publications.py): its summary comment, its
-- inline review and its check run, a row each once the review tried to publish it. The row
-- holds the last attempt (posted, updated, or failed, with why) and what GitHub shows from
-- this review since the last attempt that succeeded, so the dashboard can say what the PR saw.
-- Additive: the previous release neither reads nor writes it (its retention deletes a review,
-- and these rows with it, by the foreign key).
CREATE TABLE publications (
    id        bigserial PRIMARY KEY,
    review_id uuid NOT NULL REFERENCES reviews (id) ON DELETE CASCADE,
    target    text NOT NULL CHECK (target IN ('comment', 'inline', 'check')),
    action    text NOT NULL CHECK (action IN ('posted', 'updated', 'failed')),
    says      text NOT NULL,   -- what the last attempt posted, or was to post
    error     text,            -- why it failed (action 'failed'), one readable sentence
    github_id bigint,          -- the comment, review or check run on GitHub, once known
    at        timestamptz NOT NULL DEFAULT now(),  -- the last attempt
    shown     text,            -- what GitHub shows from this review: the last success's says
    shown_at  timestamptz,
    UNIQUE (review_id, target)
);
