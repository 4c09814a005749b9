"""``easylm-commit dict`` (issue 22, item 2): reverse, merge, check and filter dictionary files.

Each subcommand reads local paths and URLs, writes its output whole or not at all, skips
malformed lines with one warning as ``mix`` does (``--strict`` stops at the first, naming
``file:line``), and keeps the file's order. A line with a tab is one entry whose sides may hold
spaces (a phrase); written files use MUSE's ``source translation`` for single words and the
tab form for phrases.
"""

import json
import os
import subprocess
import sys

import pytest

from easylm_commit import demo, dictionary_tools
from easylm_commit.cli import main
from easylm_commit.dictionary_tools import parse_line, read_dictionary

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# A small file with one of everything `check` looks for; the line numbers matter.
CRAFTED = [
    "cat बिल्ली",            # 1
    "cat मांजर",             # 2  cat: 2 translations
    "the वह",                # 3
    "the यह",                # 4
    "the ये",                # 5
    "the उस",                # 6
    "the इस",                # 7
    "the उन",                # 8  the: 6 translations (more than 5)
    "paris paris",           # 9  identical, Latin
    "Tokyo tokyo",           # 10 identical (case aside), Latin
    "1 1",                   # 11 identical, no letters: in no script
    "ice cream\tआइसक्रीम",   # 12 multi-word source
    "New  York\tन्यू यॉर्क",  # 13 multi-word on both sides (two spaces read as one)
    "this is three",         # 14 malformed: three fields
    "phone fone",            # 15 other script (Latin)
    "",                      # 16 blank: layout, not malformed
    "water вода",            # 17 other script (Cyrillic)
    "cat बिल्ली",            # 18 a repeat of line 1
    "lonely",                # 19 malformed: one field
    "empty\t",               # 20 malformed: a tab line with an empty side
    "food खाना",             # 21
]


@pytest.fixture
def crafted(tmp_path):
    path = tmp_path / "crafted.txt"
    path.write_text("\n".join(CRAFTED) + "\n", encoding="utf-8")
    return path


