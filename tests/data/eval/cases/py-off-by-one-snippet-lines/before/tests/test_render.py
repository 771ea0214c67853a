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
