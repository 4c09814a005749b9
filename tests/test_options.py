"""Each dataset option is declared once (``easylm_commit/options.py``) and everything else
follows from the declaration: the EasyLM config of both types, the commands' flags, the checks
of a value, the flags ``plan`` writes, the keys a pod compares and a resume warns about, and
README's table. These tests prove the rest followed; CONTRIBUTING.md names them."""

import argparse
import importlib
import os
import re
import sys
from pathlib import Path

import pytest

from easylm_commit import cli, demo, options
from easylm_commit.errors import UserError
from easylm_commit.options import CODEMIX_CLM, COMMIT, OPTIONS, TYPES

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
# `--train_dataset.<type>.<key>` where the key is written out (not an f-string's {name}).
DATASET_FLAG = re.compile(r"--train_dataset\.(commit|codemix_clm)\.([A-Za-z_]\w*)")
COMMANDS = ("mix", "stats", "preview", "plan")


def _command_parsers():
    parser, sub = cli.build_parser()
    for name in COMMANDS:
        importlib.import_module(f"easylm_commit.commands.{cli.COMMANDS[name]}").add_arguments(sub.choices[name])
        yield name, sub.choices[name]


# -- the EasyLM config ------------------------------------------------------------------------

@pytest.mark.parametrize("dataset_type", TYPES)
def test_get_default_config_holds_every_declared_option_of_the_type_and_nothing_else(dataset_type):
    pytest.importorskip("mlxu")
    from easylm_commit.dataset_types import DATASET_TYPES

    config = DATASET_TYPES[dataset_type].get_default_config()
    declared = {o.name: o for o in options.options_of(dataset_type)}
    assert set(config) == set(declared)
    for name, option in declared.items():
        # The type decides how EasyLM's flag parses a value: an alpha of 1 must stay a float.
        assert type(config[name]) is option.type and config[name] == option.defaults[dataset_type], name
    updated = DATASET_TYPES[dataset_type].get_default_config(dict(seed=7))
    assert updated.seed == 7 and config.seed == 0


def test_options_of_one_type_only_are_absent_from_the_other():
    assert options.default("mode", COMMIT) == "commit"
    assert options.default("text_field", CODEMIX_CLM) == "text"
    for name, dataset_type in (("mode", CODEMIX_CLM), ("text_field", COMMIT), ("alpah", COMMIT)):
        with pytest.raises(ValueError, match=name):
            options.default(name, dataset_type)


def test_a_declaration_that_contradicts_itself_fails_when_it_is_made():
    with pytest.raises(TypeError, match="the commit default 1 is not float"):
        options.Option("x", float, {COMMIT: 1}, "an int default for a float option")
    with pytest.raises(UserError, match=r"must be in \[0, 1\]"):
        options.Option("x", float, {COMMIT: 2.0}, "a default outside its range", minimum=0, maximum=1)
    with pytest.raises(ValueError, match="flag --x cannot change the default True"):
        options.Option("x", bool, {COMMIT: True}, "a switch that cannot be turned off",
                       flag=options.Flag("--x"))
    with pytest.raises(ValueError, match="dataset types \\['json'\\]"):
        options.Option("x", str, {"json": ""}, "a type that does not exist")


# -- checks -----------------------------------------------------------------------------------

def _dataset(**config):
    pytest.importorskip("mlxu")
    from easylm_commit.dataset_types import CommitDataset

    return CommitDataset(CommitDataset.get_default_config(config), tokenizer=None)


def _mixer(alpha):
    from easylm_commit.mixer import CodeMixer

    return CodeMixer(None, alpha)


def _mix(capsys, *argv):
    assert cli.main(["mix", *argv]) == 2
    raise UserError(capsys.readouterr().err)


def _plan(tmp_path, *argv):
    from easylm_commit.commands import plan

    parser = argparse.ArgumentParser()
    plan.add_arguments(parser)
    plan.resolve(parser.parse_args(["--demo", "--hf-model", str(tmp_path), "--out", str(tmp_path), *argv]))


