"""``--languages`` on ``mix``, ``stats`` and ``preview`` (issue 21): the records are mixed as
the datasets mix them (the same language, dictionary and key for each), ``mix`` writes the
language, ``stats`` counts each language beside the totals, ``preview`` shows and colours it,
and a bad list is the dataset's one-line error."""

import html.parser
import json
import re
import subprocess
import sys

import pytest

from easylm_commit import cli, demo

DEVANAGARI = (0x0900, 0x097F)
GREEK = (0x0370, 0x03FF)
SCRIPTS = {"hi": DEVANAGARI, "el": GREEK}
MIXED = ("instruction", "input", "output", "prompt", "response")


def letters(text, block):
    return sum(block[0] <= ord(ch) <= block[1] for ch in text)


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def mix(tmp_path, *args):
    out = tmp_path / "mixed.jsonl"
    assert cli.main(["mix", "--quiet", *args, "--output", str(out)]) == 0
    return read_jsonl(out)


def dataset_samples(dataset, epoch=0):
    """``Sample``s of one epoch as the dataset reads and mixes them, in its order."""
    out = []
    for item in dataset._records().iterate(epoch, 0):
        if item.epoch != epoch:
            return out
        out.append(dataset.transform.sample(item.record, (item.epoch, item.row)))


@pytest.fixture(scope="module")
def tokenizer(llama_tokenizer_dir):
    transformers = pytest.importorskip("transformers")
    return transformers.AutoTokenizer.from_pretrained(llama_tokenizer_dir)


# -- mix ---------------------------------------------------------------------------------------
def test_mix_writes_each_records_language_and_its_text_is_in_that_languages_script(tmp_path):
    rows = mix(tmp_path, "--demo", "--languages", "demo")
    records = json.loads(open(demo.DEMO_INSTRUCTIONS, encoding="utf-8").read())
    assert len(rows) == len(records)
    assert {row["lang"] for row in rows} == {"hi", "el"}
    for row in rows:
        own, other = SCRIPTS[row["lang"]], SCRIPTS["el" if row["lang"] == "hi" else "hi"]
        text = row["prompt"] + row["response"]
        assert letters(text, own) > 0 and letters(text, other) == 0


def test_without_languages_mix_writes_no_lang(tmp_path):
    assert all("lang" not in row for row in mix(tmp_path, "--demo"))


@pytest.mark.parametrize("sampling", ["draw", "each"])
def test_mix_output_is_what_the_commit_dataset_mixes(tmp_path, tokenizer, sampling):
    pytest.importorskip("mlxu")
    from easylm_commit.dataset_types import CommitDataset

    rows = mix(tmp_path, "--demo", "--languages", "demo", "--language-sampling", sampling,
               "--epoch", "1", "--alpha", "0.6")
    dataset = CommitDataset(CommitDataset.get_default_config(dict(
        path=demo.DEMO_INSTRUCTIONS, languages="demo", language_sampling=sampling, alpha=0.6)), tokenizer)
    samples = dataset_samples(dataset, epoch=1)
    records = json.loads(open(demo.DEMO_INSTRUCTIONS, encoding="utf-8").read())
    assert len(rows) == len(samples) == len(records) * (2 if sampling == "each" else 1)
    for row, sample in zip(rows, samples):
        assert row["lang"] == sample.lang
        assert [row[k] for k in MIXED] == [getattr(sample, k) for k in MIXED]
    if sampling == "each":  # every record once per language, in record order
        assert [row["lang"] for row in rows] == ["hi", "el"] * len(records)


