-- Findings carry their evidence: the lines involved and why the change breaks them, the
-- agent's own confidence, the verifier's word on the suggestion, and whether the suggestion
-- was offered as a one-click block (kept by the verifier, and the file still parses with it).
ALTER TABLE findings
    ADD COLUMN evidence         text NOT NULL DEFAULT '',
    ADD COLUMN model_confidence double precision,  -- 0 to 1; NULL: the agent gave none
    ADD COLUMN suggestion_kept  boolean,           -- NULL: no suggestion, or not verified
    ADD COLUMN offered          boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT findings_model_confidence CHECK (model_confidence BETWEEN 0 AND 1);
