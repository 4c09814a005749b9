"""Several target languages in one run (``languages``): the list and its checks, the draw,
the per-language mixing, metrics, determinism, resume and the one-entry equivalence."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

pytest.importorskip("mlxu")
pytest.importorskip("datasets")

from transformers import AutoTokenizer  # noqa: E402

from easylm_commit import languages, options  # noqa: E402
from easylm_commit.dataset_types import CodeMixCLMDataset, CommitDataset  # noqa: E402
from easylm_commit.errors import UserError  # noqa: E402

WORDS = "the cat dog is black white big small house river city water sun tree bird".split()
HINDI = "द बिल्ली कुत्ता है काला सफ़ेद बड़ा छोटा घर नदी शहर पानी सूरज पेड़ पक्षी".split()
GREEK = "ο γάτα σκύλος είναι μαύρο άσπρο μεγάλο μικρό σπίτι ποτάμι πόλη νερό ήλιος δέντρο πουλί".split()
DEVANAGARI = (0x0900, 0x097F)
GREEK_SCRIPT = (0x0370, 0x03FF)


def script_letters(text, block):
    return sum(block[0] <= ord(ch) <= block[1] for ch in text)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("langdata")
    (d / "en-hi.txt").write_text("".join(f"{e} {h}\n" for e, h in zip(WORDS, HINDI)), encoding="utf-8")
    (d / "en-el.txt").write_text("".join(f"{e} {g}\n" for e, g in zip(WORDS, GREEK)), encoding="utf-8")
    rng = np.random.default_rng(0)
    records = [{"instruction": f"Record {i}: " + " ".join(rng.choice(WORDS, size=6)) + "?",
                "input": "", "output": " ".join(rng.choice(WORDS, size=10)) + "."}
               for i in range(40)]
    (d / "alpaca.json").write_text(json.dumps(records), encoding="utf-8")
    (d / "alpaca.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    for name, words, n in (("hi.jsonl", HINDI, 30), ("el.jsonl", GREEK, 12)):
        with open(d / name, "w", encoding="utf-8") as f:
            for i in range(n):
                f.write(json.dumps({"text": f"{name[:2]}{i} " + " ".join(rng.choice(words, size=20)) + "."},
                                   ensure_ascii=False) + "\n")
    return d


@pytest.fixture(scope="module")
def tokenizer(llama_tokenizer_dir):
    return AutoTokenizer.from_pretrained(llama_tokenizer_dir)


def two(data, **hi):
    return json.dumps([dict(lang="hi", dictionary=str(data / "en-hi.txt"), **hi),
                       dict(lang="el", dictionary=str(data / "en-el.txt"))])


def commit(data, tokenizer, **updates):
    config = dict(path=str(data / "alpaca.json"), seq_length=32, batch_size=2, alpha=1.0)
    config.update(updates)
    return CommitDataset(CommitDataset.get_default_config(config), tokenizer)


def clm(data, tokenizer, **updates):
    config = dict(seq_length=32, batch_size=2, alpha=1.0, reverse_dictionary=True)
    config.update(updates)
    return CodeMixCLMDataset(CodeMixCLMDataset.get_default_config(config), tokenizer)


def take(ds, n):
    out = []
    for batch, metrics in ds:
        out.append((batch, metrics))
        if len(out) == n:
            return out
    return out


def same_batches(a, b):
    return len(a) == len(b) and all(
        all(np.array_equal(x[0][k], y[0][k]) for k in x[0]) for x, y in zip(a, b))


def samples(ds, n):
    """``(lang, Sample)`` of the first ``n`` positions the dataset reads."""
    items = ds._records().iterate(0, 0)
    out = []
    for item in items:
        s = ds.transform.sample(item.record, (item.epoch, item.row))
        out.append((item, s))
        if len(out) == n:
            return out


# -- the list ---------------------------------------------------------------------------------
@pytest.mark.parametrize("spec, message", [
    ("[]", "languages: the list is empty"),
    ('{"lang": "hi"}', "must be a JSON list"),
    ('[{"lang": "hi", "dictionary": "d"}, {"lang": "hi", "dictionary": "e"}]',
     "languages[1] (hi): lang 'hi' is given twice (also languages[0])"),
    ('[{"lang": "hi", "dictionary": "d", "weight": 0}]', "languages[0] (hi): weight must be a number > 0, got 0"),
    ('[{"lang": "hi", "dictionary": "d", "weight": -1.5}]', "weight must be a number > 0"),
    ('[{"lang": "hi", "dictionary": "d", "alpha": 1.5}]', "languages[0] (hi): alpha must be in [0, 1], got 1.5"),
    ('[{"lang": "hi", "dictionary": "d", "alpah": 0.5}]',
     "languages[0] (hi): unknown key 'alpah' for a commit language (did you mean 'alpha'?)"),
    ('[{"lang": "hi"}]', "languages[0] (hi): dictionary is required"),
    ('[{"dictionary": "d"}]', "languages[0]: lang is required"),
    ('[{"lang": "h i", "dictionary": "d"}]', "lang must be a code"),
    ('[{"lang": "hi", "dictionary": "d", "template": 3}]', "template must be a str"),
    ('[{"lang": "hi", "dictionary": "d", "text_field": "t"}]', "unknown key 'text_field' for a commit language"),
    ('[{"lang": "hi", "dictionary": "d"},]', "not valid JSON (line 1, column 36"),
    ("[3]", "languages[0]: must be an object"),
])
def test_a_bad_list_is_one_line_naming_the_entry(spec, message):
    config = CommitDataset.get_default_config()
    with pytest.raises(UserError) as e:
        languages.parse(spec, config, options.COMMIT)
    assert message in str(e.value) and "\n" not in str(e.value)


def test_a_list_in_a_file_is_named_in_its_errors(tmp_path):
    path = tmp_path / "langs.json"
    path.write_text('[{"lang": "hi", "dictionary": "d", "weight": 0}]')
    with pytest.raises(UserError, match=rf"languages\[0\] \(hi\) in {path}: weight"):
        languages.parse(str(path), CommitDataset.get_default_config(), options.COMMIT)
    with pytest.raises(UserError, match="file not found"):
        languages.parse(str(tmp_path / "missing.json"), CommitDataset.get_default_config(), options.COMMIT)


def test_a_list_files_relative_names_are_read_from_its_directory(data, tokenizer, tmp_path):
    (tmp_path / "en-el.txt").write_text((data / "en-el.txt").read_text(encoding="utf-8"), encoding="utf-8")
    path = tmp_path / "langs.json"
    path.write_text(json.dumps([dict(lang="el", dictionary="en-el.txt")]))
    (el,) = languages.parse(str(path), CommitDataset.get_default_config(), options.COMMIT)
    assert el.dictionary == str(tmp_path / "en-el.txt")


def test_demo_is_the_embedded_hindi_and_greek(data, tokenizer):
    from easylm_commit import demo

    hi, el = languages.parse("demo", CodeMixCLMDataset.get_default_config(), options.CODEMIX_CLM)
    assert (hi.lang, hi.dictionary, hi.path) == ("hi", demo.DEMO_DICTIONARY, demo.DEMO_CORPUS)
    assert (el.lang, el.dictionary, el.path) == ("el", demo.DEMO_DICTIONARY_EL, demo.DEMO_CORPUS_EL)
    _, metrics = take(clm(data, tokenizer, languages="demo"), 5)[-1]
    assert metrics["dataset_words_seen_hi"] > 0 and metrics["dataset_words_seen_el"] > 0
    assert [l.lang for l in languages.parse("demo", CommitDataset.get_default_config(), options.COMMIT)] == ["hi", "el"]


def test_keys_left_out_take_the_datasets_values():
    config = CommitDataset.get_default_config(dict(alpha=0.7, template="hi", reverse_dictionary=True))
    hi, th = languages.parse('[{"lang": "hi", "dictionary": "a"}, {"lang": "th", "dictionary": "b", '
                             '"alpha": 0.2, "weight": 3, "template": "th"}]', config, options.COMMIT)
    assert (hi.alpha, hi.template, hi.reverse_dictionary, hi.weight) == (0.7, "hi", True, 1.0)
    assert (th.alpha, th.template, th.dictionary, th.weight) == (0.2, "th", "b", 3.0)


def test_a_language_whose_dictionary_cannot_be_opened_is_named(data, tokenizer):
    spec = json.dumps([dict(lang="hi", dictionary=str(data / "en-hi.txt")),
                       dict(lang="el", dictionary=str(data / "missing.txt"))])
    with pytest.raises(UserError) as e:
        commit(data, tokenizer, languages=spec)
    assert str(e.value).startswith("languages[1] (el): ") and "missing.txt" in str(e.value)


def test_a_language_whose_corpus_cannot_be_opened_is_named(data, tokenizer):
    spec = json.dumps([dict(lang="hi", dictionary=str(data / "en-hi.txt"), path=str(data / "hi.jsonl")),
                       dict(lang="el", dictionary=str(data / "en-el.txt"), path=str(data / "nope.jsonl"))])
    with pytest.raises(UserError) as e:
        take(clm(data, tokenizer, languages=spec), 1)
    assert str(e.value).startswith("languages[1] (el): ") and "nope.jsonl" in str(e.value)


# -- commit: the draw --------------------------------------------------------------------------
def test_records_go_to_languages_in_proportion_to_their_weights():
    cumulative = [3.0, 4.0]  # weights 3 and 1
    drawn = [languages.choose(0, epoch, row, cumulative) for epoch in range(4) for row in range(2000)]
    assert abs(drawn.count(0) / len(drawn) - 0.75) < 0.02
    # The draw depends on the epoch too: a record is not tied to one language for the run.
    assert [languages.choose(0, 0, r, cumulative) for r in range(200)] != \
           [languages.choose(0, 1, r, cumulative) for r in range(200)]


def test_each_record_is_mixed_with_its_languages_dictionary_and_template(data, tokenizer):
    spec = json.dumps([dict(lang="hi", dictionary=str(data / "en-hi.txt"), template="hi"),
                       dict(lang="el", dictionary=str(data / "en-el.txt"), template="el")])
    ds = commit(data, tokenizer, languages=spec)
    got = samples(ds, 40)
    langs = [s.lang for _, s in got]
    assert set(langs) == {"hi", "el"}
    for _, s in got:
        own, other = (DEVANAGARI, GREEK_SCRIPT) if s.lang == "hi" else (GREEK_SCRIPT, DEVANAGARI)
        assert script_letters(s.response, own) > 0 and script_letters(s.response, other) == 0
        assert script_letters(s.prompt, other) == 0  # the template is the language's own


def test_each_sampling_gives_every_record_once_per_language(data, tokenizer):
    ds = commit(data, tokenizer, languages=two(data), language_sampling="each")
    got = samples(ds, 80)  # one epoch: 40 records x 2 languages
    seen = sorted((item.record["instruction"], s.lang) for item, s in got)
    records = json.loads((data / "alpaca.json").read_text())
    assert seen == sorted((r["instruction"], lang) for r in records for lang in ("hi", "el"))


@pytest.mark.parametrize("extra", [dict(streaming=True), dict(shuffle=True, tokenizer_processes=2)])
def test_each_sampling_streamed_or_shuffled_with_workers_is_exact_too(data, tokenizer, extra):
    path = str(data / "alpaca.jsonl") if extra.get("streaming") else str(data / "alpaca.json")
    kw = dict(path=path, languages=two(data), language_sampling="each", records_per_chunk=6)
    reference = take(commit(data, tokenizer, **dict(kw, shuffle=extra.get("shuffle", False))), 45)
    assert same_batches(reference, take(commit(data, tokenizer, **kw, **extra), 45))
    ds = commit(data, tokenizer, **kw, **extra)
    take(ds, 21)
    resumed = commit(data, tokenizer, **kw, **extra)
    resumed.load_state_dict(ds.get_state_dict())
    assert same_batches(reference[21:], take(resumed, 24))


def test_per_language_metrics_add_up_to_the_totals(data, tokenizer):
    ds = commit(data, tokenizer, languages=two(data, alpha=0.5))
    _, m = take(ds, 30)[-1]
    assert m["dataset_words_seen_hi"] + m["dataset_words_seen_el"] == m["dataset_words_seen"]
    assert m["dataset_words_replaced_hi"] + m["dataset_words_replaced_el"] == m["dataset_words_replaced"]
    assert m["dataset_records_hi"] > 0 and m["dataset_records_el"] > 0
    # alpha 0.5 for hi, 1.0 for el: the real rates say so (all but "Record" is covered).
    assert 0.35 < m["dataset_mixing_rate_hi"] < 0.6 and m["dataset_mixing_rate_el"] > 0.85
    # The code-mixing index: near its maximum (50) at an even mix, low when nearly all is replaced.
    assert m["dataset_cmi_hi"] > 30 and m["dataset_cmi_el"] < 15
    assert 0 < m["dataset_cmi"] < 50


def test_one_entry_gives_exactly_the_plain_keys_batches(data, tokenizer):
    one = json.dumps([dict(lang="hi", dictionary=str(data / "en-hi.txt"))])
    plain = take(commit(data, tokenizer, dictionary=str(data / "en-hi.txt")), 20)
    listed = take(commit(data, tokenizer, languages=one), 20)
    assert same_batches(plain, listed)
    for (_, a), (_, b) in zip(plain, listed):
        assert {k: v for k, v in b.items() if not k.endswith("_hi")} == a
        assert b["dataset_mixing_rate_hi"] == a["dataset_mixing_rate"]
    plain = take(clm(data, tokenizer, path=str(data / "hi.jsonl"), dictionary=str(data / "en-hi.txt")), 20)
    listed = take(clm(data, tokenizer, path=str(data / "hi.jsonl"), languages=one), 20)
    assert same_batches(plain, listed)


def test_batches_are_the_same_with_worker_processes_and_after_a_resume(data, tokenizer):
    spec = two(data, weight=2)
    reference = take(commit(data, tokenizer, languages=spec, records_per_chunk=4), 40)
    workers = take(commit(data, tokenizer, languages=spec, tokenizer_processes=2, records_per_chunk=4), 40)
    assert same_batches(reference, workers)
    assert [m for _, m in reference] == [m for _, m in workers]
    ds = commit(data, tokenizer, languages=spec, records_per_chunk=4)
    take(ds, 17)
    state = ds.get_state_dict()
    resumed = commit(data, tokenizer, languages=spec, records_per_chunk=4)
    resumed.load_state_dict(state)
    rest = take(resumed, 23)
    assert same_batches(reference[17:], rest)
    assert [m for _, m in reference[17:]] == [m for _, m in rest]


def test_the_draw_is_the_same_in_every_process():
    code = textwrap.dedent("""
        from easylm_commit.languages import choose
        print([choose(7, e, r, [1.0, 2.5, 3.0]) for e in range(2) for r in range(300)])
    """)
    outs = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                           env={**os.environ, "PYTHONHASHSEED": seed}).stdout for seed in ("1", "2")}
    assert len(outs) == 1
    assert outs.pop().strip() == str([languages.choose(7, e, r, [1.0, 2.5, 3.0])
                                      for e in range(2) for r in range(300)])


# -- codemix_clm: interleaved corpora -------------------------------------------------------------
def corpora(data, **el):
    return json.dumps([dict(lang="hi", dictionary=str(data / "en-hi.txt"), path=str(data / "hi.jsonl")),
                       dict(lang="el", dictionary=str(data / "en-el.txt"), path=str(data / "el.jsonl"), **el)])


def epoch_texts(ds):
    out = []
    for item in ds._records().iterate(0, 0):
        if item.epoch:
            return out
        out.append(item.record["text"].split()[0])


def test_corpora_interleave_by_weight_and_a_small_one_repeats(data, tokenizer):
    texts = epoch_texts(clm(data, tokenizer, languages=corpora(data)))
    hi = [t for t in texts if t.startswith("hi")]
    el = [t for t in texts if t.startswith("el")]
    # all_exhausted: the epoch ends once both corpora were read through; Greek (12 texts) repeats.
    assert sorted(set(hi)) == sorted(f"hi{i}" for i in range(30)) and len(hi) == 30
    assert set(el) == {f"el{i}" for i in range(12)} and len(el) > 12
    assert hi == [f"hi{i}" for i in range(30)]  # each corpus in its own order


def test_first_exhausted_ends_the_epoch_with_the_first_corpus_read_through(data, tokenizer):
    texts = epoch_texts(clm(data, tokenizer, languages=corpora(data, weight=4),
                            stopping_strategy="first_exhausted"))
    assert [t for t in texts if t.startswith("el")] == [f"el{i}" for i in range(12)]
    assert texts[-1] == "el11" and sum(t.startswith("hi") for t in texts) < 30


def test_each_corpus_is_mixed_into_english_with_its_own_dictionary(data, tokenizer):
    ds = clm(data, tokenizer, languages=corpora(data), alpha=1.0)
    for item, s in samples(ds, 40):
        assert s.lang == item.record["text"][:2]
        body = s.response.split(" ", 1)[1]
        assert script_letters(body, DEVANAGARI) == 0 and script_letters(body, GREEK_SCRIPT) == 0


def test_streamed_corpora_interleave_as_the_map_style_ones(data, tokenizer):
    spec = corpora(data)
    mapped = take(clm(data, tokenizer, languages=spec), 60)
    streamed = take(clm(data, tokenizer, languages=spec, streaming=True), 60)
    assert same_batches(mapped, streamed)
    assert [m for _, m in mapped] == [m for _, m in streamed]


def test_interleaved_corpora_resume_exactly_with_workers(data, tokenizer):
    spec = corpora(data, weight=0.5)
    reference = take(clm(data, tokenizer, languages=spec, records_per_chunk=8), 70)
    ds = clm(data, tokenizer, languages=spec, tokenizer_processes=2, records_per_chunk=8)
    take(ds, 33)
    resumed = clm(data, tokenizer, languages=spec, tokenizer_processes=2, records_per_chunk=8)
    resumed.load_state_dict(ds.get_state_dict())
    rest = take(resumed, 37)
    assert same_batches(reference[33:], rest)
    assert [m for _, m in reference[33:]] == [m for _, m in rest]


# -- pods ---------------------------------------------------------------------------------------------
def test_hosts_compare_the_list_and_every_dictionarys_contents(data, tokenizer, tmp_path):
    items = commit(data, tokenizer, languages=two(data), host_check_freq=0).host_agreement_items()
    assert {"languages", "dictionary contents (languages[0] (hi))",
            "dictionary contents (languages[1] (el))"} <= set(items)
    changed = tmp_path / "en-el.txt"
    changed.write_text((data / "en-el.txt").read_text(encoding="utf-8").replace("γάτα", "γατούλα"),
                       encoding="utf-8")
    spec = json.dumps([dict(lang="hi", dictionary=str(data / "en-hi.txt")),
                       dict(lang="el", dictionary=str(changed))])
    other = commit(data, tokenizer, languages=spec, host_check_freq=0).host_agreement_items()
    differ = {k for k in items if items[k][0] != other[k][0]}
    assert differ == {"dictionary contents (languages[1] (el))"}  # file names are not compared
    weights = commit(data, tokenizer, languages=two(data, weight=2), host_check_freq=0).host_agreement_items()
    assert {k for k in items if items[k][0] != weights[k][0]} == {"languages"}


# -- an α schedule per language ---------------------------------------------------------------
def test_each_language_follows_its_own_alpha_schedule_and_resumes_exactly(data, tokenizer):
    spec = json.dumps([dict(lang="hi", dictionary=str(data / "en-hi.txt")),
                       dict(lang="el", dictionary=str(data / "en-el.txt"), alpha=0.9,
                            alpha_schedule="linear", alpha_end=0.1, alpha_schedule_steps=60)])
    kw = dict(languages=spec, alpha=0.7, records_per_chunk=2)
    run = take(commit(data, tokenizer, **kw), 120)
    hi = [m["dataset_alpha_hi"] for _, m in run]
    el = [m["dataset_alpha_el"] for _, m in run]
    assert set(hi) == {0.7}  # the dataset's constant alpha
    assert el[0] == 0.9 and el[-1] == pytest.approx(0.1) and all(b <= a for a, b in zip(el, el[1:]))
    # The mixing follows: Greek records are mixed less and less, Hindi ones alike throughout.
    half = len(run) // 2
    rate = lambda m, lang: m[f"dataset_words_replaced_{lang}"] / m[f"dataset_words_seen_{lang}"]  # noqa: E731
    first, last = run[half - 1][1], run[-1][1]
    late_el = ((last["dataset_words_replaced_el"] - first["dataset_words_replaced_el"])
               / (last["dataset_words_seen_el"] - first["dataset_words_seen_el"]))
    assert late_el < 0.4 < rate(first, "hi")
    ds = commit(data, tokenizer, **kw)
    take(ds, 47)
    resumed = commit(data, tokenizer, **kw)
    resumed.load_state_dict(ds.get_state_dict())
    rest = take(resumed, 73)
    assert same_batches(run[47:], rest)
    assert [m for _, m in run[47:]] == [m for _, m in rest]


def test_a_bad_schedule_in_an_entry_is_named_by_the_entry(data, tokenizer):
    spec = json.dumps([dict(lang="hi", dictionary=str(data / "en-hi.txt"), alpha_schedule="linear")])
    with pytest.raises(UserError, match=r"languages\[0\] \(hi\): .*alpha_schedule_steps"):
        commit(data, tokenizer, languages=spec)
    spec = json.dumps([dict(lang="hi", dictionary=str(data / "en-hi.txt"), alpha_end=2)])
    with pytest.raises(UserError, match=r"languages\[0\] \(hi\): alpha_end must be in \[0, 1\]"):
        commit(data, tokenizer, languages=spec)