def run(capsys, *argv):
    """The CLI in-process: (exit status, stdout, stderr)."""
    status = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def cli(*argv):
    """The CLI as a user runs it, in a subprocess."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p))
    return subprocess.run([sys.executable, "-m", "easylm_commit.cli", *map(str, argv)], env=env,
                          capture_output=True, text=True, timeout=300)


def lines(path):
    return path.read_text(encoding="utf-8").splitlines()


# -- the file format -----------------------------------------------------------------------------

def test_a_tab_line_is_one_entry_whose_sides_may_hold_spaces():
    assert parse_line("ice cream\tआइसक्रीम\n") == ("ice cream", "आइसक्रीम")
    assert parse_line(" New   York \t न्यू यॉर्क\r\n") == ("New York", "न्यू यॉर्क")
    assert parse_line("cat\tबिल्ली") == ("cat", "बिल्ली")       # a tab-separated MUSE pair
    assert parse_line("cat बिल्ली\n") == ("cat", "बिल्ली")
    assert parse_line("  \n") is None                            # blank: layout
    for bad in ("this is three", "lonely", "empty\t", "\tखाली", "a\tb\tc"):
        with pytest.raises(ValueError):
            parse_line(bad)


def test_reading_counts_malformed_lines_and_keeps_the_files_order(crafted):
    f = read_dictionary(str(crafted))
    assert f.skipped_lines == 3 and f.first_skipped_line == 14
    assert f.pairs[0] == ("cat", "बिल्ली") and f.pairs[-1] == ("food", "खाना")
    assert ("New York", "न्यू यॉर्क") in f.pairs
    assert len(f.pairs) == 17                     # 21 lines - 1 blank - 3 malformed, repeat kept


def test_a_written_pair_is_muse_for_words_and_tab_for_phrases():
    assert dictionary_tools.format_pair("cat", "बिल्ली") == "cat बिल्ली\n"
    assert dictionary_tools.format_pair("ice cream", "आइसक्रीम") == "ice cream\tआइसक्रीम\n"
    assert dictionary_tools.format_pair("icecream", "आइस क्रीम") == "icecream\tआइस क्रीम\n"


# -- reverse --------------------------------------------------------------------------------------

def test_reverse_swaps_every_pair_and_reversing_twice_gives_the_pairs_back(tmp_path, crafted, capsys):
    once, twice = tmp_path / "hi-en.txt", tmp_path / "en-hi.txt"
    status, _, err = run(capsys, "dict", "reverse", crafted, "--output", once)
    assert status == 0
    assert "wrote 17 pair(s)" in err
    assert "skipped 3 malformed line(s) of dictionary" in err and "first: line 14" in err
    written = lines(once)
    assert written[0] == "बिल्ली cat"
    assert "आइसक्रीम\tice cream" in written and "न्यू यॉर्क\tNew York" in written
    assert run(capsys, "dict", "reverse", once, "--output", twice)[0] == 0
    assert read_dictionary(str(twice)).pairs == read_dictionary(str(crafted)).pairs


def test_output_is_utf8_without_bom_even_from_a_bom_file(tmp_path, capsys):
    source = tmp_path / "bom.txt"
    source.write_bytes("\ufeffcat बिल्ली\r\ndog कुत्ता\r\n".encode("utf-8"))
    out = tmp_path / "out.txt"
    assert run(capsys, "dict", "reverse", source, "--output", out)[0] == 0
    assert out.read_bytes() == "बिल्ली cat\nकुत्ता dog\n".encode("utf-8")


# -- merge ----------------------------------------------------------------------------------------

def test_merge_is_the_union_in_first_seen_order_without_repeats(tmp_path, capsys):
    a, b, out = tmp_path / "a.txt", tmp_path / "b.txt", tmp_path / "merged.txt"
    a.write_text("cat बिल्ली\ndog कुत्ता\ncat बिल्ली\n", encoding="utf-8")
    b.write_text("dog कुत्ता\nsun सूरज\nice cream\tआइसक्रीम\n", encoding="utf-8")
    status, _, err = run(capsys, "dict", "merge", a, b, "--output", out)
    assert status == 0
    assert lines(out) == ["cat बिल्ली", "dog कुत्ता", "sun सूरज", "ice cream\tआइसक्रीम"]
    assert "6 pair(s) read from 2 file(s), 2 repeated" in err
    assert "translated differently" not in err     # the files agree where they overlap


def test_merge_reports_sources_the_files_translate_differently(tmp_path, capsys):
    a, b, c = tmp_path / "a.txt", tmp_path / "b.txt", tmp_path / "c.txt"
    a.write_text("cat बिल्ली\nwater पानी\nsun सूरज\n", encoding="utf-8")
    b.write_text("cat बिल्ली\ncat मांजर\nwater जल\nmoon चाँद\n", encoding="utf-8")
    c.write_text("sun सूरज\n", encoding="utf-8")
    result = dictionary_tools.merge([read_dictionary(str(p)) for p in (a, b, c)])
    # cat and water differ between a and b; sun is the same in a and c; moon is in b only.
    assert [x.source for x in result.conflicts] == ["cat", "water"]
    assert result.conflicts[0].translations == ((str(a), ("बिल्ली",)), (str(b), ("बिल्ली", "मांजर")))
    out = tmp_path / "merged.txt"
    status, _, err = run(capsys, "dict", "merge", a, b, c, "--output", out)
    assert status == 0
    assert "2 source(s) translated differently by different files (all translations kept)" in err
    assert f"cat: {a}: बिल्ली; {b}: बिल्ली, मांजर" in err
    assert lines(out) == ["cat बिल्ली", "water पानी", "sun सूरज", "cat मांजर", "water जल", "moon चाँद"]


# -- check ----------------------------------------------------------------------------------------

def test_check_counts_what_a_user_should_know_before_training(crafted, capsys):
    status, out, err = run(capsys, "dict", "check", crafted, "--json")
    assert status == 0
    r = json.loads(out)
    assert r["entries"] == 17 and r["pairs"] == 16              # line 18 repeats line 1
    assert r["sources"] == 10
    assert (r["skipped_lines"], r["first_skipped_line"]) == (3, 14)
    assert r["identical"] == 3
    assert r["examples"]["identical"] == [["paris", "paris"], ["Tokyo", "tokyo"], ["1", "1"]]
    assert r["multiword"] == 2
    assert r["examples"]["multiword"] == [["ice cream", "आइसक्रीम"], ["New York", "न्यू यॉर्क"]]
    assert r["main_script"] == "Devanagari"
    assert r["scripts"] == {"Devanagari": 11, "Latin": 3, "Cyrillic": 1}
    assert r["other_script"] == 4                                # paris, tokyo, fone, вода
    assert r["examples"]["other_script"][-2:] == [["phone", "fone"], ["water", "вода"]]
    assert r["many_translations"] == 1 and r["top_translations"] == [["the", 6]]
    # the malformed lines are reported as mix reports them, once, on stderr
    assert err.count("skipped 3 malformed line(s)") == 1 and "first: line 14" in err


def test_check_json_has_the_fixed_keys(crafted, capsys):
    r = json.loads(run(capsys, "dict", "check", crafted, "--json")[1])
    for key in ("pairs", "identical", "multiword", "other_script", "sources", "many_translations"):
        assert isinstance(r[key], int), key
    assert r["data"] is None and r["dictionary"] == str(crafted)


def test_check_prints_a_readable_table(crafted, capsys):
    status, out, _ = run(capsys, "dict", "check", crafted, "--many", "1")
    assert status == 0
    assert f"{crafted}: 16 pairs, 10 sources" in out and "3 malformed line(s) skipped (first: line 14)" in out
    assert "identical pairs (x x)" in out and "paris → paris" in out
    assert "translations not in Devanagari" in out
    assert "sources with > 1 translations" in out and "the (6), cat (2)" in out


def test_many_translations_and_the_main_script_can_be_chosen(crafted, capsys):
    r = json.loads(run(capsys, "dict", "check", crafted, "--json", "--many", "1", "--script", "latin")[1])
    assert r["main_script"] == "Latin"
    assert r["other_script"] == 11 + 1                           # the Devanagari ones and вода
    assert r["top_translations"] == [["the", 6], ["cat", 2]]


def test_the_main_script_is_the_most_common_among_translations():
    assert dictionary_tools.text_script("बिल्ली") == "Devanagari"
    assert dictionary_tools.text_script("δρόμος") == "Greek"
    assert dictionary_tools.text_script("แมว") == "Thai"
    assert dictionary_tools.text_script("ねこ") == dictionary_tools.text_script("猫") == "Han"
    assert dictionary_tools.text_script("１２３") is None and dictionary_tools.text_script("42") is None
    pairs = [("a", "एक"), ("b", "बी"), ("ok", "ok")]
    assert dictionary_tools.main_script(pairs) == "Devanagari"
    assert dictionary_tools.check(dictionary_tools.DictionaryFile("x", pairs)).other_script == 1


def test_check_reversed_looks_at_the_other_side(crafted, capsys):
    r = json.loads(run(capsys, "dict", "check", crafted, "--json", "--reverse-dictionary")[1])
    assert r["main_script"] == "Latin" and r["reverse_dictionary"] is True
    assert r["top_translations"] == [] and r["sources"] == 16    # every Hindi word once


@pytest.fixture
def data(tmp_path):
    records = [
        {"instruction": "The cat eats food.", "input": "", "output": "Cat food is food."},
        {"instruction": "Is the water cold?", "input": "See https://example.org/water", "output": "No."},
        {"text": "no instruction here"},                            # a bad record: skipped
    ]
    path = tmp_path / "data.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def test_check_data_gives_the_coverage_of_the_datas_words_and_the_frequent_missing_ones(crafted, data, capsys):
    status, out, err = run(capsys, "dict", "check", crafted, "--data", data, "--json", "--top", "3")
    assert status == 0
    d = json.loads(out)["data"]
    # Words as the mixer splits them; the URL is a protected span, not words:
    # The cat eats food. Cat food is food. Is the water cold? See <URL> No.  -> 14 words
    # covered: The cat food Cat food food the water                            -> 8
    assert (d["records"], d["skipped_records"], d["words"], d["covered"]) == (2, 1, 14, 8)
    assert d["coverage"] == pytest.approx(8 / 14)
    assert d["top_missing"] == [["is", 2], ["eats", 1], ["cold", 1]]   # lowercased, most first
    assert d["distinct_missing"] == 5                            # is eats cold see no
    assert "skipped 1 bad record(s); first:" in err and f"{data}:3" in err


def test_check_data_coverage_is_what_stats_reports_for_the_same_data(capsys):
    _, out, _ = run(capsys, "dict", "check", demo.DEMO_DICTIONARY, "--data", demo.DEMO_INSTRUCTIONS,
                    "--json", "--top", "1000")
    mine = json.loads(out)["data"]
    _, out, _ = run(capsys, "--quiet", "stats", "--demo", "--json", "--top", "1000")
    theirs = json.loads(out)["all"]
    assert (mine["words"], mine["covered"]) == (theirs["words"], theirs["covered"])
    assert dict(map(tuple, mine["top_missing"])) == dict(map(tuple, theirs["top_uncovered"]))


def test_check_data_of_a_corpus_reads_its_text_field(tmp_path, capsys):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text(json.dumps({"text": "बिल्ली खाना खाती है"}) + "\n", encoding="utf-8")
    status, out, _ = run(capsys, "dict", "check", demo.DEMO_DICTIONARY, "--reverse-dictionary",
                         "--data", corpus, "--text-field", "text", "--json")
    d = json.loads(out)["data"]
    assert status == 0 and d["words"] == 4 and 0 < d["covered"] <= 4


def test_check_data_with_a_misspelt_field_is_one_error_naming_it(crafted, data, capsys):
    status, _, err = run(capsys, "dict", "check", crafted, "--data", data, "--text-field", "txt")
    assert status == 2
    assert "all 3 record(s)" in err and "'txt'" in err and len(err.strip().splitlines()) == 1


# -- filter ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("flags, dropped, message", [
    (["--drop-identical"], {("paris", "paris"), ("Tokyo", "tokyo"), ("1", "1")}, "dropped 3 identical"),
    (["--drop-other-script"], {("paris", "paris"), ("Tokyo", "tokyo"), ("phone", "fone"), ("water", "вода")},
     "dropped 4 not in Devanagari"),
    (["--max-translations", "2"], {("the", t) for t in ("ये", "उस", "इस", "उन")},
     "dropped 4 beyond 2 translation(s)"),
])
def test_filter_drops_what_each_rule_names_and_says_how_many(tmp_path, crafted, capsys, flags, dropped, message):
    out = tmp_path / "clean.txt"
    status, _, err = run(capsys, "dict", "filter", crafted, "--output", out, *flags)
    assert status == 0 and message in err
    before = read_dictionary(str(crafted)).pairs
    assert read_dictionary(str(out)).pairs == [p for p in before if p not in dropped]   # order kept
    assert f"kept {len(before) - len(dropped)} of {len(before)} pair(s)" in err


def test_filter_rules_combine_in_order_and_count_each_pair_once(tmp_path, crafted, capsys):
    out = tmp_path / "clean.txt"
    status, _, err = run(capsys, "dict", "filter", crafted, "--output", out, "--drop-identical",
                         "--drop-other-script", "--max-translations", "1")
    assert status == 0
    # paris/tokyo are identical first; cat keeps बिल्ली (and its repeated line), the keeps वह
    assert "dropped 3 identical, 2 not in Devanagari, 6 beyond 1 translation(s)" in err
    assert lines(out) == ["cat बिल्ली", "the वह", "ice cream\tआइसक्रीम", "New York\tन्यू यॉर्क",
                          "cat बिल्ली", "food खाना"]


# -- URLs, atomic output, errors -------------------------------------------------------------------

def test_inputs_and_outputs_may_be_urls(tmp_path, capsys):
    fsspec = pytest.importorskip("fsspec")
    with fsspec.open("memory://dicts/en-hi.txt", "w", encoding="utf-8") as f:
        f.write("cat बिल्ली\nice cream\tआइसक्रीम\n")
    status, _, _ = run(capsys, "dict", "reverse", "memory://dicts/en-hi.txt", "--output", "memory://dicts/hi-en.txt")
    assert status == 0
    with fsspec.open("memory://dicts/hi-en.txt", "r", encoding="utf-8") as f:
        assert f.read() == "बिल्ली cat\nआइसक्रीम\tice cream\n"
    local = tmp_path / "en-hi.txt"
    local.write_text("cat बिल्ली\n", encoding="utf-8")
    status, out, _ = run(capsys, "dict", "check", local.as_uri(), "--json")
    assert status == 0 and json.loads(out)["pairs"] == 1


def test_a_failed_write_leaves_no_file_and_keeps_the_old_one(tmp_path, crafted, capsys, monkeypatch):
    out = tmp_path / "out.txt"
    out.write_text("old\n", encoding="utf-8")
    written = []

    def full_disk(source, translation):
        if len(written) == 3:
            raise OSError(28, "No space left on device")
        written.append(source)
        return f"{source} {translation}\n"

    monkeypatch.setattr(dictionary_tools, "format_pair", full_disk)
    status, _, err = run(capsys, "dict", "reverse", crafted, "--output", out)
    assert status == 2 and "cannot write: No space left on device" in err
    assert out.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crafted.txt", "out.txt"]   # no temporary file


def test_strict_stops_at_the_first_malformed_line_naming_file_and_line(tmp_path, crafted, capsys):
    out = tmp_path / "out.txt"
    status, _, err = run(capsys, "dict", "reverse", crafted, "--output", out, "--strict")
    assert status == 2 and f"{crafted}:14: expected one 'source translation' pair, got 3 field(s)" in err
    assert not out.exists()
    path = tmp_path / "tab.txt"
    path.write_text("cat बिल्ली\nempty\t\n", encoding="utf-8")
    status, _, err = run(capsys, "dict", "check", path, "--strict")
    assert status == 2 and f"{path}:2: a side of the tab is empty, expected 'source<TAB>translation'" in err


@pytest.mark.parametrize("argv, message", [
    (["dict", "check", "{tmp}/missing.txt"], "easylm-commit dict: error: {tmp}/missing.txt: dictionary file not found"),
    (["dict", "merge", "{dict}", "{tmp}/missing.txt", "--output", "{tmp}/o.txt"], "missing.txt: dictionary file not found"),
    (["dict", "filter", "{dict}", "--output", "{tmp}/o.txt"], "nothing to filter: give --drop-identical"),
    (["dict", "filter", "{dict}", "--output", "{tmp}/o.txt", "--max-translations", "0"],
     "--max-translations must be at least 1, got 0"),
    (["dict", "filter", "{dict}", "--output", "{tmp}/o.txt", "--max-translations", "two"],
     "easylm-commit dict filter: error: argument --max-translations: invalid int value: 'two'"),
    (["dict", "check", "{dict}", "--script", "Devangari"], "--script Devangari: no translation of"),
    (["dict", "check", "{dict}", "--many", "-1"], "--many must be 0 or more, got -1"),
    (["dict", "reverse", "{dict}"], "the following arguments are required: --output"),
    (["dict", "reverse", "{dict}", "--output", "{tmp}/no/such/folder/o.txt"], "does not exist"),
    (["dict", "sort", "{dict}"], "easylm-commit dict: error: argument SUBCOMMAND: invalid choice: 'sort'"),
    (["dict"], "the following arguments are required: SUBCOMMAND"),
])
def test_errors_are_one_line_with_exit_status_2(tmp_path, argv, message):
    names = {"tmp": str(tmp_path), "dict": demo.DEMO_DICTIONARY}
    proc = cli(*(a.format(**names) for a in argv))
    assert proc.returncode == 2 and proc.stdout == ""
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert message.format(**names) in proc.stderr
    assert not (tmp_path / "o.txt").exists()


def test_debug_and_quiet_are_accepted_after_the_subcommand(tmp_path, crafted):
    proc = cli("dict", "reverse", crafted, "--output", tmp_path / "o.txt", "--quiet")
    assert proc.returncode == 0 and proc.stderr == ""
    proc = cli("--quiet", "dict", "reverse", crafted, "--output", tmp_path / "o.txt")
    assert proc.returncode == 0 and proc.stderr == ""
    proc = cli("dict", "check", tmp_path / "missing.txt", "--debug")
    assert proc.returncode != 0 and "Traceback" in proc.stderr


# -- README ---------------------------------------------------------------------------------------

def test_the_readmes_example_output_is_what_check_prints_on_the_demo(tmp_path):
    """README's `dict check` output is pasted from a real run; a changed demo dictionary or
    report fails here instead of leaving the README wrong."""
    import re
    import shutil

    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    command = "easylm-commit dict check en-hi.txt --data alpaca_data.json --top 8"
    after = readme[readme.index(command):]
    shown = re.search(r"\n```\n(en-hi\.txt: .*?)\n```", after, re.S).group(1)   # the text block
    shutil.copy(demo.DEMO_DICTIONARY, tmp_path / "en-hi.txt")
    shutil.copy(demo.DEMO_INSTRUCTIONS, tmp_path / "alpaca_data.json")
    env = dict(os.environ, COLUMNS="80",
               PYTHONPATH=os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p))
    proc = subprocess.run([sys.executable, "-m", "easylm_commit.cli", *command.split()[1:]], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert [line.rstrip() for line in proc.stdout.splitlines()] == shown.splitlines()
