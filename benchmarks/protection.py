"""Precision and recall of protected-span detection (easylm_commit/protect.py).

    python benchmarks/protection.py --seed-tasks seed_tasks.jsonl \
        --user-oriented user_oriented_instructions.jsonl
    python benchmarks/protection.py                   # our own cases only

Three labelled sets:

- our own cases, ``tests/fixtures/protection_cases.txt``: texts with the spans that must be
  kept written between ⟦ and ⟧, prose traps included (colons, "e.g.", "area(s)", recipes);
- Stanford Alpaca's 175 human-written seed tasks (``seed_tasks.jsonl`` from
  tatsu-lab/stanford_alpaca; not redistributed here, pass its path): every instruction, input
  and output, with our hand labels in ``benchmarks/protection_gold.json`` as character
  offsets ``"seed_task_N/FIELD"`` (instruction) or ``"seed_task_N/INSTANCE/FIELD"``. A field
  that is not listed holds no protected span. Labelled as code: program text (comments and
  docstrings included), SQL, JSON and list literals, regular expressions, HTML tags and
  ``<placeholders>``, URLs, e-mail addresses, user names; as prose: everything else,
  including maths, recipes, e-mail bodies, the text between HTML tags and ``[bracketed]``
  placeholders of prose.
- held out: self-instruct's 252 user-oriented instructions
  (``human_eval/user_oriented_instructions.jsonl`` in yizhongw/self-instruct; pass its path),
  labelled the same way (``benchmarks/protection_gold_user_oriented.json``). Nearly held out:
  it was first run after the rules had been written on the two sets above; five rules
  changed after looking at it (LaTeX commands, lowercase SQL, R assignments, rejecting
  "word(100 g)" as a call, two different code symbols for a line of symbols). It also holds LaTeX, R, Java,
  music notation, Sudoku grids and logic formulas, which the seed tasks do not.

Scored per word, words as the mixer counts them: a word is *protected* when it lies inside a
detected span, *gold* when it lies inside a labelled one. Precision is the share of
protected words that are gold (prose wrongly kept from mixing), recall the share of gold
words that are protected (code that would be mixed). Words are what mixing can change, so
this is what matters; spans of punctuation alone count for nothing either way.
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from easylm_commit.mixer import split_words  # noqa: E402
from easylm_commit.protect import protected_spans  # noqa: E402

CASES = os.path.join(ROOT, "tests", "fixtures", "protection_cases.txt")
GOLD = os.path.join(HERE, "protection_gold.json")
GOLD_USER_ORIENTED = os.path.join(HERE, "protection_gold_user_oriented.json")
OPEN, CLOSE = "⟦", "⟧"


def parse_cases(path=CASES):
    """``[(text, gold spans)]`` from a cases file (module docstring)."""
    with open(path, encoding="utf-8") as f:
        body = "".join(line for line in f if not line.startswith("#"))
    cases = []
    for block in body.split("=====\n"):
        block = block.rstrip("\n")
        if not block:
            continue
        text, spans, pos = [], [], 0
        start = None
        for ch in block:
            if ch == OPEN:
                start = pos
            elif ch == CLOSE:
                spans.append((start, pos))
            else:
                text.append(ch)
                pos += 1
        cases.append(("".join(text), spans))
    return cases


def seed_task_items(path, gold_path=GOLD):
    """``[(name, text, gold spans)]`` for every field of every task of a self-instruct-format
    file (Alpaca's seed tasks, the user-oriented instructions)."""
    with open(gold_path, encoding="utf-8") as f:
        gold = json.load(f)
    items = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            task = json.loads(line)
            name = f"{task['id']}/instruction"
            items.append((name, task["instruction"], [tuple(s) for s in gold.get(name, [])]))
            for i, instance in enumerate(task["instances"]):
                for field in ("input", "output"):
                    name = f"{task['id']}/{i}/{field}"
                    items.append((name, instance[field], [tuple(s) for s in gold.get(name, [])]))
    unknown = set(gold) - {name for name, _, _ in items}
    if unknown:
        raise SystemExit(f"{gold_path}: labels for fields not in {path}: {sorted(unknown)[:3]}")
    return items


def _inside(start, end, spans):
    return any(s <= start and end <= e for s, e in spans)


def word_counts(text, gold, predicted=None):
    """(true positives, predicted, gold) word counts of one text."""
    if predicted is None:
        predicted = [(s, e) for s, e, _ in protected_spans(text)]
    pieces = split_words(text)
    tp = n_pred = n_gold = 0
    pos = 0
    for i, piece in enumerate(pieces):
        if i % 2:
            p = _inside(pos, pos + len(piece), predicted)
            g = _inside(pos, pos + len(piece), gold)
            tp += p and g
            n_pred += p
            n_gold += g
        pos += len(piece)
    return tp, n_pred, n_gold


def score(items):
    """Precision, recall and the texts with an error, over ``[(name, text, gold)]``."""
    tp = n_pred = n_gold = 0
    wrong = []
    for name, text, gold in items:
        t, p, g = word_counts(text, gold)
        tp, n_pred, n_gold = tp + t, n_pred + p, n_gold + g
        if t != p or t != g:
            wrong.append((name, p - t, g - t))
    return dict(
        texts=len(items), gold_words=n_gold, protected_words=n_pred, true_positives=tp,
        precision=tp / n_pred if n_pred else 1.0, recall=tp / n_gold if n_gold else 1.0,
        texts_with_errors=[f"{n}: {fp} prose word(s) kept, {fn} code word(s) not kept" for n, fp, fn in wrong],
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed-tasks", help="Stanford Alpaca's seed_tasks.jsonl")
    parser.add_argument("--user-oriented", help="self-instruct's user_oriented_instructions.jsonl")
    parser.add_argument("--json", action="store_true", help="print the numbers as JSON")
    args = parser.parse_args(argv)
    results = {"own cases": score([(f"case {i + 1}", t, g) for i, (t, g) in enumerate(parse_cases())])}
    if args.seed_tasks:
        results["Alpaca seed tasks"] = score(seed_task_items(args.seed_tasks))
    if args.user_oriented:
        results["held out: user-oriented"] = score(seed_task_items(args.user_oriented, GOLD_USER_ORIENTED))
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    for name, r in results.items():
        print(f"{name}: {r['texts']} texts, {r['gold_words']} words labelled as code, "
              f"{r['protected_words']} protected: precision {r['precision']:.3f}, recall {r['recall']:.3f}")
        for line in r["texts_with_errors"]:
            print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
