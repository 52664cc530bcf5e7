"""docs/compile.md's listing of a recorded step is what ``step.program(x, y).source`` prints
today for README's "Compiled training steps" example (lines the doc shortens with "..." are
compared up to it)."""

import re

from test_readme import ROOT, example_and_output, run


def doc_listing() -> list:
    text = (ROOT / "docs" / "compile.md").read_text()
    block = next(body for body in re.findall(r"```\n(.*?)```", text, flags=re.S)
                 if body.startswith("def replay("))
    return block.splitlines()


def printed_listing() -> list:
    code, _ = example_and_output("Compiled training steps")
    last = "print(program.source.splitlines()[4])"
    assert last in code, "README's example no longer prints a line of the program"
    return run(code.replace(last, "print(program.source)")).splitlines()[1:]


def test_compile_doc_listing_is_what_the_code_prints():
    printed, at = printed_listing(), 0
    for line in doc_listing():
        if line.strip() == "...":                  # lines left out
            continue
        shown = line.split("...")[0].rstrip(", ") if "..." in line else line
        matches = [i for i in range(at, len(printed))
                   if (printed[i].startswith(shown) if "..." in line else printed[i] == line)]
        assert matches, f"docs/compile.md shows {line!r}, which the code no longer prints " \
                        f"(after line {at}); it prints:\n" + "\n".join(printed)
        at = matches[0] + 1
