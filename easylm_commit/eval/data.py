"""Load the paper's QA test sets (and MLQA's dev set) as flat SQuAD-style records, from the hub or
from local files.

Every task sees the same columns: ``id``, ``context``, ``question``, ``answers`` (``{"text":
[...]}``; an empty list or an empty string marks an unanswerable question) and ``lang`` (the
answer language, which the metric needs).

Where the data comes from (``datasets`` 5 no longer runs dataset loading scripts, and MLQA and
IndicQA are published on the hub only as scripts, so their data files are read directly):

- XQuAD (el, hi, th): ``google/xquad``, configs ``xquad.<lang>``, split ``validation`` (the only
  one; 1190 questions per language).
- MLQA (hi): the official ``MLQA_V1.zip`` that ``facebook/mlqa``'s script downloads, file
  ``MLQA_V1/test/test-context-hi-question-hi.json`` (4918 questions), fetched and cached with
  ``datasets.DownloadManager``. Its ``dev`` split, ``MLQA_V1/dev/dev-context-hi-question-hi.json``
  (507 questions) from the same zip, is the validation set the paper chose α on (footnote 6).
- IndicQA (ta, bn): ``data/indicqa.<lang>.json`` of ``ai4bharat/IndicQA`` (the files its script
  reads, SQuAD format; the script calls them the ``test`` split), fetched with
  ``huggingface_hub``, pinned to ``INDICQA_REVISION``.

Local files (clusters without hub access, and the tests): a directory holding one file per set,
named after it (``SETS``): ``xquad_el``, ``xquad_hi``, ``xquad_th``, ``mlqa_hi``, ``indicqa_ta``,
``indicqa_bn`` and ``mlqa_hi_dev`` (MLQA's dev split), each ``.jsonl``, one JSON object per line
with ``context``, ``question``, ``answers`` (``{"text": [...]}``) and optionally ``id``, or
``.json`` in the nested SQuAD format of the original downloads (so
``MLQA_V1/dev/dev-context-hi-question-hi.json`` can be copied in as ``mlqa_hi_dev.json``). The directory
is chosen with ``easylm-commit eval --local-data DIR``, with lm-eval's
``--metadata '{"local_data": "DIR"}'``, or with the environment variable ``EASYLM_COMMIT_QA_DATA``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from easylm_commit.errors import UserError

if TYPE_CHECKING:
    import datasets

# benchmark -> languages the paper evaluates (Tables 2 and 6).
BENCHMARKS = {"mlqa": ("hi",), "xquad": ("el", "hi", "th"), "indicqa": ("ta", "bn")}
# Every set a task reads: name (also the local file's name) -> (benchmark, language, split).
# "test" is the set the paper reports (XQuAD's only split, which the hub calls validation);
# "dev" is MLQA's dev split, for choosing hyper-parameters, never reported as a result.
SETS = {f"{b}_{lang}": (b, lang, "test") for b, langs in BENCHMARKS.items() for lang in langs}
SETS["mlqa_hi_dev"] = ("mlqa", "hi", "dev")
LOCAL_DATA_ENV = "EASYLM_COMMIT_QA_DATA"
MLQA_URL = "https://dl.fbaipublicfiles.com/MLQA/MLQA_V1.zip"
INDICQA_REPO = "ai4bharat/IndicQA"
# The commit whose data/ holds the final IndicQA files ("update data", Nov 2022); later commits
# only touch the loading script and the card.
INDICQA_REVISION = "570d90ae4f7b64fe4fdd5f42fc9f9279b8c9fd9d"
# One question: id, context, question, answers ({"text": [...]}) and lang (module docstring).
QARecord = dict[str, Any]


def _features() -> datasets.Features:
    import datasets

    return datasets.Features(
        {
            "id": datasets.Value("string"),
            "context": datasets.Value("string"),
            "question": datasets.Value("string"),
            "answers": {"text": datasets.List(datasets.Value("string"))},
            "lang": datasets.Value("string"),
        }
    )


def set_name(benchmark: str, lang: str, split: str = "test") -> str:
    """``mlqa_hi`` for the test set, ``mlqa_hi_dev`` for MLQA's dev split."""
    return f"{benchmark}_{lang}" + ("" if split == "test" else f"_{split}")


def local_file(directory: str | os.PathLike[str], benchmark: str, lang: str,
               split: str = "test") -> Path | None:
    """The file of a set in a local data directory, or None if it has none."""
    for suffix in (".jsonl", ".json"):
        path = Path(directory) / f"{set_name(benchmark, lang, split)}{suffix}"
        if path.is_file():
            return path
    return None


def _answer_texts(answers: object, where: str) -> list[str]:
    # Flat files carry {"text": [...]}; SQuAD files carry [{"text": ..., "answer_start": ...}].
    if isinstance(answers, dict):
        answers = answers.get("text")
    elif isinstance(answers, list):
        answers = [a.get("text") if isinstance(a, dict) else a for a in answers]
    if not isinstance(answers, list) or not all(isinstance(a, str) for a in answers):
        raise UserError(f'{where}: field "answers" must be {{"text": [strings]}}')
    return answers


