"""The fourteen lm-eval tasks, end to end: `easylm-commit eval` on a random-weight tiny LLaMA.

The model and a SentencePiece tokenizer are built here (no hub); the test sets are the small
fixtures in tests/fixtures/qa (the documented local-data layout). The scores of random weights
are meaningless; what is checked is that every task loads its data, prompts, generates and
reports exact_match and f1 through the same path users take.
"""

import json
from pathlib import Path

import pytest
import yaml

from easylm_commit.cli import main
from easylm_commit.errors import UserError
from easylm_commit.eval import DATASETS, GROUPS, SETS, TABLES, TASKS, task_set, tasks_dir
from easylm_commit.eval.data import load_records, read_squad
from easylm_commit.eval.harness import check_local_data, expand_tasks
from easylm_commit.eval.prompts import qa_prompt
from easylm_commit.templates import TEMPLATES

FIXTURES = Path(__file__).parent / "fixtures" / "qa"


@pytest.fixture(scope="module")
def tiny_llama(tmp_path_factory, llama_tokenizer_dir):
    """A HF directory with a 2-layer, 64-wide random LLaMA and the session's test tokenizer
    (SentencePiece with byte fallback, so Tamil and Bengali encode too)."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    root = tmp_path_factory.mktemp("tiny_llama")
    tokenizer = AutoTokenizer.from_pretrained(llama_tokenizer_dir)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=64, intermediate_size=128, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=4, max_position_embeddings=1024,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
    )
    model_dir = root / "model"
    LlamaForCausalLM(config).save_pretrained(model_dir)
    tokenizer.save_pretrained(model_dir)
    return model_dir


def test_every_task_runs_through_lm_eval_and_reports_em_and_f1(tiny_llama, tmp_path, capsys):
    out = tmp_path / "results.json"
    status = main([
        "eval", "--model-path", str(tiny_llama),
        "--tasks", "commit_qa,commit_qa_en,commit_indicqa,commit_indicqa_en,"
                   "commit_mlqa_hi_dev,commit_mlqa_hi_dev_en",
        "--local-data", str(FIXTURES), "--limit", "2", "--batch-size", "4",
        "--output", str(out), "--log-samples",
    ])
    assert status == 0
    results = json.loads(out.read_text(encoding="utf-8"))
    for task in TASKS:
        metrics = results["results"][task]
        assert 0.0 <= metrics["exact_match,none"] <= 1.0
        assert 0.0 <= metrics["f1,none"] <= 1.0
        assert results["n-samples"][task]["effective"] == 2
    for group in GROUPS:
        assert "exact_match,none" in results["results"][group]
    # Zero-shot, greedy, short answers cut at the first newline.
    config = results["configs"]["commit_xquad_th"]
    assert config["num_fewshot"] == 0
    gen = config["generation_kwargs"]
    assert gen["do_sample"] is False and gen["until"] == ["\n"] and gen["max_gen_toks"] == 32

    samples = [json.loads(line) for line in out.with_suffix(".samples.jsonl").open()]
    assert len(samples) == 2 * len(TASKS)
    prompts = {s["task"]: s["prompt"] for s in samples if s["doc_id"] == 0}
    # The training template of the prompt language, up to the response header.
    th_context = "กรุงเทพมหานครเป็นเมืองหลวงของประเทศไทย"
    th_question = "เมืองหลวงของประเทศไทยคืออะไร"
    assert prompts["commit_xquad_th"] == qa_prompt(th_context, th_question, "th")
    assert prompts["commit_xquad_th_en"] == qa_prompt(th_context, th_question, "en")
    assert prompts["commit_mlqa_hi"].endswith("### उत्तर:")
    # The dev tasks read MLQA's dev file, as lm-eval's validation split.
    assert results["configs"]["commit_mlqa_hi_dev"]["validation_split"] == "validation"
    dev_ids = {s["id"] for s in samples if s["task"] == "commit_mlqa_hi_dev"}
    assert dev_ids == {"mlqa-dev-1", "mlqa-dev-2"}
    out = capsys.readouterr().out
    assert "**Table 2**" in out and "**Table 6**" in out and "**Validation**" in out


def test_prompt_is_the_training_alpaca_template_with_context_and_question():
    prompt = qa_prompt(" Ο Παρθενώνας χτίστηκε τον 5ο αιώνα π.Χ. ", "Πότε χτίστηκε;", "el")
    assert prompt == TEMPLATES["el"]["prompt_input"].format(
        instruction="Απαντήστε στην ερώτηση με βάση το δοσμένο κείμενο.",
        input="Κείμενο: Ο Παρθενώνας χτίστηκε τον 5ο αιώνα π.Χ.\nΕρώτηση: Πότε χτίστηκε;",
    )
    english = qa_prompt("c", "q", "en")
    assert english.startswith("Below is an instruction that describes a task, paired with")
    assert english.endswith("### Input:\nContext: c\nQuestion: q\n\n### Response:")


def test_task_files_are_one_include_and_a_few_lines_each():
    files = {p.stem: p for p in Path(tasks_dir()).glob("commit_*.yaml")}
    assert sorted(files) == sorted(TASKS)
    for task, path in files.items():
        text = path.read_text(encoding="utf-8")
        cfg = yaml.safe_load(text.replace("!function ", ""))
        benchmark, lang, split = SETS[task_set(task)]
        assert cfg["include"] == "_commit_qa_template_yaml"
        assert cfg["task"] == task
        kwargs = {"benchmark": benchmark, "lang": lang}
        assert cfg["dataset_kwargs"] == (kwargs if split == "test" else dict(kwargs, split=split))
        assert (cfg.get("doc_to_text") == "utils.prompt_en") == task.endswith("_en")
        # Only IndicQA has unanswerable questions; MLQA and XQuAD score as their scripts do.
        unanswerable = cfg.get("process_results") == "utils.process_results_unanswerable"
        assert unanswerable == (benchmark == "indicqa")


def test_groups_are_the_papers_tables_in_its_column_order():
    assert TABLES == {"Table 2": ("mlqa_hi", "xquad_hi", "xquad_th", "xquad_el"),
                      "Table 6": ("indicqa_ta", "indicqa_bn")}
    for group, table in (("commit_qa", "Table 2"), ("commit_indicqa", "Table 6")):
        for suffix in ("", "_en"):
            cfg = yaml.safe_load((Path(tasks_dir()) / f"_{group}{suffix}.yaml").read_text())
            assert cfg["group"] == f"{group}{suffix}"
            assert cfg["task"] == [f"commit_{d}{suffix}" for d in TABLES[table]]
            assert tuple(cfg["task"]) == GROUPS[f"{group}{suffix}"]
            assert {m["metric"] for m in cfg["aggregate_metric_list"]} == {"exact_match", "f1"}
            assert all(m["weight_by_size"] is False for m in cfg["aggregate_metric_list"])


def test_lm_evals_own_task_manager_resolves_the_groups_and_the_dev_tasks():
    from lm_eval.tasks import TaskManager

    manager = TaskManager(include_path=tasks_dir(), include_defaults=False,
                          metadata={"local_data": str(FIXTURES)})
    assert sorted(manager.all_groups) == sorted(GROUPS)
    assert {"commit_mlqa_hi_dev", "commit_mlqa_hi_dev_en"} <= set(manager.all_subtasks)
    loaded = manager.load(["commit_qa", "commit_indicqa_en", "commit_mlqa_hi_dev"])
    assert loaded["group_map"] == {
        "commit_qa": ["commit_mlqa_hi", "commit_xquad_hi", "commit_xquad_th", "commit_xquad_el"],
        "commit_indicqa_en": ["commit_indicqa_ta_en", "commit_indicqa_bn_en"],
    }
    dev = loaded["tasks"]["commit_mlqa_hi_dev"]
    assert [d["id"] for d in dev.eval_docs] == ["mlqa-dev-1", "mlqa-dev-2", "mlqa-dev-3"]
    assert set(DATASETS) == {task_set(t) for t in GROUPS["commit_qa"] + GROUPS["commit_indicqa"]}


def test_local_squad_file_is_flattened_with_every_reference():
    records = read_squad(FIXTURES / "mlqa_hi.json", "hi")
    assert [r["id"] for r in records] == ["mlqa-1", "mlqa-2", "mlqa-3"]
    assert records[1]["context"].startswith("मुंबई")
    assert records[1]["answers"] == {"text": ["बड़ा शहर"]}
    assert all(r["lang"] == "hi" for r in records)


def test_mlqa_dev_set_is_its_own_local_file():
    dev = load_records("mlqa", "hi", local_data=FIXTURES, split="dev")
    test = load_records("mlqa", "hi", local_data=FIXTURES)
    assert [r["id"] for r in dev] == ["mlqa-dev-1", "mlqa-dev-2", "mlqa-dev-3"]
    assert not {r["id"] for r in dev} & {r["id"] for r in test}
    with pytest.raises(UserError, match="no xquad dev set"):
        load_records("xquad", "hi", local_data=FIXTURES, split="dev")


def test_unanswerable_fixture_questions_load_as_empty_gold():
    ta = load_records("indicqa", "ta", local_data=FIXTURES)
    bn = load_records("indicqa", "bn", local_data=FIXTURES)
    assert ta[1]["answers"]["text"] == [""] and bn[2]["answers"]["text"] == []


def test_bad_local_data_is_a_user_error_naming_the_file(tmp_path):
    with pytest.raises(UserError, match="indicqa_bn"):
        check_local_data(tmp_path, ["commit_indicqa_bn_en"])
    with pytest.raises(UserError, match=r"no mlqa_hi_dev\.jsonl or mlqa_hi_dev\.json"):
        check_local_data(tmp_path, ["commit_mlqa_hi_dev"])
    bad = tmp_path / "xquad_el.jsonl"
    bad.write_text('{"context": "c", "question": "q", "answers": {"text": ["a"]}}\n{oops\n')
    with pytest.raises(UserError, match=r"xquad_el\.jsonl:2"):
        load_records("xquad", "el", local_data=tmp_path)
    bad.write_text('{"context": "c", "answers": {"text": ["a"]}}\n')
    with pytest.raises(UserError, match=r'xquad_el\.jsonl:1: field "question"'):
        load_records("xquad", "el", local_data=tmp_path)


def test_unknown_task_names_are_refused_with_the_valid_ones():
    assert expand_tasks("commit_qa, commit_xquad_th_en") == ["commit_qa", "commit_xquad_th_en"]
    with pytest.raises(UserError, match="commit_xquad_de.*commit_qa_en"):
        expand_tasks("commit_xquad_de")


def test_eval_cli_errors_are_one_line_and_exit_2(tmp_path, capsys):
    status = main(["eval", "--model-path", str(tmp_path / "missing"), "--tasks", "commit_qa",
                   "--output", str(tmp_path / "r.json")])
    assert status == 2
    err = capsys.readouterr().err
    assert "missing: not a Hugging Face model directory" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "r.json").exists()
