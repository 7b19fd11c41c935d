"""The README's tour prints what the commands print: each `$ facescan analyze examples/...`
line of the tour's console block is run, and its output compared line for line."""

import re
import shlex
from pathlib import Path

import pytest

from facescan import cli

ROOT = Path(__file__).resolve().parents[1]


def _tour_examples() -> list[tuple[str, list[str]]]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## One-minute tour\n+```console\n(.*?)```", text, re.DOTALL).group(1)
    out: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            out.append((line[2:], []))
        elif out:
            out[-1][1].append(line)
    return [(cmd, lines) for cmd, lines in out if cmd.startswith("facescan analyze examples/") and lines]


@pytest.mark.parametrize("command,printed", _tour_examples(), ids=lambda v: v if isinstance(v, str) else "")
def test_tour_output_is_what_the_command_prints(command, printed, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert cli.main(shlex.split(command)[1:]) == 0
    got = [line for line in capsys.readouterr().out.splitlines() if line.strip()]
    wanted = [line for line in printed if line.strip()]
    assert got[-len(wanted):] == wanted


def test_the_tour_has_examples_to_check():
    assert len(_tour_examples()) >= 2
