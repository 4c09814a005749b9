"""The one record transform (``transform.RecordTransform``) and its seams.

A record becomes a ``Sample`` (the formatter: the prompt's pieces named and masked, the
response trained on), then tokens and a loss mask (the tokenizer); ``packing.Packed`` packs
whatever makes the examples. Each hand-over checks its contract and says which side broke it.
Both dataset types and the ``mix``, ``preview`` and ``stats`` commands go through it.
"""

import itertools
import json

import numpy as np
import pytest

from easylm_commit import demo
from easylm_commit.dictionary import BilingualDictionary
from easylm_commit.errors import InvalidRecord, UserError
from easylm_commit.mixer import CodeMixer
from easylm_commit.packing import Packed, Packer
from easylm_commit.records import BadRecords, Item, read
from easylm_commit.templates import Formatter, TextFormatter
from easylm_commit.transform import Chunk, RecordTransform


@pytest.fixture(scope="module")
def tokenizer(llama_tokenizer_dir):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(llama_tokenizer_dir)


@pytest.fixture(scope="module")
def mixer():
    return CodeMixer(BilingualDictionary.load(demo.DEMO_DICTIONARY), 0.9, seed=0)


def _encode(tokenizer, text):
    return tokenizer(text, add_special_tokens=False)["input_ids"] if text else []


# -- record -> Sample -> tokens and loss mask --------------------------------------------------

def test_an_instruction_record_is_masked_up_to_its_response(tokenizer, mixer):
    record = {"instruction": "What is the capital of India?", "input": "", "output": "New Delhi is."}
    transform = RecordTransform(Formatter(mixer), tokenizer)
    sample = transform.sample(record, (0, 3))
    assert [kind for _, kind in sample.prompt_segments] == ["template", "instruction", "template"]
    assert "".join(text for text, _ in sample.prompt_segments) == sample.prompt
    ((tokens, masks),) = transform.tokens([sample.prompt_segments], [sample.response])
    prompt, response = _encode(tokenizer, sample.prompt), _encode(tokenizer, sample.response)
    assert tokens.tolist() == [tokenizer.bos_token_id, *prompt, *response, tokenizer.eos_token_id]
    assert masks.tolist() == [0.0] * (1 + len(prompt)) + [1.0] * (len(response) + 1)


def test_a_corpus_record_is_all_response_but_its_bos(tokenizer, mixer):
    transform = RecordTransform(TextFormatter(CodeMixer(mixer.dictionary.reversed(), 0.5), "text"),
                                tokenizer)
    sample = transform.sample({"text": "पानी नदी में है।"}, (1, 0))
    assert sample.prompt_segments == [] and sample.prompt == ""
    ((tokens, masks),) = transform.tokens([sample.prompt_segments], [sample.response])
    text = _encode(tokenizer, sample.response)
    assert tokens.tolist() == [tokenizer.bos_token_id, *text, tokenizer.eos_token_id]
    assert masks.tolist() == [0.0] + [1.0] * (len(text) + 1)


def test_a_chunk_holds_each_good_records_example_and_counts_the_bad(tokenizer, mixer):
    records = [{"instruction": "Name a river.", "output": "The Ganga."},
               {"instruction": "", "output": "no instruction"},
               InvalidRecord("invalid JSON line (Expecting value)"),
               {"instruction": "Name a city.", "input": "in India", "output": "Delhi."}]
    items = [Item(2, p, 10 + p, r, f"record {10 + p}") for p, r in enumerate(records)]
    transform = RecordTransform(Formatter(mixer), tokenizer)
    chunk = transform(items)
    assert [(e, p) for e, p, _, _ in chunk.examples] == [(2, 0), (2, 3)]
    assert chunk.skipped == 2 and chunk.start == (2, 0)
    assert chunk.bad.first == "record 11: field 'instruction' is missing, empty or not a string"
    # Each example is the transform of its record under the key (epoch, row).
    sample = transform.sample(records[3], (2, 13))
    ((tokens, masks),) = transform.tokens([sample.prompt_segments], [sample.response])
    assert np.array_equal(chunk.examples[1][2], tokens) and np.array_equal(chunk.examples[1][3], masks)
    assert chunk.words == sum(transform.sample(r, (2, 10 + p)).words for p, r in enumerate(records)
                              if p in (0, 3))
    with pytest.raises(UserError, match="^record 11: field 'instruction'"):
        RecordTransform(Formatter(mixer), tokenizer, strict=True)(items)


def test_a_chunk_survives_pickling_as_worker_processes_send_it(tokenizer, mixer):
    import pickle

    items = [Item(0, p, p, r, f"record {p}") for p, r in enumerate(json.load(open(
        demo.DEMO_INSTRUCTIONS, encoding="utf-8"))[:5])]
    chunk = RecordTransform(Formatter(mixer), tokenizer)(items)
    again = pickle.loads(pickle.dumps(chunk))
    assert isinstance(again, Chunk) and (again.words, again.replaced) == (chunk.words, chunk.replaced)
    for (e, p, t, m), (e2, p2, t2, m2) in zip(chunk.examples, again.examples):
        assert (e, p) == (e2, p2) and t.tolist() == t2.tolist() and m.tolist() == m2.tolist()


