-- The summary a review last published, as JSON (bot/review/render.py's Summary): a dismissal
-- re-renders it and sets the check run's conclusion at once, without the review or Gemini.
ALTER TABLE reviews ADD COLUMN summary jsonb;
