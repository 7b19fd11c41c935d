"""What the docs show, read from their Markdown: fenced code blocks, the ``facescan ...`` commands
in them (with the output printed under them in console blocks), and whether a command is cheap
enough, and reads only files the repository or the shared data have, to be run by the tests.

A command is every ``facescan`` invocation in a ``bash``/``sh``/``shell`` block (each line; a
trailing backslash continues it; ``#`` starts a comment; ``&&``, ``;`` and ``|`` separate
commands, so ``pip install . && facescan analyze ...`` counts) and every ``$ facescan`` line of a
``console`` block, whose following lines (up to the next ``$``) are what it prints. A ``json``
block right after a console command that shows no output is that command's output.

A fenced block preceded by ``<!-- not run: REASON -->`` is parsed but never run.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELLS = {"bash", "sh", "shell", "console"}
NOT_RUN = re.compile(r"<!--\s*not run:\s*(\S.*?)\s*-->")
FENCE = re.compile(r"^(`{3,})\s*([\w+-]*)\s*$")
ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
SEPARATORS = {"&&", "||", ";", "|", "&", "(", ")"}
REDIRECTS = {">", ">>", "<", "2>", "&>"}
KEYWORDS = {"do", "then", "else", "time", "exec"}
SHARED = "../shared/data/"
EVAL_LIMIT = 200  # an eval over at most this many samples is cheap enough to run


@dataclass
class Block:
    page: Path
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    not_run: str | None = None  # the reason given, if the block is marked

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


@dataclass
class Command:
    block: Block
    line: int
    argv: list[str]  # after "facescan"
    printed: list[str] = field(default_factory=list)
    output_json: str | None = None

    @property
    def where(self) -> str:
        return f"{self.block.page.relative_to(ROOT)}:{self.line}"

    def __str__(self) -> str:
        return "facescan " + shlex.join(self.argv)


def blocks(page: Path) -> list[Block]:
    out: list[Block] = []
    lines = page.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, lang, start = m.group(1), m.group(2).lower(), i
        i += 1
        body = []
        while i < len(lines) and lines[i].strip() != fence:
            body.append(lines[i])
            i += 1
        previous = next((lines[k] for k in range(start - 1, -1, -1) if lines[k].strip()), "")
        note = NOT_RUN.search(previous)
        out.append(Block(page, start + 1, lang, "\n".join(body) + "\n", note.group(1) if note else None))
        i += 1
    return out


def _segments(line: str) -> list[list[str]]:
    """The simple commands of one shell line: separators split, redirections dropped."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = "#"
    segments: list[list[str]] = [[]]
    skip = False
    for token in lexer:
        if skip:
            skip = False
        elif token in SEPARATORS:
            segments.append([])
        elif token in REDIRECTS:
            skip = True
        else:
            segments[-1].append(token)
    return [s for s in segments if s]


def _facescan_argv(line: str) -> list[list[str]]:
    found = []
    for segment in _segments(line):
        while segment and (ENV_ASSIGNMENT.match(segment[0]) or segment[0] in KEYWORDS):
            segment = segment[1:]
        if segment and segment[0] == "facescan":
            found.append(segment[1:])
    return found


def commands(block: Block) -> list[Command]:
    out: list[Command] = []
    lines = block.text.splitlines()
    if block.lang == "console":
        current: Command | None = None  # the command whose output the lines below are
        for k, text in enumerate(lines):
            if text.startswith("$ "):
                found = [Command(block, block.line + 1 + k, argv) for argv in _facescan_argv(text[2:])]
                out += found
                current = found[-1] if found else None
            elif current is not None and text.strip():
                current.printed.append(text)
        return out
    k = 0
    while k < len(lines):
        first, text = k, lines[k]
        while text.endswith("\\") and k + 1 < len(lines):
            k += 1
            text = text[:-1] + " " + lines[k]
        out += [Command(block, block.line + 1 + first, argv) for argv in _facescan_argv(text)]
        k += 1
    return out


def page_items(page: Path) -> list[Block | Command]:
    """The page's Python blocks and shell commands in reading order; a json block that follows a
    console command showing no output becomes that command's ``output_json``."""
    items: list[Block | Command] = []
    for block in blocks(page):
        last = items[-1] if items else None
        if block.lang == "json" and isinstance(last, Command) and last.block.lang == "console" \
                and not last.printed and last.line == last.block.line + len(last.block.text.splitlines()):
            last.output_json = block.text
        elif block.lang in SHELLS:
            items += commands(block)
        elif block.lang == "python":
            items.append(block)
    return items


def all_commands() -> list[Command]:
    return [c for page in PAGES for c in page_items(page) if isinstance(c, Command)]


def _exists(workdir: Path, path: str) -> bool:
    return (workdir / path).exists()


def inputs_to_run(args, workdir: Path) -> list[str] | None:
    """The paths a parsed command reads, if it is one the tests run (cheap, offline, local); None
    if it is not. The caller checks that the paths exist."""
    from facescan.vlm import is_vlm_backend

    if getattr(args, "engine", "local") != "local":
        return None
    if any(is_vlm_backend(b) for b in str(getattr(args, "backend", "") or "").split(",")):
        return None
    db = getattr(args, "db", None)
    if db and ("://" in db or (args.command != "index" and not (args.command == "cluster" and args.paths)
                               and not _exists(workdir, db))):
        return None
    match args.command:
        case "analyze" | "index":
            return list(args.paths)
        case "verify":
            return [args.image_a, args.image_b]
        case "target":
            return [args.image] if args.backend == "local" else None
        case "search":
            return [args.image]
        case "cluster":
            return None if args.name else list(args.paths) + ([db] if db and not args.paths else [])
        case "forget":
            return [db, args.path] if args.path else None
        case "models":
            return []
        case "report":
            return list(args.runs)
        case "eval":
            kind, _, path = args.dataset.partition(":")
            cheap = args.limit is not None and args.limit <= EVAL_LIMIT and kind != "lfw"
            return [path] if cheap else None
    return None


def shared_data_names(paths: list[str]) -> list[str]:
    """The shared data sets (``../shared/data/NAME/...``) among ``paths``."""
    return sorted({p[len(SHARED):].split("/")[0] for p in paths if p.startswith(SHARED)})
