-- Talking to the reviewer. Work that is not a review (a command in a PR comment, the Re-run
-- button, a reply in one of our threads, a closed PR, an installation event) is a job: it is
-- recorded with its delivery, in the same statement, and run by the scheduler under a lease
-- like a review (bot/store/jobs.py owns its lifecycle).
ALTER TABLE reviews DROP CONSTRAINT reviews_trigger_check;
ALTER TABLE reviews ADD CONSTRAINT reviews_trigger_check
    CHECK (trigger IN ('opened', 'reopened', 'synchronize', 'ready_for_review', 'edited',
                       'manual', 'command', 'rerun'));
-- A review a person asked for in a comment: who, and the comment answered when it is done.
ALTER TABLE reviews ADD COLUMN requested_by text, ADD COLUMN reply_to bigint;

CREATE TABLE jobs (
    id               uuid PRIMARY KEY,
    seq              bigserial UNIQUE,  -- arrival order: a PR's jobs run one at a time, in it
    delivery_id      text REFERENCES webhook_deliveries (delivery_id) ON DELETE SET NULL,
    kind             text NOT NULL
                     CHECK (kind IN ('command', 'rerun', 'answer', 'closed', 'installation')),
    installation_id  bigint NOT NULL,
    owner            text,
    repo             text,
    pr_number        integer,
    payload          jsonb NOT NULL DEFAULT '{}'::jsonb,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'processing', 'done', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    lease_owner      text,
    lease_expires_at timestamptz,
    outcome          text,  -- what the job did, in a few words ("answered", "not ours", ...)
    error            text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz
);
CREATE INDEX jobs_unfinished ON jobs (owner, repo, pr_number, seq)
    WHERE status IN ('pending', 'processing');
-- "Answers given on this PR in the last hour".
CREATE INDEX jobs_answers ON jobs (owner, repo, pr_number, finished_at)
    WHERE kind = 'answer' AND outcome = 'answered';

-- A PR's own state: automatic reviews paused, or the PR ignored, and by whom.
CREATE TABLE pull_states (
    owner      text NOT NULL,
    repo       text NOT NULL,
    pr_number  integer NOT NULL,
    paused_by  text,
    ignored_by text,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner, repo, pr_number)
);

-- A finding a maintainer said is wrong: its fingerprint is not posted again on this PR and
-- does not fail the check.
CREATE TABLE dismissals (
    owner        text NOT NULL,
    repo         text NOT NULL,
    pr_number    integer NOT NULL,
    fingerprint  text NOT NULL,
    dismissed_by text NOT NULL,
    how          text NOT NULL CHECK (how IN ('reply', 'reaction')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner, repo, pr_number, fingerprint)
);
ALTER TABLE findings ADD COLUMN dismissed_by text;

-- The 👍 and 👎 on our inline comments, read back from GitHub (which sends no webhook for
-- reactions), per finding.
CREATE TABLE feedback (
    owner       text NOT NULL,
    repo        text NOT NULL,
    pr_number   integer NOT NULL,
    fingerprint text NOT NULL,
    agent_type  text NOT NULL,
    thumbs_up   integer NOT NULL DEFAULT 0 CHECK (thumbs_up >= 0),
    thumbs_down integer NOT NULL DEFAULT 0 CHECK (thumbs_down >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner, repo, pr_number, fingerprint)
);

-- The App's installations as their events told us; no row: never heard of, taken as active.
CREATE TABLE installations (
    id         bigint PRIMARY KEY,
    account    text,
    status     text NOT NULL CHECK (status IN ('active', 'suspended', 'deleted')),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE installation_repositories (
    installation_id bigint NOT NULL,
    full_name       text NOT NULL,
    added_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (installation_id, full_name)
);

-- "Stopped reviews of this PR whose check run is still open": superseded, or skipped when
-- the PR closed or was ignored while they ran.
DROP INDEX reviews_open_checks;
CREATE INDEX reviews_open_checks ON reviews (owner, repo, pr_number)
    WHERE status IN ('superseded', 'skipped') AND check_run_id IS NOT NULL
      AND NOT check_run_done;
