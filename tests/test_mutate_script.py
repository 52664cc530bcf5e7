"""benchmarks/mutate.py: its list of mutants still fits the code (each original text once,
each mutated file compiles, each test file exists), and its runner tells a killed mutant
from a surviving one (on a tiny tree of its own, so no gpugrad tests run here)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

import mutate  # noqa: E402
from mutants import MUTANTS, Mutant  # noqa: E402


def test_every_mutant_still_fits_the_code():
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks/mutate.py"), "--check"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(MUTANTS)} mutants: every original text occurs once" in done.stdout


def test_the_list_covers_the_core():
    files = {m.path for m in MUTANTS}
    for part in ("gpugrad/ops/", "gpugrad/autograd/engine.py", "gpugrad/checkpoint/",
                 "gpugrad/optim/", "gpugrad/serialization.py", "gpugrad/autograd/forward_ad"):
        assert any(f.startswith(part) for f in files), part
    assert len(MUTANTS) >= 30


def test_check_names_what_rotted(tmp_path):
    (tmp_path / "m.py").write_text("x = 1 + 1\ny = 1 + 1\n")
    (tmp_path / "test_m.py").write_text("")
    twice = Mutant("twice", "m.py", "", (("1 + 1", "1 - 1"),), ("test_m.py",))
    gone = Mutant("gone", "m.py", "", (("z = 3", "z = 4"),), ("test_missing.py",))
    broken = Mutant("broken", "m.py", "", (("x = 1 + 1", "x = (1 + 1"),), ("test_m.py",))
    problems = "\n".join(mutate.check(tmp_path, [twice, gone, broken]))
    assert "twice: the original text occurs 2 times in m.py" in problems
    assert "gone: the original text occurs 0 times" in problems
    assert "gone: no test file test_missing.py" in problems
    assert "broken: the mutated m.py does not compile" in problems


def test_a_mutant_is_killed_survives_or_errs_and_the_file_comes_back(tmp_path):
    source = "def double(x):\n    return 2 * x\n"
    (tmp_path / "m.py").write_text(source)
    (tmp_path / "test_m.py").write_text("from m import double\n\n\n"
                                        "def test_double():\n    assert double(3) == 6\n")
    tests = ("test_m.py",)
    killed = Mutant("k", "m.py", "", (("2 * x", "3 * x"),), tests)
    survived = Mutant("s", "m.py", "", (("2 * x", "x + x"),), tests)
    error = Mutant("e", "m.py", "", (("return 2 * x", "return 2 *"),), tests)
    results = [mutate.run_mutant(tmp_path, m, [], timeout=60) for m in (killed, survived, error)]
    assert [r["result"] for r in results] == ["killed", "survived", "error"]
    assert results[0]["note"] == "test_m.py::test_double"
    assert (tmp_path / "m.py").read_text() == source


def test_failures_are_read_from_pytests_summary():
    output = ("FAILED tests/test_a.py::test_one[cpu-x] - AssertionError: no\n"
              "ERROR tests/test_b.py\nFAILED tests/test_a.py::test_two\n1 failed")
    assert mutate.failures(output) == ["tests/test_a.py::test_one[cpu-x]", "tests/test_b.py",
                                       "tests/test_a.py::test_two"]
