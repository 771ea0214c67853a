from tools.changelog import Commit, parse_subject, render


def test_parse_subject_with_scope_and_bang():
    assert parse_subject("feat(api)!: drop v1 endpoints") == Commit(
        kind="feat", scope="api", description="drop v1 endpoints", breaking=True
    )


def test_parse_subject_rejects_free_form():
    assert parse_subject("Merge branch 'main' into feature") is None


def test_render_groups_and_orders_sections():
    subjects = [
        "fix: handle empty config",
        "chore: bump deps",
        "feat(cli): add --json",
        "feat!: rename binary",
    ]
    assert render(subjects) == (
        "### Breaking changes\n"
        "- rename binary\n"
        "\n"
        "### Features\n"
        "- **cli:** add --json\n"
        "- rename binary\n"
        "\n"
        "### Bug fixes\n"
        "- handle empty config\n"
    )


def test_render_nothing():
    assert render(["chore: tidy"]) == "\n"