def test_mix_of_the_corpora_is_what_the_codemix_clm_dataset_reads_and_mixes(tmp_path, tokenizer):
    pytest.importorskip("mlxu")
    from easylm_commit.dataset_types import CodeMixCLMDataset

    spec = json.dumps([dict(lang="hi", dictionary=demo.DEMO_DICTIONARY, path=demo.DEMO_CORPUS),
                       dict(lang="el", dictionary=demo.DEMO_DICTIONARY_EL, path=demo.DEMO_CORPUS_EL,
                            weight=0.5)])
    rows = mix(tmp_path, "--text-field", "text", "--languages", spec)
    dataset = CodeMixCLMDataset(CodeMixCLMDataset.get_default_config(dict(languages=spec)), tokenizer)
    samples = dataset_samples(dataset)
    assert [(row["lang"], row["text"]) for row in rows] == [(s.lang, s.output) for s in samples]
    # Every text of both corpora, each mixed into English from its own language.
    assert {row["lang"] for row in rows} == {"hi", "el"}
    assert all(re.search("[A-Za-z]{3}", row["text"]) for row in rows)


def test_mix_of_the_corpora_stops_where_the_datasets_stopping_strategy_does(tmp_path, tokenizer):
    pytest.importorskip("mlxu")
    from easylm_commit.dataset_types import CodeMixCLMDataset

    rows = mix(tmp_path, "--text-field", "text", "--languages", "demo",
               "--stopping-strategy", "first_exhausted")
    config = dict(languages="demo", stopping_strategy="first_exhausted")
    samples = dataset_samples(CodeMixCLMDataset(CodeMixCLMDataset.get_default_config(config), tokenizer))
    assert [(row["lang"], row["text"]) for row in rows] == [(s.lang, s.output) for s in samples]
    greek = sum(1 for _ in open(demo.DEMO_CORPUS_EL, encoding="utf-8"))
    hindi = sum(1 for _ in open(demo.DEMO_CORPUS, encoding="utf-8"))
    # The smaller Greek corpus ends the epoch: each of its texts once, Hindi only partly read.
    assert sum(row["lang"] == "el" for row in rows) == greek
    assert sum(row["lang"] == "hi" for row in rows) < hindi