def _record(obj: object, where: str, lang: str, fallback_id: str) -> QARecord:
    if not isinstance(obj, dict):
        raise UserError(f"{where}: expected a JSON object")
    for field in ("context", "question"):
        if not isinstance(obj.get(field), str):
            raise UserError(f'{where}: field "{field}" missing or not a string')
    return {
        "id": str(obj.get("id", fallback_id)),
        "context": obj["context"],
        "question": obj["question"],
        "answers": {"text": _answer_texts(obj.get("answers", []), where)},
        "lang": lang,
    }


def read_jsonl(path: str | os.PathLike[str], lang: str) -> list[QARecord]:
    """Flat records from a JSONL file; errors name the file and line."""
    records = []
    with open(path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            where = f"{path}:{line_no}"
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise UserError(f"{where}: invalid JSON ({e.msg})") from None
            records.append(_record(obj, where, lang, fallback_id=f"{Path(path).stem}-{line_no}"))
    return records


def read_squad(path: str | os.PathLike[str], lang: str) -> list[QARecord]:
    """Flat records from a nested SQuAD-format file (``{"data": [{"paragraphs": [...]}]}``)."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except json.JSONDecodeError as e:
        raise UserError(f"{path}:{e.lineno}: invalid JSON ({e.msg})") from None
    if not isinstance(data, dict) or not isinstance(data.get("data"), list):
        raise UserError(f'{path}: expected SQuAD format, an object with a "data" list')
    records = []
    for a, article in enumerate(data["data"]):
        for p, paragraph in enumerate(article.get("paragraphs", [])):
            for q, qa in enumerate(paragraph.get("qas", [])):
                where = f"{path}: data[{a}].paragraphs[{p}].qas[{q}]"
                flat = dict(qa, context=paragraph.get("context"))
                records.append(_record(flat, where, lang, fallback_id=f"{a}-{p}-{q}"))
    return records


def read_file(path: str | os.PathLike[str], lang: str) -> list[QARecord]:
    """Flat records from either local format, told apart by the suffix (``.jsonl`` or not)."""
    path = Path(path)
    return read_jsonl(path, lang) if path.suffix == ".jsonl" else read_squad(path, lang)


def _from_hub(benchmark: str, lang: str, split: str) -> list[QARecord]:
    import datasets

    if benchmark == "xquad":
        ds = datasets.load_dataset("google/xquad", f"xquad.{lang}", split="validation")
        return [
            {"id": r["id"], "context": r["context"], "question": r["question"],
             "answers": {"text": list(r["answers"]["text"])}, "lang": lang}
            for r in ds
        ]
    if benchmark == "mlqa":
        root = datasets.DownloadManager().download_and_extract(MLQA_URL)
        name = f"{split}-context-{lang}-question-{lang}.json"
        return read_squad(Path(root) / "MLQA_V1" / split / name, lang)
    if benchmark == "indicqa":
        from huggingface_hub import hf_hub_download

        path = hf_hub_download(
            INDICQA_REPO, f"data/indicqa.{lang}.json",
            repo_type="dataset", revision=INDICQA_REVISION,
        )
        return read_squad(path, lang)
    raise ValueError(f"unknown benchmark {benchmark!r}")


def load_records(benchmark: str, lang: str, *, local_data: str | os.PathLike[str] | None = None,
                 split: str = "test") -> list[QARecord]:
    """The records of a set (``split`` "test" or, for MLQA, "dev") as a list of flat dicts.

    Args:
        local_data: a folder of local files (module docstring); default
            ``$EASYLM_COMMIT_QA_DATA``, else the hub.

    Raises:
        UserError: a set the paper does not use, a missing or empty local file.
    """
    name = set_name(benchmark, lang, split)
    if SETS.get(name) != (benchmark, lang, split):
        raise UserError(f"no {benchmark} {split} set for language {lang!r}")
    local_data = local_data or os.environ.get(LOCAL_DATA_ENV) or None
    if local_data is None:
        return _from_hub(benchmark, lang, split)
    path = local_file(local_data, benchmark, lang, split)
    if path is None:
        raise UserError(f"{local_data}: no {name}.jsonl or {name}.json (local QA data directory)")
    records = read_file(path, lang)
    if not records:
        raise UserError(f"{path}: no records")
    return records


def load_qa(benchmark: str, lang: str, local_data: str | None = None, split: str = "test",
            **_metadata: object) -> datasets.DatasetDict:
    """lm-eval ``custom_dataset`` hook: a DatasetDict with one split, ``test`` for a test set
    and ``validation`` for MLQA's dev set (the dev tasks set ``validation_split``).

    lm-eval calls it with the task's ``dataset_kwargs`` (``benchmark``, ``lang``, ``split``) and
    all of its metadata (``local_data`` if given, the model arguments, the task version...),
    hence ``**_metadata``.
    """
    import datasets

    records = load_records(benchmark, lang, local_data=local_data, split=split)
    key = "validation" if split == "dev" else "test"
    return datasets.DatasetDict({key: datasets.Dataset.from_list(records, features=_features())})
