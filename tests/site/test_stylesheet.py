"""The stylesheet parses: its braces balance and never close what is not open. A stray
"}" (left by an edit) made the browser drop the next rule without a word: the halt
banner's failure line and .bad-text lost their colour."""

import re
from pathlib import Path

CSS = Path(__file__).resolve().parents[2] / "static" / "css" / "app.css"


def test_every_brace_in_the_stylesheet_closes_one_it_opened():
    comments = re.compile(r"/\*.*?\*/", flags=re.DOTALL)
    text = comments.sub(lambda m: "\n" * m.group().count("\n"), CSS.read_text())
    text = re.sub(r"\"[^\"\n]*\"|'[^'\n]*'", "", text)  # braces in strings (content: "}")
    depth = 0
    for number, line in enumerate(text.splitlines(), start=1):
        for char in line:
            depth += {"{": 1, "}": -1}.get(char, 0)
            assert depth >= 0, f"app.css line {number}: a '}}' closes nothing"
    assert depth == 0, f"app.css ends with {depth} block(s) open"
