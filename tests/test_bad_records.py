"""Issue 14, item 5: one policy for bad records everywhere. A line that is not JSON and a
record holding a lone surrogate (valid JSON "\\ud800", found in scraped data) are bad records
like any other: skipped and counted, or named with their line under ``--strict`` -- in
``mix``, ``stats``, ``preview`` and the training datasets alike. Nothing half-written is left,
on stdout either."""

import json

import pytest

from easylm_commit import demo
from easylm_commit.cli import main
from easylm_commit.errors import UserError

GOOD = {"instruction": "What is the water?", "input": "", "output": "The water is blue."}


@pytest.fixture
def data(tmp_path):
    path = tmp_path / "scraped.jsonl"
    path.write_text(
        json.dumps(GOOD) + "\n"
        + '{"instruction": "Say \\ud800 now", "input": "", "output": "ok"}\n'
        + '{"instruction": "broken", \n'
        + json.dumps(GOOD) + "\n",
        encoding="utf-8")
    return path


@pytest.mark.parametrize("command", [
    ["mix", "--output", "{out}"],
    ["stats", "--json"],
    ["preview", "-n", "5"],
])
def test_commands_skip_and_count_them(data, tmp_path, capsys, command):
    argv = [a.format(out=tmp_path / "out.jsonl") for a in command]
    assert main([*argv, "--dictionary", demo.DEMO_DICTIONARY, "--input", str(data)]) == 0
    err = capsys.readouterr().err
    assert f"skipped 2 bad record(s); first: {data}:2: field 'instruction' holds a lone surrogate" in err


@pytest.mark.parametrize("command", [["mix"], ["stats"], ["preview"]])
def test_strict_names_the_first_one_with_its_line(data, capsys, command):
    assert main([*command, "--strict", "--dictionary", demo.DEMO_DICTIONARY, "--input", str(data)]) == 2
    captured = capsys.readouterr()
    (line,) = captured.err.strip().splitlines()
    assert f"{data}:2: field 'instruction' holds a lone surrogate" in line
    assert captured.out == ""        # mix to stdout: not one record written before the stop


def test_the_training_dataset_skips_and_counts_them_or_stops_when_strict(data, llama_tokenizer_dir):
    pytest.importorskip("mlxu")
    from transformers import AutoTokenizer

    from easylm_commit.dataset_types import CommitDataset

    tokenizer = AutoTokenizer.from_pretrained(llama_tokenizer_dir)
    config = dict(path=str(data), dictionary=demo.DEMO_DICTIONARY, seq_length=16, batch_size=1)
    _, metrics = next(iter(CommitDataset(CommitDataset.get_default_config(config), tokenizer)))
    assert metrics["dataset_records_skipped"] == 2
    config["strict"] = True
    with pytest.raises(UserError, match=f"{data}:2: a field holds a lone surrogate"):
        next(iter(CommitDataset(CommitDataset.get_default_config(config), tokenizer)))


@pytest.mark.parametrize("dataset, extra, check", [
    ("commit", {}, "check instruction_field=instruction, input_field=input, output_field=output"),
    ("commit", {"streaming": True, "records_per_chunk": 1}, "check instruction_field=instruction"),
    ("codemix_clm", {"shuffle": True, "records_per_chunk": 1}, "check text_field=text"),
])
def test_the_training_dataset_stops_when_every_record_is_skipped(tmp_path, llama_tokenizer_dir,
                                                                 dataset, extra, check):
    """A misspelt field name skips every record: the dataset says so, with the fields the
    records have, instead of reading the data epoch after epoch without a batch."""
    import threading

    pytest.importorskip("mlxu")
    from transformers import AutoTokenizer

    from easylm_commit.dataset_types import DATASET_TYPES

    data = tmp_path / "qa.jsonl"
    data.write_text("".join(json.dumps({"question": f"q{i}", "answer": "a"}) + "\n" for i in range(3)),
                    encoding="utf-8")
    cls = DATASET_TYPES[dataset]
    config = cls.get_default_config(dict(path=str(data), dictionary=demo.DEMO_DICTIONARY,
                                         seq_length=16, batch_size=1, **extra))
    ds = cls(config, AutoTokenizer.from_pretrained(llama_tokenizer_dir))
    ds.load_state_dict(dict(epoch=0, position=1, offset=0))  # a resumed run too
    raised = []

    def first_batch():
        try:
            next(iter(ds))
        except UserError as e:
            raised.append(str(e))

    worker = threading.Thread(target=first_batch, daemon=True)
    worker.start()
    worker.join(timeout=120)
    assert not worker.is_alive(), "the dataset never stopped reading"
    (message,) = raised
    assert message.startswith(f"no batch can be made: every record of {data} skipped: field ")
    assert f"(records have: question, answer; {check}" in message
