"""Turn a diff into findings: the Gemini client, the agents, their supervisor."""