# Everywhere an alpha enters: the same range, the same message, naming the option as it was
# given. Each entry: (capsys, tmp_path) -> raises.
ALPHA_ENTRIES = {
    "dataset config": (lambda capsys, tmp_path: _dataset(alpha=1.5), "alpha must be in [0, 1], got 1.5"),
    "CodeMixer": (lambda capsys, tmp_path: _mixer(-0.1), "alpha must be in [0, 1], got -0.1"),
    "mix --alpha": (lambda capsys, tmp_path: _mix(capsys, "--demo", "--alpha", "1.5"),
                    "--alpha must be in [0, 1], got 1.5"),
    "plan --alpha": (lambda capsys, tmp_path: _plan(tmp_path, "--alpha", "2"),
                     "--alpha must be in [0, 1], got 2.0"),
    "easylm_flags": (lambda capsys, tmp_path: options.easylm_flags(COMMIT, alpha=1.5),
                     "--train_dataset.commit.alpha must be in [0, 1], got 1.5"),
}


@pytest.mark.parametrize("entry", list(ALPHA_ENTRIES))
def test_alpha_is_checked_against_the_declared_range_wherever_it_enters(entry, capsys, tmp_path):
    make, message = ALPHA_ENTRIES[entry]
    with pytest.raises(UserError) as raised:
        make(capsys, tmp_path)
    assert message in str(raised.value)


@pytest.mark.parametrize("updates, message", [
    (dict(seq_length=0), "seq_length must be at least 1, got 0"),
    (dict(batch_size=-2), "batch_size must be at least 1, got -2"),
    (dict(records_per_chunk=0), "records_per_chunk must be at least 1, got 0"),
    (dict(mode="mixed"), "unknown mode 'mixed' (choose from commit, naive, none)"),
    (dict(segmenter="icu"), "unknown segmenter 'icu' (choose from default, regex, thai)"),
])
def test_a_dataset_config_is_checked_against_every_declared_constraint(updates, message):
    with pytest.raises(UserError) as raised:
        _dataset(**updates)
    assert str(raised.value) == message


def test_the_mixers_segmenters_and_the_formatters_modes_are_the_declared_choices():
    from easylm_commit.mixer import SEGMENTERS
    from easylm_commit.templates import MODES

    assert sorted(SEGMENTERS) == list(OPTIONS["segmenter"].choices)
    assert MODES == OPTIONS["mode"].choices


# -- command-line flags -----------------------------------------------------------------------

def test_every_declared_flag_is_on_a_command_line_as_declared():
    seen = {}
    for command, parser in _command_parsers():
        for action in parser._actions:
            option = OPTIONS.get(action.dest)
            if option is None or option.flag is None:
                continue
            # A flag that stores into an option's name is that option's, spelt as declared.
            assert action.option_strings == [option.flag.spelling], (command, action.dest)
            if option.type is bool:
                assert action.default is option.cli_default, (command, action.dest)
            elif option.type is not str:
                assert action.type is option.type, (command, action.dest)
            seen.setdefault(option.name, []).append(command)
    assert set(seen) == {o.name for o in OPTIONS.values() if o.flag is not None}
    assert seen["alpha"] == list(COMMANDS)  # and plan's --alpha, with COMMIT's default
    assert seen["batch_size"] == ["stats", "plan"]


def test_the_commands_take_the_type_default_alpha_for_what_they_mix():
    from easylm_commit.commands._common import build_mixer

    for command, parser in _command_parsers():
        if command == "plan":
            assert parser.parse_args(["--hf-model", "m", "--out", "o"]).alpha == options.default("alpha", COMMIT)
            continue
        for argv, dataset_type in (([], COMMIT), (["--text-field", "text"], CODEMIX_CLM)):
            args = parser.parse_args(["--dictionary", demo.DEMO_DICTIONARY, *argv])
            assert args.alpha is None
            assert build_mixer(args).alpha == options.default("alpha", dataset_type)


# -- EasyLM flags written by plan and the examples ----------------------------------------------

