-- Reviews (the queue), their findings, and every webhook delivery received.

CREATE TABLE webhook_deliveries (
    delivery_id     text PRIMARY KEY,
    event           text NOT NULL,
    action          text,
    installation_id bigint,
    repository      text,
    received_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE reviews (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    seq              bigserial UNIQUE,  -- arrival order, even within one transaction
    delivery_id      text REFERENCES webhook_deliveries (delivery_id),
    installation_id  bigint NOT NULL,
    owner            text NOT NULL,
    repo             text NOT NULL,
    pr_number        integer NOT NULL,
    head_sha         text NOT NULL,
    base_ref         text NOT NULL DEFAULT '',
    trigger          text NOT NULL,
    draft            boolean NOT NULL DEFAULT false,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'processing', 'completed', 'failed',
                                       'superseded', 'skipped')),
    error            text,
    comment_id       bigint,
    check_run_id     bigint,
    lease_owner      text,
    lease_expires_at timestamptz,
    attempts         integer NOT NULL DEFAULT 0,
    stats            jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz
);

-- "The latest review of this PR".
CREATE INDEX reviews_pr_latest ON reviews (owner, repo, pr_number, created_at DESC);
-- "Reviews waiting to be claimed": pending ones, and processing ones whose lease may expire.
CREATE INDEX reviews_waiting ON reviews (created_at) WHERE status = 'pending';
CREATE INDEX reviews_leased ON reviews (lease_expires_at) WHERE status = 'processing';

CREATE TABLE findings (
    id           bigserial PRIMARY KEY,
    review_id    uuid NOT NULL REFERENCES reviews (id) ON DELETE CASCADE,
    agent_type   text NOT NULL,
    severity     text NOT NULL
                 CHECK (severity IN ('critical', 'high', 'medium', 'low', 'info')),
    file_path    text NOT NULL,
    line_start   integer,
    line_end     integer,
    title        text NOT NULL,
    description  text NOT NULL DEFAULT '',
    suggestion   text,
    -- identity across pushes: file, agent, normalized title and flagged code (not the line)
    fingerprint  text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (line_end IS NULL OR line_start IS NULL OR line_end >= line_start)
);

CREATE INDEX findings_review ON findings (review_id);
CREATE INDEX findings_fingerprint ON findings (fingerprint);
