"""Files where pod users keep them: every input and output path may be a URL (``gs://``,
``s3://``, ``file://``, ``memory://``, ...) opened through fsspec. Tested with ``file://``
and fsspec's in-memory filesystem, which behave as a bucket would (no local path behind
them) without a network. Also: output files keep the user's umask.
"""

import json
import os
import stat

import pytest

fsspec = pytest.importorskip("fsspec")

from easylm_commit import demo, fileio  # noqa: E402
from easylm_commit.atomic import atomic_output  # noqa: E402
from easylm_commit.cli import main  # noqa: E402
from easylm_commit.dictionary import BilingualDictionary  # noqa: E402
from easylm_commit.errors import UserError  # noqa: E402
from easylm_commit.records import read  # noqa: E402
from easylm_commit.templates import Template  # noqa: E402


def _records(path):
    return [item.record for item in read(path)]


def to_memory(local_path, url):
    fs, inner = fileio.filesystem(url)
    fs.put_file(local_path, inner)
    return url


@pytest.fixture
def bucket(request):
    """A fresh ``memory://`` "bucket" per test, removed afterwards."""
    name = f"memory://bucket-{request.node.name.replace('[', '-').replace(']', '')}"
    yield name
    fs, inner = fileio.filesystem(name)
    if fs.exists(inner):
        fs.rm(inner, recursive=True)


def test_the_dictionary_loads_alike_from_a_path_a_file_url_and_a_bucket(bucket):
    url = to_memory(demo.DEMO_DICTIONARY, f"{bucket}/en-hi.txt")
    plain = BilingualDictionary.load(demo.DEMO_DICTIONARY)
    for path in ("file://" + demo.DEMO_DICTIONARY, url):
        assert BilingualDictionary.load(path).table == plain.table
    with pytest.raises(UserError, match=f"{bucket}/missing.txt: dictionary file not found"):
        BilingualDictionary.load(f"{bucket}/missing.txt")


def test_templates_and_records_load_from_urls(bucket, tmp_path):
    template = {"prompt_input": "I: {instruction}\nX: {input}\nR:", "prompt_no_input": "I: {instruction}\nR:"}
    (tmp_path / "t.json").write_text(json.dumps(template), encoding="utf-8")
    url = to_memory(tmp_path / "t.json", f"{bucket}/t.json")
    assert Template.load(url).prompt_input == template["prompt_input"]
    assert Template.load("file://" + str(tmp_path / "t.json")).prompt_no_input == template["prompt_no_input"]
    with pytest.raises(UserError, match="not a built-in template"):
        Template.load(f"{bucket}/nope.json")
    records = to_memory(demo.DEMO_INSTRUCTIONS, f"{bucket}/alpaca.json")
    assert _records(records) == _records(demo.DEMO_INSTRUCTIONS)


def test_mix_preview_and_stats_read_and_write_urls(bucket, tmp_path, capsys):
    dictionary = to_memory(demo.DEMO_DICTIONARY, f"{bucket}/en-hi.txt")
    records = to_memory(demo.DEMO_INSTRUCTIONS, f"{bucket}/in/alpaca.json")
    assert main(["mix", "--quiet", "--dictionary", demo.DEMO_DICTIONARY,
                 "--input", demo.DEMO_INSTRUCTIONS, "--output", str(tmp_path / "plain.jsonl")]) == 0
    assert main(["mix", "--quiet", "--dictionary", dictionary, "--input", records,
                 "--output", f"{bucket}/out/mixed.jsonl"]) == 0
    with fsspec.open(f"{bucket}/out/mixed.jsonl", "rt", encoding="utf-8") as f:
        assert f.read() == (tmp_path / "plain.jsonl").read_text(encoding="utf-8")
    assert main(["mix", "--quiet", "--dictionary", "file://" + demo.DEMO_DICTIONARY,
                 "--input", "file://" + demo.DEMO_INSTRUCTIONS,
                 "--output", "file://" + str(tmp_path / "url.jsonl")]) == 0
    assert (tmp_path / "url.jsonl").read_bytes() == (tmp_path / "plain.jsonl").read_bytes()

    assert main(["preview", "--quiet", "--dictionary", dictionary, "--input", records, "-n", "2",
                 "--html", f"{bucket}/out/preview.html"]) == 0
    with fsspec.open(f"{bucket}/out/preview.html", "rt", encoding="utf-8") as f:
        assert f.read().startswith("<!DOCTYPE html>")
    capsys.readouterr()
    assert main(["stats", "--json", "--dictionary", dictionary, "--input", records]) == 0
    from_bucket = json.loads(capsys.readouterr().out)
    assert main(["stats", "--json", "--demo"]) == 0
    local = json.loads(capsys.readouterr().out)
    assert from_bucket["records"] == local["records"] == 50
    assert from_bucket["fields"] == local["fields"]


