-- The verification pass: each finding's verdict and confidence, and whether it was withheld
-- (dropped or doubted: stored and counted, never posted inline, never failing the check).
ALTER TABLE findings
    ADD COLUMN verdict       text,             -- kept | dropped; NULL: not verified
    ADD COLUMN confidence    double precision, -- 0 to 1; NULL: not verified
    ADD COLUMN verify_reason text,
    ADD COLUMN withheld      boolean NOT NULL DEFAULT false,
    ADD CONSTRAINT findings_verdict CHECK (verdict IN ('kept', 'dropped')),
    ADD CONSTRAINT findings_confidence CHECK (confidence BETWEEN 0 AND 1);
