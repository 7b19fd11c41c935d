"""The docs cannot drift from the product.

- The documentation site builds with ``mkdocs build --strict``: a broken link or anchor, a page
  missing from the nav or a missing model card fails the build (mkdocs.yml's ``validation``).
- Every ``facescan ...`` command shown in the README and in docs/ is parsed by facescan's own
  parser (``facescan.cli.build_parser``), so an unknown command, option or choice fails, and
  its backend, attribute, embedder and data set names are checked against the real ones.
- The cheap commands (those reading only ``examples/`` or ``../shared/data``, evaluations of at
  most a few hundred samples, no VLM, no cluster) run for real, page by page in a scratch folder,
  in the order shown: each must exit 0, and where a page shows what a command prints, it must
  print exactly that (a JSON record shown below a command: the same fields, numbers within
  rounding). Every Python snippet not marked ``<!-- not run: reason -->`` runs too.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import math
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from docs_blocks import (
    PAGES,
    ROOT,
    Block,
    Command,
    all_commands,
    blocks,
    inputs_to_run,
    page_items,
    shared_data_names,
)

from facescan.cli import build_parser, main

# shared data set -> the conftest fixture that finds it (skips, or fails with FACESCAN_REQUIRE_DATA=1)
DATA_FIXTURES = {"utkface": "utkface_dir", "fer2013": "fer_dir", "lfw": "lfw_dir", "celeba": "celeba_dir",
                 "fairface": "fairface_dir", "aaf": "aaf_dir", "ferplus": "ferplus_dir"}
DATA = Path(os.environ.get("FACESCAN_DATA", ROOT.parent / "shared" / "data"))
# pages whose examples need what the tests do not have (a GPU, an API key, a cluster, a video)
NOTHING_TO_RUN = {"vlm.md", "service.md", "video.md", "scale-out.md", "limitations.md", "development.md",
                  "training.md"}


def _require(module: str, extra: str) -> None:
    if importlib.util.find_spec(module) is None:
        message = f"{module} is not installed (pip install -e '.[{extra}]')"
        if os.environ.get("FACESCAN_REQUIRE_DATA") == "1":
            pytest.fail(message + "; FACESCAN_REQUIRE_DATA=1 forbids skipping")
        pytest.skip(message)


def check_command(argv: list[str]):
    """The parsed arguments of ``facescan ARGV``, or a failure saying what is wrong with it."""
    from facescan.datasets import DATASETS, VERIFICATION
    from facescan.errors import ConfigError
    from facescan.identity import check_embedder
    from facescan.pipeline import check_backend, parse_attributes

    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            args = build_parser().parse_args(argv)
    except SystemExit as exc:
        if exc.code:
            raise AssertionError(stderr.getvalue().strip().splitlines()[-1]) from None
        return None  # --help, --version
    try:
        if args.command in ("analyze", "eval", "video"):
            for name in args.backend.split(","):
                check_backend(name.strip())
            parse_attributes(args.attributes)
        if isinstance(getattr(args, "embed", None), str):
            check_embedder(args.embed)
        if args.command == "eval" and args.model:
            for name in args.model.split(","):
                check_embedder(name.strip())
        if getattr(args, "dataset", None):
            kind = args.dataset.partition(":")[0].lower()
            if kind not in DATASETS and kind not in VERIFICATION:
                raise ConfigError(f"unknown data set kind {kind!r}")
    except ConfigError as exc:
        raise AssertionError(str(exc)) from None
    return args


# --- the site -------------------------------------------------------------------------------------

def test_docs_site_builds_strictly(tmp_path):
    _require("mkdocs", "docs")
    _require("material", "docs")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-f",
                           str(ROOT / "mkdocs.yml"), "-d", str(tmp_path / "site")],
                          check=False, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "WARNING" not in done.stdout + done.stderr
    for page in ["index.html", "cli/index.html", "cards/facescan-multitask/index.html",
                 "benchmarks/index.html", "changelog/index.html", "serve.png"]:
        assert (tmp_path / "site" / page).is_file(), page


def test_readme_links_point_at_files():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)\s]+)\)", text)
    local = [t.split("#")[0] for t in targets if not re.match(r"[a-z]+:", t) and not t.startswith("#")]
    assert len(local) >= 20
    missing = [t for t in local if not (ROOT / t).exists()]
    assert not missing, f"README links to missing files: {missing}"


def test_every_model_card_is_linked_from_the_docs():
    models = (ROOT / "docs" / "models.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for card in (ROOT / "src" / "facescan" / "models" / "cards").glob("*.md"):
        assert f"(cards/{card.name})" in models, card.name
        assert f"(src/facescan/models/cards/{card.name})" in readme, card.name


# --- commands against the real parser ----------------------------------------------------------------

COMMANDS = all_commands()


def test_the_docs_show_commands():
    assert len(COMMANDS) >= 100
    assert {c.argv[0] for c in COMMANDS if c.argv} >= {"analyze", "eval", "report", "models", "target", "verify",
                                                       "index", "search", "forget", "cluster", "serve", "video",
                                                       "train", "finetune"}


@pytest.mark.parametrize("command", COMMANDS, ids=[c.where for c in COMMANDS])
def test_every_command_shown_parses(command: Command):
    try:
        check_command(command.argv)
    except AssertionError as exc:
        pytest.fail(f"{command.where}: `{command}`: {exc}")


@pytest.mark.parametrize("argv,why", [
    (["analyse", "x.jpg"], "invalid choice: 'analyse'"),
    (["analyze", "x.jpg", "--detectors", "mtcnn"], "unrecognized arguments: --detectors"),
    (["analyze", "x.jpg", "--detector", "dlib"], "unknown detector 'dlib'"),
    (["analyze", "x.jpg", "--backend", "facescan-v9"], "unknown backend 'facescan-v9'"),
    (["analyze", "x.jpg", "--attributes", "gender,beauty"], "unknown attribute"),
    (["analyze", "x.jpg", "--embed", "arcface"], "unknown embedding model 'arcface'"),
    (["eval", "--dataset", "imdb:faces", "--out", "r"], "unknown data set kind 'imdb'"),
    (["eval", "--dataset", "lfw:x", "--model", "sface,facenet"], "unknown embedding model 'facenet'"),
    (["verify", "a.jpg"], "the following arguments are required: B"),
])
def test_a_wrong_command_is_caught(argv, why):
    with pytest.raises(AssertionError, match=re.escape(why)):
        check_command(argv)


def test_commands_are_read_from_shell_and_console_blocks(tmp_path):
    page = tmp_path / "p.md"
    page.write_text(textwrap.dedent("""\
        ```bash
        python3 -m venv .venv && pip install . && facescan models   # comment
        X=1 facescan analyze \\
          a.jpg -o -
        for a in b; do hf download x; done
        ```

        ```console
        $ facescan models
        line 1
        $ pip install x
        not facescan's output
        $ facescan verify a b --json
        ```
        ```json
        {}
        ```
        <!-- not run: needs a GPU -->
        ```python
        print(1)
        ```
        """))
    items = page_items(page)
    commands = [i for i in items if isinstance(i, Command)]
    assert [c.argv for c in commands] == [["models"], ["analyze", "a.jpg", "-o", "-"], ["models"],
                                          ["verify", "a", "b", "--json"]]
    assert commands[2].printed == ["line 1"] and commands[3].output_json == "{}\n"
    assert [b.not_run for b in blocks(page) if b.lang == "python"] == ["needs a GPU"]


# --- running what is cheap --------------------------------------------------------------------------

def _close(shown, got, where: str = "") -> None:
    """``got`` has the fields of ``shown``, with equal labels and numbers within rounding."""
    if isinstance(shown, dict):
        assert isinstance(got, dict) and list(got) == list(shown), f"{where}: keys {list(got)} != {list(shown)}"
        for key in shown:
            _close(shown[key], got[key], f"{where}.{key}")
    elif isinstance(shown, list):
        assert isinstance(got, list) and len(got) == len(shown), f"{where}: {got} != {shown}"
        for k, (a, b) in enumerate(zip(shown, got)):
            _close(a, b, f"{where}[{k}]")
    elif isinstance(shown, float) or (isinstance(shown, int) and not isinstance(shown, bool)):
        assert isinstance(got, (int, float)) and math.isclose(got, shown, rel_tol=0.005, abs_tol=0.02), \
            f"{where}: {got} != {shown}"
    else:
        assert got == shown, f"{where}: {got!r} != {shown!r}"


def _sandbox(tmp_path: Path) -> Path:
    """A scratch folder where ``examples/`` and ``../shared/data`` mean the repository's and the
    shared data (nothing the docs' commands write lands in the repository)."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "examples").symlink_to(ROOT / "examples", target_is_directory=True)
    (tmp_path / "shared").mkdir()
    (tmp_path / "shared" / "data").symlink_to(DATA, target_is_directory=True)
    return work


def _run_command(command: Command, work: Path, request, capsys) -> bool:
    args = check_command(command.argv)
    paths = inputs_to_run(args, work) if args is not None else None
    if paths is None:
        return False
    for name in shared_data_names(paths):
        if not (DATA / name).is_dir():
            request.getfixturevalue(DATA_FIXTURES[name])  # skips, or fails when data is required
    if not all((work / p).exists() for p in paths):
        return False
    capsys.readouterr()
    code = main(command.argv)
    out = capsys.readouterr().out
    assert code == 0, f"{command.where}: `{command}` exited {code}:\n{out}"
    got = [line for line in out.splitlines() if line.strip()]
    if command.printed:
        assert got[-len(command.printed):] == command.printed, f"{command.where}: `{command}` printed:\n{out}"
    if command.output_json is not None:
        _close(json.loads(command.output_json), json.loads(out), command.where)
    return True


def _run_python(block: Block, capsys) -> None:
    capsys.readouterr()
    try:
        exec(compile(block.text, block.where, "exec"), {"__name__": "__docs__"})  # noqa: S102 (the docs' own code)
    except Exception as exc:  # noqa: BLE001 (reported with the snippet's place)
        pytest.fail(f"{block.where}: the snippet raised {type(exc).__name__}: {exc}")


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_cheap_commands_and_snippets_run(page: Path, tmp_path, monkeypatch, request, capsys):
    work = _sandbox(tmp_path)
    monkeypatch.chdir(work)
    ran = 0
    for item in page_items(page):
        if isinstance(item, Command):
            ran += item.block.not_run is None and _run_command(item, work, request, capsys)
        elif item.not_run is None:
            _run_python(item, capsys)
            ran += 1
    assert ran or page.name in NOTHING_TO_RUN, f"{page.name}: nothing on the page was run"


def test_the_tour_is_checked(tmp_path, monkeypatch, request, capsys):
    """The README's tour shows the default's output on the example photo, and it is run."""
    work = _sandbox(tmp_path)
    monkeypatch.chdir(work)
    tour = [c for c in page_items(ROOT / "README.md") if isinstance(c, Command) and c.printed]
    ran = [c for c in tour if c.argv[:2] == ["analyze", "examples/two_portraits.jpg"]
           and _run_command(c, work, request, capsys)]
    assert len(ran) >= 2
