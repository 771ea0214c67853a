from lintreport.render import Problem, render_markdown, render_text


def test_render_text_sorted():
    problems = [
        Problem("b.py", 3, 3, "E501", "line too long"),
        Problem("a.py", 9, 9, "F401", "unused import"),
    ]
    assert render_text(problems).splitlines() == [
        "a.py:9: F401 unused import",
        "b.py:3: E501 line too long",
    ]


def test_render_markdown_empty(tmp_path):
    assert render_markdown([], tmp_path) == "No problems found. :tada:"


def test_render_markdown_with_excerpt(tmp_path):
    (tmp_path / "a.py").write_text("import os\nimport sys\n\nprint(sys.argv)\n")
    out = render_markdown([Problem("a.py", 1, 1, "F401", "unused import")], tmp_path, excerpts=True)
    assert "import os" in out
