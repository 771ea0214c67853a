"""A pull request and its repository, as values: the App's installation on the repository,
the owner's login, the repository's name and the PR's number, built once where a review, a job
or an event is read and passed down whole.

A bottom value: it imports nothing of bot/, and every part of bot/ may import it (the store
too; setup.cfg's import-linter contracts say so)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Repo:
    """A repository. `installation_id` is the App's installation on it, whose token GitHub is
    asked with; 0 for a token that is no installation's (the Action's, GITHUB_TOKEN)."""

    installation_id: int
    owner: str
    repo: str

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.repo}"

    def pull(self, number: int) -> Pull:
        """Pull request `number` of this repository."""
        return Pull(self.installation_id, self.owner, self.repo, number)

    def __str__(self) -> str:
        return self.full_name


@dataclass(frozen=True)
class Pull:
    """A pull request (`installation_id` as `Repo`'s)."""

    installation_id: int
    owner: str
    repo: str
    number: int

    @property
    def full_name(self) -> str:
        """OWNER/REPO, the repository's."""
        return f"{self.owner}/{self.repo}"

    @property
    def repository(self) -> Repo:
        return Repo(self.installation_id, self.owner, self.repo)

    def __str__(self) -> str:
        """OWNER/REPO#NUMBER, as log lines name a PR."""
        return f"{self.full_name}#{self.number}"
