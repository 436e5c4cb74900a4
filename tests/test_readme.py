"""The README opens with its two commands (its Python examples run as doctests: see pyproject)."""

import pathlib

README = (pathlib.Path(__file__).parents[1] / "README.md").read_text()


def test_readme_opens_with_exactly_two_commands():
    first_block = README.split("```")[1]
    lines = [line for line in first_block.splitlines()[1:] if line.strip()]
    assert len(lines) == 2 and "depthgraph report" in lines[0] and "pytest" in lines[1]