def test_commands_and_datasets_read_the_same_items(tmp_path):
    """``records.read`` (the commands) gives record i of a file the key (epoch, i) that the
    datasets give it, so a record is mixed alike everywhere."""
    path = tmp_path / "a.jsonl"
    path.write_text('{"instruction": "a", "output": "b"}\n\nnot json\n{"x": 1}\n', encoding="utf-8")
    items = list(read(str(path), epoch=3))
    assert [(i.epoch, i.position, i.row, i.where) for i in items] == [
        (3, 0, 0, f"{path}:1"), (3, 1, 1, f"{path}:3"), (3, 2, 2, f"{path}:4")]
    assert isinstance(items[1].record, InvalidRecord) and items[2].record == {"x": 1}


def test_a_bad_row_of_a_dataset_comes_as_an_invalid_record(tmp_path):
    pytest.importorskip("datasets")
    from easylm_commit.sources import RecordStream, load_records

    path = tmp_path / "a.jsonl"
    path.write_text('{"instruction": "a", "output": "b"}\nnot json\n', encoding="utf-8")
    stream = RecordStream(load_records(str(path)), where=str(path))
    good, bad = stream.read(0, 0, 2)
    assert good.record == {"instruction": "a", "output": "b"} and good.where == "record 0"
    assert isinstance(bad.record, InvalidRecord) and f"{path}:2: invalid JSON line" in str(bad.record)


# -- the contracts at the seams ----------------------------------------------------------------

def test_a_formatter_must_return_a_sample(mixer):
    class Upper:
        mixer = None
        mode = "text"

        def format(self, record, key=(), report=False):
            return record["text"].upper()

    transform = RecordTransform(Upper())
    with pytest.raises(TypeError, match="Upper.format returned a str, not a templates.Sample"):
        list(transform.samples([Item(0, 0, 0, {"text": "a"}, "record 0")], BadRecords()))
    with pytest.raises(TypeError, match="needs a format"):
        RecordTransform(object())


def test_a_tokenizer_without_bos_or_eos_is_refused_in_one_line(tokenizer, mixer):
    class NoBos:
        bos_token_id, eos_token_id = None, 2

    with pytest.raises(UserError, match="the tokenizer \\(NoBos\\) has no BOS or EOS token"):
        RecordTransform(Formatter(mixer), NoBos())
    with pytest.raises(ValueError, match="no tokenizer"):
        RecordTransform(Formatter(mixer)).tokens([[("a", "template")]], ["b"])
    with pytest.raises(ValueError, match="1 prompts for 2 responses"):
        RecordTransform(Formatter(mixer), tokenizer).tokens([[("a", "template")]], ["b", "c"])


def test_packing_refuses_an_example_whose_tokens_and_masks_differ():
    packer = Packer(1, 4)
    with pytest.raises(ValueError, match="epoch 0, position 7 has 3 tokens but 2 loss masks"):
        packer.add(0, 7, np.arange(3, dtype=np.int32), np.ones(2, dtype=np.float32))


# -- packing wraps any transform -----------------------------------------------------------------

class Counting:
    """A stand-in transform: record i of each epoch is tokens ``[100 * epoch + i] * (i % 3 + 1)``
    with the loss on all of them; chunks of 4 records, 10 records an epoch."""

    def chunks(self, epoch, position):
        while True:
            for start in range(position - position % 4, 10, 4):
                examples = [(epoch, i, np.full(i % 3 + 1, 100 * epoch + i, np.int32),
                             np.ones(i % 3 + 1, np.float32))
                            for i in range(max(start, position), min(start + 4, 10))]
                yield Chunk(examples, words=len(examples), replaced=1, start=(epoch, examples[0][1]))
            epoch, position = epoch + 1, 0


def test_packed_packs_whatever_makes_the_examples_and_resumes_exactly():
    stream = []
    for epoch in range(3):
        for i in range(10):
            stream += [100 * epoch + i] * (i % 3 + 1)
    reference = list(itertools.islice(Packed(Counting().chunks, batch_size=2, seq_length=3), 6))
    for n, (batch, metrics) in enumerate(reference):
        assert batch["input_tokens"].ravel().tolist() == stream[6 * n:6 * n + 6]
        assert batch["target_tokens"].ravel().tolist() == stream[6 * n + 1:6 * n + 7]
        assert batch["input_tokens"].shape == (2, 3) and batch["loss_masks"].dtype == np.float32
        assert metrics["dataset_total_tokens"] == 6 * (n + 1)

    first = Packed(Counting().chunks, batch_size=2, seq_length=3)
    assert [m for _, m in itertools.islice(first, 2)] == [m for _, m in reference[:2]]
    resumed = Packed(Counting().chunks, batch_size=2, seq_length=3)
    resumed.load_state(dict(first.state))
    for (b, m), (rb, rm) in zip(itertools.islice(resumed, 4), reference[2:]):
        assert np.array_equal(b["input_tokens"], rb["input_tokens"]) and m == rm


def test_packed_stops_when_a_whole_epoch_gives_no_example():
    def nothing(epoch, position):
        while True:
            bad = BadRecords()
            bad.apply("record 0", lambda r: r, InvalidRecord("field 'text' is missing"))
            yield Chunk([], skipped=1, start=(epoch, 0), bad=bad)
            epoch += 1

    packed = Packed(nothing, batch_size=1, seq_length=4, source="corpus.jsonl",
                    check="check text_field=text")
    with pytest.raises(UserError, match="no batch can be made: every record of corpus.jsonl skipped: "
                                        "field 'text' is missing \\(check text_field=text\\)"):
        next(iter(packed))
