"""README's quickstart runs as written and prints what README says it prints."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def example_and_output(heading: str, document: str = "README.md"):
    """The first python block of ``document``'s section ``heading`` and the output block
    after it."""
    text = (ROOT / document).read_text()
    section = text.split(f"## {heading}", 1)[1].split("\n## ", 1)[0] if heading else text
    blocks = re.findall(r"```(\w*)\n(.*?)```", section, flags=re.S)
    code = next(body for lang, body in blocks if lang == "python")
    output = next(body for lang, body in blocks if lang == "")
    return code, output


def run(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": ""})
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_quickstart_runs_and_prints_what_readme_shows():
    code, expected = example_and_output("Quickstart")
    assert len([line for line in code.splitlines() if line.strip()]) <= 10
    assert run(code) == expected


def test_forward_and_reverse_mode_example_runs_as_shown():
    code, expected = example_and_output("Forward and reverse mode")
    assert run(code) == expected



def test_compiled_steps_example_runs_as_shown():
    code, expected = example_and_output("Compiled training steps")
    assert run(code) == expected


def test_dlpack_example_runs_as_shown():
    code, expected = example_and_output("Working with NumPy, CuPy, PyTorch and JAX")
    assert run(code) == expected


def test_cuda_graphs_guide_example_runs_as_shown():
    """docs/cuda_graphs.md's example (on the CPU: the same code captures on a GPU)."""
    code, expected = example_and_output("", "docs/cuda_graphs.md")
    assert run(code) == expected