def test_easylm_flags_refuse_a_key_the_type_lacks_and_a_value_of_another_type():
    assert options.easylm_flags(CODEMIX_CLM, text_field="body", alpha=0) == [
        "--train_dataset.codemix_clm.text_field=body", "--train_dataset.codemix_clm.alpha=0"]
    with pytest.raises(ValueError, match="text_field"):
        options.easylm_flags(COMMIT, text_field="body")
    with pytest.raises(ValueError, match="alpah"):
        options.easylm_flags(COMMIT, alpah=0.9)
    with pytest.raises(ValueError, match="json"):
        options.easylm_flags("json", path="x")
    with pytest.raises(TypeError, match="seq_length"):
        options.easylm_flags(COMMIT, seq_length="512")


def test_the_dataset_flags_plan_writes_parse_in_easylm_into_the_values_written(tmp_path, monkeypatch):
    pytest.importorskip("mlxu")
    from conftest import TINY_HF_CONFIG, parse_as_easylm

    from easylm_commit import experiment
    from easylm_commit.commands import plan

    parser = argparse.ArgumentParser()
    plan.add_arguments(parser)
    args = parser.parse_args(["--demo", "--hf-model", str(tmp_path), "--out", str(tmp_path),
                              "--runs", "commit,align+commit,clm+commit", "--target", "th"])
    plan.resolve(args)
    steps = experiment.build_steps(args, TINY_HF_CONFIG, {("instructions", "commit", "en"): 3})
    for step in steps:
        written = [a for a in step.argv if a.startswith("--train_dataset.") and "type=" not in a]
        if not written:
            continue
        train_dataset = parse_as_easylm(written, monkeypatch)
        for flag in written:
            dataset_type, key, text = re.fullmatch(r"--train_dataset\.(\w+)\.(\w+)=(.*)", flag).groups()
            value = train_dataset[dataset_type][key]
            assert type(value) is OPTIONS[key].type and str(value) == text, flag
    assert any("--train_dataset.codemix_clm.segmenter=thai" in s.argv for s in steps)


def _dataset_flags_in(paths):
    """``(file:line, type, key)`` of every dataset flag written in ``paths``."""
    found = []
    for path in paths:
        name = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            found += [(f"{name}:{number}", *m) for m in DATASET_FLAG.findall(line)]
    return found


def _undeclared(found):
    return [f"{where}: --train_dataset.{t}.{key}" for where, t, key in found
            if key not in {o.name for o in options.options_of(t)}]


def test_every_dataset_flag_in_readme_examples_and_code_names_a_declared_option():
    paths = [README, *sorted((ROOT / "examples").rglob("*.sh")), *sorted((ROOT / "examples").rglob("*.py")),
             *sorted((ROOT / "examples").rglob("*.md")), *sorted((ROOT / "easylm_commit").rglob("*.py"))]
    found = _dataset_flags_in(paths)
    wrong = _undeclared(found)
    assert not wrong, "not an option of that dataset type:\n" + "\n".join(wrong)
    # The scan sees what it is meant to: both types, in the scripts and the README.
    assert {t for _, t, _ in found} == set(TYPES)
    assert {where.split(":")[0] for where, _, _ in found} >= {"README.md", "examples/commit.sh", "examples/align.sh"}


def test_the_scan_would_catch_a_misspelt_or_misplaced_key(tmp_path):
    bad = tmp_path / "bad.sh"
    bad.write_text("run --train_dataset.commit.alpah=0.9 --train_dataset.commit.text_field=x\n")
    assert _undeclared(_dataset_flags_in([bad])) == [
        f"{bad}:1: --train_dataset.commit.alpah", f"{bad}:1: --train_dataset.commit.text_field"]


@pytest.mark.parametrize("script, dataset_type", [("commit.sh", COMMIT), ("align.sh", CODEMIX_CLM)])
def test_the_example_scripts_default_alpha_is_the_declared_one(script, dataset_type):
    text = (ROOT / "examples" / script).read_text(encoding="utf-8")
    default = re.search(r"^ALPHA=\$\{ALPHA:-([0-9.]+)\}$", text, re.M)
    assert default, f"examples/{script} sets no ALPHA default"
    assert float(default.group(1)) == options.default("alpha", dataset_type)


# -- the pod and the resume check --------------------------------------------------------------

