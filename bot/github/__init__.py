"""GitHub: App authentication, the PR diff, repo config and publishing results."""
