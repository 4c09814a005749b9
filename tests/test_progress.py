"""Progress of ``mix`` and ``stats`` where people look (issue 24): in a log (stderr not a
terminal), one plain line every interval with the count, the total, the rate and the time
left; nothing for a short run; nothing with ``--quiet``. The interval is shortened through
its environment variable so that a few thousand records make several lines."""

import json
import os
import re
import subprocess
import sys

import pytest

from easylm_commit import demo
from easylm_commit.progress import INTERVAL_ENV, Progress
from easylm_commit.records import count_lines, iter_records

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COPIES = 100  # of the 50 demo records: 5000, a second or more of mixing


def run_logged(tmp_path, *argv, interval="0.05"):
    """The command with stderr in a file, as under nohup or a job scheduler."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p))
    env.pop(INTERVAL_ENV, None)
    if interval is not None:
        env[INTERVAL_ENV] = interval
    log = tmp_path / "stderr.log"
    with open(log, "w", encoding="utf-8") as err:
        proc = subprocess.run([sys.executable, "-m", "easylm_commit.cli", *map(str, argv)],
                              stdout=subprocess.DEVNULL, stderr=err, env=env, timeout=600)
    assert proc.returncode == 0, log.read_text(encoding="utf-8")
    return log.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    d = tmp_path_factory.mktemp("inputs")
    records = json.loads(open(demo.DEMO_INSTRUCTIONS, encoding="utf-8").read()) * COPIES
    (d / "many.json").write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    # Blank lines count in the line total but are no records: the last line still says 100%.
    (d / "many.jsonl").write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" + ("\n" if i % 100 == 0 else "")
                for i, r in enumerate(records)), encoding="utf-8")
    return d


def progress_lines(log, command):
    pattern = re.compile(rf"easylm-commit {command}: (\d+)/(\d+) records \((\d+)%\), "
                         r"[\d.]+ records/s, \d\d:\d\d elapsed, ETA \d\d:\d\d")
    lines = [line for line in log.splitlines() if line.startswith(f"easylm-commit {command}: ")
             and "wrote" not in line]
    matches = [pattern.fullmatch(line) for line in lines]
    assert all(matches), lines
    return [(int(m[1]), int(m[2]), int(m[3])) for m in matches]


@pytest.mark.parametrize("command, name, extra", [
    ("mix", "many.jsonl", ["--output", "{out}"]),
    ("mix", "many.json", ["--output", "{out}"]),
    ("stats", "many.jsonl", ["--top", "0"]),
])
def test_a_log_gets_plain_lines_with_total_and_eta(tmp_path, inputs, command, name, extra):
    argv = [a.format(out=tmp_path / "mixed.jsonl") for a in extra]
    log = run_logged(tmp_path, command, "--demo", "--input", inputs / name, *argv)
    assert "\r" not in log                      # one line per update, no redraws
    lines = progress_lines(log, command)
    total = 50 * COPIES
    assert len(lines) >= 2, log                 # lines while it runs, and the last one
    # While it runs: a JSON array's length, a JSONL file's lines (its blank lines too).
    running = total if name.endswith(".json") else count_lines(str(inputs / name))
    assert all(t == running for _, t, _ in lines[:-1])
    assert lines[-1] == (total, total, 100)
    counts = [n for n, _, _ in lines]
    assert counts == sorted(counts) and counts[0] < total


def test_a_short_run_and_quiet_print_no_progress(tmp_path, inputs):
    # The default interval (10 s) is longer than the whole run: only the result line.
    log = run_logged(tmp_path, "mix", "--demo", "--output", tmp_path / "o.jsonl", interval=None)
    assert log.splitlines() == [f"easylm-commit mix: wrote 50 record(s) to {tmp_path / 'o.jsonl'}"]
    quiet = run_logged(tmp_path, "--quiet", "mix", "--demo", "--input", inputs / "many.json",
                       "--output", tmp_path / "o.jsonl")
    assert quiet == ""
    assert run_logged(tmp_path, "stats", "--demo", "--quiet", "--input", inputs / "many.json") == ""


def test_the_total_is_known_before_the_first_record(inputs):
    for name in ("many.json", "many.jsonl"):
        totals = []
        first = next(iter_records(str(inputs / name), on_total=totals.append))
        assert first[1]["instruction"] and totals
    lines = (inputs / "many.jsonl").read_text(encoding="utf-8").count("\n")
    assert count_lines(str(inputs / "many.jsonl")) == lines == 50 * COPIES + COPIES // 2


def test_count_lines_counts_a_last_line_without_newline(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"a": 1}\r\n{"a": 2}')
    assert count_lines(str(path)) == 2
    path.write_bytes(b"")
    assert count_lines(str(path)) == 0
    assert count_lines("memory://nowhere.jsonl") is None   # a URL would be read twice


class _Log:
    """A file that is not a terminal."""

    def __init__(self):
        self.text = ""

    def write(self, s):
        self.text += s

    def flush(self):
        pass


def test_progress_yields_every_item_and_ends_at_the_count_read(monkeypatch):
    monkeypatch.setenv(INTERVAL_ENV, "0")
    log = _Log()
    progress = Progress("mix", file=log)
    progress.set_total(12)  # e.g. blank lines counted
    assert list(progress.track(iter(range(10)))) == list(range(10))
    assert log.text.splitlines()[-1].startswith("easylm-commit mix: 10/10 records (100%)")
    assert "\r" not in log.text