def test_a_failed_write_to_a_url_leaves_nothing(bucket):
    with pytest.raises(RuntimeError):
        with atomic_output(f"{bucket}/half.jsonl") as f:
            f.write("a line\n")
            raise RuntimeError("interrupted")
    fs, inner = fileio.filesystem(f"{bucket}/half.jsonl")
    assert not fs.exists(inner)


def test_output_files_get_the_users_umask_not_0600(tmp_path):
    old = os.umask(0o022)
    try:
        with atomic_output(tmp_path / "shared.jsonl") as f:
            f.write("{}\n")
        assert stat.S_IMODE(os.stat(tmp_path / "shared.jsonl").st_mode) == 0o644
        os.umask(0o077)
        with atomic_output(tmp_path / "private.jsonl") as f:
            f.write("{}\n")
        assert stat.S_IMODE(os.stat(tmp_path / "private.jsonl").st_mode) == 0o600
        # A file that is replaced keeps its own mode.
        os.chmod(tmp_path / "shared.jsonl", 0o664)
        with atomic_output(tmp_path / "shared.jsonl") as f:
            f.write("[]\n")
        assert stat.S_IMODE(os.stat(tmp_path / "shared.jsonl").st_mode) == 0o664
    finally:
        os.umask(old)


# -- the dataset types ----------------------------------------------------------------------
pytest.importorskip("datasets")


@pytest.fixture
def tokenizer(llama_tokenizer_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(llama_tokenizer_dir)


@pytest.fixture
def online_for_memory(monkeypatch):
    """``datasets`` refuses every URL when ``HF_DATASETS_OFFLINE`` is set, memory:// too;
    nothing here leaves the process."""
    import datasets

    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", False)


def batches(tokenizer, n=6, **config):
    from easylm_commit.dataset_types import CommitDataset

    config = dict(dict(seq_length=48, batch_size=2, records_per_chunk=8), **config)
    ds = CommitDataset(CommitDataset.get_default_config(config), tokenizer)
    out = []
    for batch, _ in ds:
        out.append({k: v.tolist() for k, v in batch.items()})
        if len(out) == n:
            return out


def test_a_file_url_dictionary_and_data_train_on_the_same_batches(tokenizer):
    plain = batches(tokenizer, path=demo.DEMO_INSTRUCTIONS, dictionary=demo.DEMO_DICTIONARY)
    assert batches(tokenizer, path=demo.DEMO_INSTRUCTIONS,
                   dictionary="file://" + demo.DEMO_DICTIONARY) == plain
    assert batches(tokenizer, path="file://" + demo.DEMO_INSTRUCTIONS,
                   dictionary="file://" + demo.DEMO_DICTIONARY) == plain


@pytest.mark.parametrize("streaming", [False, True])
def test_data_dictionary_and_template_in_a_bucket_train_on_the_same_batches(
        tokenizer, bucket, online_for_memory, tmp_path, streaming):
    # datasets reads the JSON Lines through fsspec itself (the main process streams them
    # to the workers, or converts them to Arrow files first).
    lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in _records(demo.DEMO_INSTRUCTIONS))
    (tmp_path / "alpaca.jsonl").write_text(lines, encoding="utf-8")
    template = tmp_path / "en.json"
    from easylm_commit.templates import ALPACA_EN

    template.write_text(json.dumps(ALPACA_EN), encoding="utf-8")
    plain = batches(tokenizer, path=str(tmp_path / "alpaca.jsonl"), dictionary=demo.DEMO_DICTIONARY,
                    streaming=streaming)
    remote = batches(
        tokenizer, path=to_memory(tmp_path / "alpaca.jsonl", f"{bucket}/alpaca.jsonl"),
        dictionary=to_memory(demo.DEMO_DICTIONARY, f"{bucket}/en-hi.txt"),
        template=to_memory(template, f"{bucket}/en.json"), streaming=streaming,
        tokenizer_processes=2 if streaming else 1)
    assert remote == plain