def test_the_resume_check_and_the_pod_compare_the_declared_keys(tmp_path):
    from easylm_commit.dataset_types import _CONTENT_KEYS, CommitDataset

    assert set(_CONTENT_KEYS) == {o.name for o in OPTIONS.values() if o.changes_batches}
    dataset = CommitDataset(CommitDataset.get_default_config(
        dict(path=demo.DEMO_INSTRUCTIONS, dictionary=demo.DEMO_DICTIONARY)), tokenizer=None)
    items = dataset.host_agreement_items()
    by_value = {k for k, (_, what) in items.items() if what.startswith(f"{k}=")}
    assert by_value == {o.name for o in options.options_of(COMMIT) if not (o.per_host or o.file)}
    # Files by their contents (hosts may mount them elsewhere); what decides a batch is compared.
    assert {"dictionary contents", "template"} <= set(items)
    assert all(o.file or o.name in by_value for o in options.options_of(COMMIT) if o.changes_batches)


def test_a_state_saved_under_another_batch_changing_value_is_resumed_with_a_warning(caplog):
    dataset = _dataset(path=demo.DEMO_INSTRUCTIONS, dictionary=demo.DEMO_DICTIONARY, mode="none")
    state = dataset.get_state_dict()
    state["config"] = dict(state["config"], alpha=0.5, tokenizer_processes=4)
    with caplog.at_level("WARNING"):
        _dataset(path=demo.DEMO_INSTRUCTIONS, dictionary=demo.DEMO_DICTIONARY, mode="none").load_state_dict(state)
    said = caplog.text
    assert "alpha: saved 0.5, now 0.9" in said and "tokenizer_processes" not in said


# -- README -----------------------------------------------------------------------------------

def _readme_table():
    text = README.read_text(encoding="utf-8")
    section = text[text.index("### Dataset types"):]
    section = section[:section.index("\n#", 1)]
    lines = section.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("| key |"))
    end = next((i for i in range(start, len(lines)) if not lines[i].startswith("|")), len(lines))
    return "\n".join(lines[start:end]) + "\n"


def test_readmes_table_of_keys_is_the_generated_one(capsys):
    assert options.main(["--markdown"]) == 0
    generated = capsys.readouterr().out
    assert generated == options.markdown_table()
    assert _readme_table() == generated, (
        "README.md's table under 'Dataset types' differs from the declaration: paste the output "
        "of `python -m easylm_commit.options --markdown` there")


def test_the_table_lists_every_option_with_each_types_default():
    rows = {line.split(" | ")[0].strip("| `"): line for line in options.markdown_table().splitlines()[2:]}
    assert list(rows) == list(OPTIONS)
    assert rows["alpha"].startswith("| `alpha` | 0.9 | 0.5 |")
    assert rows["mode"].startswith("| `mode` | `commit` | – |")
    assert rows["text_field"].startswith("| `text_field` | – | `text` |")


# -- a misspelt key is an error, not a silent extra key (issue: unknown keys) -----------------
def test_a_misspelt_key_in_the_python_api_names_the_nearest_option():
    pytest.importorskip("mlxu")
    from easylm_commit.dataset_types import CodeMixCLMDataset, CommitDataset

    with pytest.raises(UserError, match=r"'alpah': dataset type commit has no option 'alpah' \(did you mean 'alpha'\?\)"):
        CommitDataset.get_default_config({"alpah": 0.5})
    with pytest.raises(UserError, match="codemix_clm has no option 'mode'"):
        CodeMixCLMDataset.get_default_config({"mode": "naive"})  # an option of commit only
    assert CommitDataset.get_default_config({"alpha": 0.5}).alpha == 0.5


def test_a_misspelt_easylm_flag_stops_the_launcher_with_one_line_before_easylm_starts(tmp_path):
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "EASYLM_DIR"}  # refused before EasyLM is needed
    proc = subprocess.run(
        [sys.executable, "-m", "easylm_commit.llama_train", "--train_dataset.type=commit",
         "--train_dataset.commit.dictionry=en-hi.txt"],
        capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        "easylm_commit.llama_train: error: --train_dataset.commit.dictionry: dataset type commit "
        "has no option 'dictionry' (did you mean 'dictionary'?)"]
    # Other components' flags and other types are EasyLM's to check.
    options.check_flag_keys(["--train_dataset.json.path=x", "--llama.base_model=debug",
                             "--train_dataset.commit.alpha=0.9"])
