"""The code blocks of README.md and of the docs/ pages it links are run here, so that they
cannot drift from the code.

The rules, for everyone who edits README.md or docs/*.md (a marker is an HTML comment on the line right
above the opening fence; GitHub does not show it):

- A ```python block runs, in a fresh namespace, unless marked
  ``<!-- readme-test: skip REASON -->``.
- A ```bash (or sh, shell, console) block runs only when marked ``<!-- readme-test: run -->``;
  ``<!-- readme-test: run needs=EASYLM_DIR -->`` runs it only where that variable is set.
  Every other bash block must say why it does not run: ``<!-- readme-test: skip REASON -->``
  (needs a GPU, the hub, LLaMA weights, or minutes of training, say). An unmarked bash block
  fails ``test_every_shell_block_is_marked``.
- Blocks without a language (synopses, file trees) are text.
- Every ``easylm-commit COMMAND ...`` line of every bash block, run or not, must parse with
  the real argument parser: a renamed or removed option fails here.

The blocks run in a scratch folder that holds what the README calls the user's files:
``en-hi.txt``, ``alpaca_data.json`` and ``hindi_corpus.jsonl`` are the embedded demo's,
``llama-tokenizer/`` a small LLaMA-style tokenizer trained by the tests, ``llama-7b-hf/`` a
random-weight LLaMA of EasyLM's debug shape in Hugging Face format, ``.venv`` this
interpreter's environment. ``easylm-commit`` runs this checkout's code.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import easylm_dir, skip_without_easylm
from easylm_commit import demo

ROOT = Path(__file__).resolve().parent.parent
# README.md and the pages it links under docs/: the same rules for every one.
READMES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

SHELLS = {"bash", "sh", "shell", "console"}
MARKER = re.compile(r"^<!--\s*readme-test:\s*(run|skip)\b(.*?)-->\s*$")


class Block:
    def __init__(self, path, line, lang, code, marker):
        self.path, self.line, self.lang, self.code = path, line, lang, code
        self.action, self.detail = marker if marker else (None, "")

    @property
    def id(self):
        return f"{self.path.relative_to(ROOT)}:{self.line}-{self.lang}"

    @property
    def needs(self):
        return re.findall(r"needs=(\w+)", self.detail)

    def __repr__(self):
        return self.id


def blocks(path):
    """Fenced code blocks of a Markdown file with the marker above each."""
    lines = path.read_text(encoding="utf-8").splitlines()
    found, i = [], 0
    while i < len(lines):
        m = re.match(r"^```\s*([\w+-]*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        start, lang = i, m.group(1).lower()
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        above = lines[start - 1].strip() if start else ""
        mark = MARKER.match(above)
        marker = (mark.group(1), mark.group(2).strip()) if mark else None
        found.append(Block(path, start + 1, lang, "\n".join(lines[start + 1:end]) + "\n", marker))
        i = end + 1
    return found


ALL = [b for path in READMES for b in blocks(path)]
PYTHON = [b for b in ALL if b.lang in ("python", "py")]
SHELL = [b for b in ALL if b.lang in SHELLS]


@pytest.fixture(scope="module")
def workspace(tmp_path_factory, llama_tokenizer_dir, tiny_hf_llama):
    """A folder with the user's files as the README names them (see the module docstring),
    and a PATH whose easylm-commit runs this checkout."""
    ws = tmp_path_factory.mktemp("readme")
    shutil.copy(demo.DEMO_DICTIONARY, ws / "en-hi.txt")
    shutil.copy(demo.DEMO_INSTRUCTIONS, ws / "alpaca_data.json")
    shutil.copy(demo.DEMO_CORPUS, ws / "hindi_corpus.jsonl")
    shutil.copytree(llama_tokenizer_dir, ws / "llama-tokenizer")
    (ws / "llama-7b-hf").symlink_to(tiny_hf_llama, target_is_directory=True)
    if sys.prefix != sys.base_prefix:
        (ws / ".venv").symlink_to(sys.prefix, target_is_directory=True)
    bin_dir = tmp_path_factory.mktemp("bin")
    shim = bin_dir / "easylm-commit"
    shim.write_text(f'#!/bin/sh\nexec {shlex.quote(sys.executable)} -m easylm_commit.cli "$@"\n')
    shim.chmod(0o755)
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", WANDB_MODE="disabled",
               TOKENIZERS_PARALLELISM="false")
    return ws, env


def test_the_readme_has_blocks_of_both_kinds_to_run():
    assert PYTHON and any(b.action == "run" for b in SHELL)


def test_every_shell_block_is_marked():
    unmarked = [b.id for b in SHELL if b.action is None]
    assert not unmarked, (
        f"bash blocks without a marker: {unmarked}. Put <!-- readme-test: run --> on the line "
        "above the fence, or <!-- readme-test: skip REASON --> saying why it cannot run in tests")
    reasonless = [b.id for b in ALL if b.action == "skip" and not b.detail]
    assert not reasonless, f"skip markers need a reason: {reasonless}"


@pytest.mark.parametrize("block", PYTHON, ids=lambda b: b.id)
def test_python_block_runs(block, workspace, monkeypatch):
    if block.action == "skip":
        pytest.skip(block.detail)
    ws, _ = workspace
    monkeypatch.chdir(ws)
    exec(compile(block.code, block.id, "exec"), {"__name__": "__readme__"})


@pytest.mark.parametrize("block", [b for b in SHELL if b.action == "run"], ids=lambda b: b.id)
def test_shell_block_runs(block, workspace):
    if "EASYLM_DIR" in block.needs and easylm_dir() is None:
        skip_without_easylm()
    missing = [v for v in block.needs if not os.environ.get(v)]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}")
    if ".venv" in block.code and sys.prefix == sys.base_prefix:
        pytest.skip("the block activates .venv: the tests are not running in a virtual environment")
    ws, env = workspace
    proc = subprocess.run(["bash", "-euo", "pipefail", "-c", block.code], cwd=ws, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"{block.id} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"


def commands(code):
    """argv lists of the easylm-commit invocations in shell code (comments, line
    continuations, &&, ;, | and env assignments understood)."""
    code = code.replace("\\\n", " ")
    out = []
    for line in code.splitlines():
        try:
            words = shlex.split(line, comments=True)
        except ValueError:
            continue
        current = []
        for w in words + [";"]:
            if w in (";", "&&", "||", "|"):
                while current and re.match(r"^\w+=", current[0]):
                    current.pop(0)
                if current[:1] == ["easylm-commit"]:
                    out.append(current[1:])
                elif current[:3] in (["python", "-m", "easylm_commit.cli"],):
                    out.append(current[3:])
                current = []
            else:
                current.append(w)
    return out


INVOCATIONS = [(b, argv) for b in SHELL for argv in commands(b.code)]


def test_the_command_finder_sees_through_shell_syntax():
    assert commands("A=1 easylm-commit stats --demo \\\n  --json | jq . && easylm-commit mix -h # x\n") == [
        ["stats", "--demo", "--json"], ["mix", "-h"]]


def parse_problem(argv):
    """Why ``easylm-commit ARGV`` would be refused by the real parser, or None; nothing runs."""
    from easylm_commit import cli

    if "--help" in argv or "-h" in argv:
        return None
    parser, sub = cli.build_parser()
    name = next((a for a in argv if not a.startswith("-")), None)
    if name not in cli.COMMANDS:
        return f"unknown command {name!r}"
    cli._load(name).add_arguments(sub.choices[name])
    # The README spells options out: an abbreviation that argparse would complete is a
    # renamed option here.
    parser.allow_abbrev = sub.choices[name].allow_abbrev = False
    try:
        _, extra = parser.parse_known_args(argv)
    except SystemExit:
        return "does not parse"
    return f"unknown arguments {extra}" if extra else None


def test_the_parse_check_catches_renamed_options_and_commands(capsys):
    assert parse_problem(["stats", "--demo", "--batch-size", "16"]) is None
    assert parse_problem(["stats", "--demo", "--batch", "16"]) == "unknown arguments ['--batch', '16']"
    assert parse_problem(["stats", "--demo", "--alpha", "x"]) == "does not parse"
    assert parse_problem(["statistics", "--demo"]) == "unknown command 'statistics'"


@pytest.mark.parametrize("block, argv", INVOCATIONS, ids=[f"{b.id}:{a[0] if a else ''}" for b, a in INVOCATIONS])
def test_every_easylm_commit_line_parses(block, argv):
    problem = parse_problem(argv)
    assert problem is None, f"{block.id}: easylm-commit {' '.join(argv)}: {problem}"


def github_anchor(heading):
    """The id GitHub gives a Markdown heading: lowercase, punctuation but - and _ dropped,
    spaces to -."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_every_link_between_the_pages_resolves():
    # The README was split into docs/ pages: a link to a moved section, a renamed heading or a
    # deleted file must fail here rather than on GitHub.
    broken = []
    pages = READMES + [ROOT / "CONTRIBUTING.md"]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+://|mailto:", target):
                continue
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            if not dest.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and dest.suffix == ".md":
                headings = re.findall(r"^#+ (.+)$", dest.read_text(encoding="utf-8"), re.M)
                if anchor not in {github_anchor(h) for h in headings}:
                    broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, broken
