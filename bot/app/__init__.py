"""The GitHub App's runtime: the webhook server, its reviews and jobs (conversation/), the
dashboard, the first-run setup and the process that serves them; around the core they share
(pipeline, review/, github/, store/)."""
