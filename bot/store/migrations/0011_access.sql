-- Who may steer the reviewer (bot/app/conversation/access.py): GitHub's answer about a person's
-- permission on a repository, kept a few minutes and dropped when a member, team or
-- installation event says it changed.
CREATE TABLE permissions (
    installation_id bigint NOT NULL,
    owner           text NOT NULL,  -- lower case, like GitHub's logins compare
    repo            text NOT NULL,
    login           text NOT NULL,
    permission      text NOT NULL,  -- admin | write | read | none (maintain reads as write)
    role_name       text NOT NULL,  -- admin | maintain | write | triage | read | a custom role
    checked_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (installation_id, owner, repo, login)
);

-- A job that drops what the cache knows when a member, team or organization event comes.
ALTER TABLE jobs DROP CONSTRAINT jobs_kind_check;
ALTER TABLE jobs ADD CONSTRAINT jobs_kind_check
    CHECK (kind IN ('command', 'rerun', 'answer', 'closed', 'installation', 'access'));

-- "A person without write access was told so on this PR in the last hour".
CREATE INDEX jobs_refusals ON jobs (owner, repo, pr_number, (payload ->> 'login'), finished_at)
    WHERE outcome IN ('refused', 'help', 'unknown command');

-- A reply that says a finding is wrong, from someone who may not dismiss it: still feedback.
ALTER TABLE feedback ADD COLUMN wrong_replies integer NOT NULL DEFAULT 0
    CHECK (wrong_replies >= 0);