# -- stats -------------------------------------------------------------------------------------
def test_stats_json_counts_each_language_and_they_add_up_to_the_totals(capsys):
    assert cli.main(["stats", "--quiet", "--json", "--demo", "--languages", "demo"]) == 0
    r = json.loads(capsys.readouterr().out)
    langs = r["languages"]
    assert set(langs) == {"hi", "el"} and all(l["records"] > 0 for l in langs.values())
    assert sum(l["records"] for l in langs.values()) == r["records"] == 50
    for key in ("words", "covered", "replaced", "identical"):
        assert sum(l["all"][key] for l in langs.values()) == r["all"][key], key
    for name, field in r["fields"].items():
        assert sum(l["fields"][name]["words"] for l in langs.values()) == field["words"], name
    # The totals' CMI is the mean over the records: the languages' means weighted by records.
    assert r["cmi"] == pytest.approx(sum(l["cmi"] * l["records"] for l in langs.values()) / r["records"])
    assert 0 < r["cmi"] < 50
    hi = langs["hi"]
    assert hi["dictionary"] == demo.DEMO_DICTIONARY and hi["dictionary_stats"]["pairs"] > 0
    assert hi["all"]["observed_mixing_rate"] == hi["all"]["replaced"] / hi["all"]["words"]
    # Without languages there is no per-language entry, but the CMI is there.
    assert cli.main(["stats", "--quiet", "--json", "--demo"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert "languages" not in plain and 0 < plain["cmi"] < 50


def test_stats_shows_each_language_beside_the_totals_and_the_cmi(capsys):
    assert cli.main(["stats", "--quiet", "--demo", "--languages", "demo", "--top", "0"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"code-mixing index \(CMI, mean per record\): \d+\.\d", out)
    rows = {line.split("│")[1].strip(): line for line in out.splitlines()
            if line.startswith("│") and line.split("│")[1].strip() in ("hi", "el", "all")}
    assert set(rows) == {"hi", "el", "all"}


# -- preview -----------------------------------------------------------------------------------
class Sections(html.parser.HTMLParser):
    """The class of each ``<section>`` and the page's CSS."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.sections, self.css, self._in_style = [], "", False

    def handle_starttag(self, tag, attrs):
        if tag == "section":
            self.sections.append(dict(attrs).get("class", ""))
        self._in_style = tag == "style"

    def handle_endtag(self, tag):
        self._in_style = False

    def handle_data(self, data):
        if self._in_style:
            self.css += data


def test_preview_html_gives_each_language_its_own_colour(tmp_path):
    page = tmp_path / "preview.html"
    assert cli.main(["preview", "--quiet", "--demo", "--languages", "demo", "-n", "8",
                     "--html", str(page)]) == 0
    parser = Sections()
    parser.feed(page.read_text(encoding="utf-8"))
    assert set(parser.sections) == {"lang-hi", "lang-el"}
    colours = {lang: re.search(rf"section\.lang-{lang} \.sample {{ border-left: 6px solid (#[0-9a-f]{{6}})",
                               parser.css).group(1) for lang in ("hi", "el")}
    assert colours["hi"] != colours["el"]


def test_preview_titles_each_sample_with_its_language(capsys):
    assert cli.main(["preview", "--quiet", "--demo", "--languages", "demo", "-n", "6"]) == 0
    titles = re.findall(r"\[(hi|el)\] alpaca_demo\.json:record \d+", capsys.readouterr().out)
    assert len(titles) == 6 and set(titles) == {"hi", "el"}


# -- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize("command, argv, message", [
    ("mix", ["--demo", "--languages", '[{"lang": "hi", "dictionary": "d", "weight": 0}]'],
     "languages[0] (hi): weight must be a number > 0, got 0"),
    ("mix", ["--demo", "--languages", "[]"], "languages: the list is empty"),
    ("stats", ["--demo", "--languages", '[{"lang": "hi", "dictionary": "{missing}"}]'],
     "languages[0] (hi): {missing}: dictionary file not found"),
    ("preview", ["--text-field", "text", "--languages", "demo", "--language-sampling", "each"],
     "--language-sampling each: with --text-field and no --input"),
    ("mix", ["--text-field", "text", "--languages", '[{"lang": "hi", "dictionary": "{dict}"}]'],
     "languages[0] (hi): path is required with --text-field and no --input"),
    ("mix", ["--demo", "--dictionary", "{dict}", "--languages", "demo"],
     "--dictionary with --languages: each language names its dictionary"),
])
def test_a_bad_list_is_the_datasets_one_line_error_and_nothing_is_written(tmp_path, capsys, command,
                                                                         argv, message):
    out = tmp_path / "out"
    paths = {"missing": str(tmp_path / "missing.txt"), "dict": demo.DEMO_DICTIONARY}
    argv = [a.replace("{missing}", paths["missing"]).replace("{dict}", paths["dict"]) for a in argv]
    target = {"mix": ["--output", str(out)], "preview": ["--html", str(out)], "stats": []}[command]
    assert cli.main([command, *argv, *target]) == 2
    err = capsys.readouterr().err
    head = f"easylm-commit {command}: error: {message.replace('{missing}', paths['missing'])}"
    assert err.startswith(head) and err.count("\n") == 1 and err.endswith("\n")
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_a_bad_list_exits_2_without_a_traceback_in_a_subprocess(tmp_path):
    spec = json.dumps([dict(lang="hi", dictionary=demo.DEMO_DICTIONARY),
                       dict(lang="el", dictionary=demo.DEMO_DICTIONARY_EL, alpha=1.5)])
    out = tmp_path / "out.jsonl"
    proc = subprocess.run([sys.executable, "-m", "easylm_commit.cli", "mix", "--demo", "--languages",
                           spec, "--output", str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == "" and not out.exists()
    assert proc.stderr.strip().splitlines() == [
        "easylm-commit mix: error: languages[1] (el): alpha must be in [0, 1], got 1.5"]
