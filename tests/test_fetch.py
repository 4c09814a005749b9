"""``easylm-commit fetch`` (issue 24): every input of the paper, downloaded against a pin, into
the layout ``plan`` and ``eval`` read; resumable, atomic, and offline here: the tests build a
``file://`` (or loopback HTTP) mirror of small stand-in files and a manifest pinning them."""

import copy
import hashlib
import http.server
import json
import threading
import zipfile
from pathlib import Path

import pytest

from easylm_commit import demo, fetching
from easylm_commit.cli import main
from easylm_commit.eval.data import SETS, load_records

LANGS = ("hi", "th", "el", "ta", "bn")
ALL_LANGS = ",".join(LANGS)


def squad(lang, n=2):
    """A SQuAD-format file, as XQuAD, MLQA and IndicQA ship theirs."""
    paragraphs = [{"context": f"context {lang} {i} answer{i}",
                   "qas": [{"id": f"{lang}-{i}", "question": f"question {lang} {i}?",
                            "answers": [{"text": f"answer{i}", "answer_start": 0}]}]}
                  for i in range(n)]
    return json.dumps({"version": "1.1", "data": [{"title": lang, "paragraphs": paragraphs}]},
                      ensure_ascii=False).encode("utf-8")


def parquet_bytes(tmp_path, lang):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    texts = [json.loads(line)["text"]
             for line in Path(demo.DEMO_CORPUS).read_text(encoding="utf-8").splitlines()]
    table = pa.table({"id": [str(i) for i in range(len(texts))],
                      "title": [f"{lang} {i}" for i in range(len(texts))], "text": texts})
    path = tmp_path / f"wiki-{lang}.parquet"
    pq.write_table(table, path)
    return path.read_bytes()


def fake_content(tmp_path, sid, src):
    """Small bytes of the right kind for a manifest source."""
    if src["input"] == "dictionary":
        if src["lang"] == "hi":  # the demo's: it covers the demo records and corpus
            return Path(demo.DEMO_DICTIONARY).read_bytes()
        return f"water {src['lang']}-water\nfire {src['lang']}-fire\n".encode("utf-8")
    if src["input"] == "alpaca":
        return Path(demo.DEMO_INSTRUCTIONS).read_bytes()
    if src["input"] == "wiki":
        return parquet_bytes(tmp_path, src["lang"])
    if src.get("extract"):  # MLQA: a zip of SQuAD files
        path = tmp_path / "fake.zip"
        with zipfile.ZipFile(path, "w") as z:
            for member in src["extract"]:
                z.writestr(member, squad(member))
        return path.read_bytes()
    return squad(sid)


def pin(src, content):
    src["size"] = len(content)
    src["sha256"] = hashlib.sha256(content).hexdigest()
    if src.get("git_blob"):
        src["git_blob"] = hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


@pytest.fixture
def mirror(tmp_path):
    """``(mirror dir, manifest path, {id: content})``: the package's manifest with every pin
    replaced by the stand-in files' sizes and hashes, the files laid out as a mirror."""
    sources = fetching.load_manifest()
    root = tmp_path / "mirror"
    contents = {}
    for sid, src in sources.items():
        if not src.get("file"):
            continue
        content = fake_content(tmp_path, sid, src)
        contents[sid] = content
        path = root / src["file"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        pin(src, content)
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"sources": sources}), encoding="utf-8")
    return root, manifest, contents


def fetch(capsys, *argv):
    status = main(["fetch", *map(str, argv)])
    out, err = capsys.readouterr()
    return status, out, err


def file_lines(out):
    return [line.strip() for line in out.splitlines() if line.startswith("  ")]


# -- the layout --------------------------------------------------------------------------------

def test_fetch_all_writes_the_files_eval_and_plan_read(tmp_path, mirror, capsys):
    root, manifest, _ = mirror
    out = tmp_path / "inputs"
    status, stdout, err = fetch(capsys, "--langs", ALL_LANGS, "--out", out,
                                "--mirror", root.as_uri(), "--manifest", manifest)
    assert status == 0, err
    # one line per file, each verified against the test manifest's pin
    lines = file_lines(stdout)
    assert any(line.startswith("qa/mlqa_hi_dev.json:") and "extracted" in line for line in lines)
    downloaded = [line for line in lines if "bytes, done" in line]
    files = [s for s in fetching.load_manifest(manifest).values() if s.get("file")]
    assert len(downloaded) == len(files) == 16
    assert all("verified" in line for line in downloaded)
    assert "UNVERIFIED" not in stdout

    # eval: every test set of the five languages, and MLQA's dev set, found and read
    from easylm_commit.eval.harness import check_local_data
    from easylm_commit.experiment import default_tasks

    qa = out / "qa"
    for lang in LANGS:
        check_local_data(qa, default_tasks(lang))
    for name, (benchmark, lang, split) in SETS.items():
        assert load_records(benchmark, lang, local_data=str(qa), split=split), name

    # plan: its input checks on the fetched dictionary, Alpaca and Wikipedia shard
    from easylm_commit.cli import _load, build_parser
    from easylm_commit.commands import plan

    parser, sub = build_parser()
    _load("plan").add_arguments(sub.choices["plan"])
    args = parser.parse_args([
        "plan", "--target", "hi", "--hf-model", str(tmp_path / "llama"),
        "--dictionary", str(out / "en-hi.txt"), "--instructions", str(out / "alpaca_data.json"),
        "--corpus", str(out / "wiki" / "hi.jsonl"), "--qa-data", str(qa),
        "--steps-per-epoch", "1", "--out", str(tmp_path / "run")])
    plan.resolve(args)
    args.cache_writes = []
    found = []
    checks = plan.Checks(echo=found.append)
    plan.check_data(args, False, checks)
    plan.check_corpus(args, checks)
    check_local_data(args.qa_data, args.tasks)
    assert not checks.failed, checks.items
    assert any("en-hi.txt" in m and "pairs" in m for _, m in checks.items)
    assert any("alpaca_data.json" in m and "50 records" in m for _, m in checks.items)
    assert any("corpus hi.jsonl" in m and "72 records" in m for _, m in checks.items)

    # what could not be fetched is said: Greek Wikipedia has no pinned shard
    assert "wiki/el.jsonl: not fetched" in stdout
    assert "not fetched (no file in the manifest): wiki/el.jsonl" in err


def test_the_package_manifest_covers_every_set_and_language(tmp_path):
    """The real manifest (not the test's) writes what the readers look for."""
    sources = fetching.load_manifest()
    assert set(fetching.languages(sources)) == set(LANGS)
    for lang in LANGS:
        chosen = [s for _, s in fetching.select(sources, [lang], ["eval"])]
        written = {s["to"] for s in chosen if not s.get("extract")}
        written |= {to for s in chosen for to in (s.get("extract") or {}).values()}
        expected = {f"qa/{name}.json" for name, (_, l, _) in SETS.items() if l == lang}
        assert written == expected, lang
        (dictionary,) = [s for _, s in fetching.select(sources, [lang], ["dictionary"])]
        assert dictionary["to"] == f"en-{lang}.txt"
    for sid, src in sources.items():
        assert src.get("pinned_from"), sid
        if src.get("sha256"):
            assert src.get("size"), sid


# -- rerun, resume, mismatch -------------------------------------------------------------------

def test_a_rerun_skips_verified_files_without_downloading(tmp_path, mirror, capsys):
    root, manifest, _ = mirror
    out = tmp_path / "inputs"
    argv = ("--langs", "hi", "--inputs", "dictionary,eval", "--out", out,
            "--mirror", root.as_uri(), "--manifest", manifest)
    assert fetch(capsys, *argv)[0] == 0
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    for p in root.rglob("*"):  # nothing left to download from
        if p.is_file():
            p.unlink()
    status, stdout, err = fetch(capsys, *argv)
    assert status == 0, err
    lines = file_lines(stdout)
    assert len(lines) == 5  # en-hi.txt, xquad_hi, the zip and its two members
    assert all("skipped, already" in line for line in lines), lines
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == before


def test_a_truncated_partial_download_is_continued_not_restarted(tmp_path, mirror, capsys):
    root, manifest, contents = mirror
    out = tmp_path / "inputs"
    true = contents["xquad-th"]
    half = len(true) // 2
    (out / "qa").mkdir(parents=True)
    (out / "qa" / "xquad_th.json.part").write_bytes(true[:half])
    # The mirror's first half is now wrong: only a download that reads the rest and keeps
    # the partial file ends with the pinned bytes.
    (root / "xquad.th.json").write_bytes(b"x" * half + true[half:])
    status, stdout, err = fetch(capsys, "--langs", "th", "--inputs", "eval", "--out", out,
                                "--mirror", root.as_uri(), "--manifest", manifest)
    assert status == 0, err
    assert f"qa/xquad_th.json: {len(true):,} bytes, done, resumed, verified" in stdout
    assert (out / "qa" / "xquad_th.json").read_bytes() == true
    assert not (out / "qa" / "xquad_th.json.part").exists()


@pytest.mark.parametrize("corrupt, what", [
    (lambda b: b[:-1] + bytes([b[-1] ^ 1]), "sha256"),   # one byte changed
    (lambda b: b + b"\n", "size"),                          # one byte too many
])
def test_a_download_that_does_not_match_its_pin_is_one_line_exit_2_and_removed(
        tmp_path, mirror, capsys, corrupt, what):
    root, manifest, contents = mirror
    (root / "en-ta.txt").write_bytes(corrupt(contents["dictionary-ta"]))
    out = tmp_path / "inputs"
    status, stdout, err = fetch(capsys, "--langs", "ta", "--inputs", "dictionary", "--out", out,
                                "--mirror", root.as_uri(), "--manifest", manifest)
    assert status == 2
    (line,) = err.strip().splitlines()
    assert line.startswith(f"easylm-commit fetch: error: {out / 'en-ta.txt'}: {what} ")
    assert line.endswith("the download was removed")
    assert [p for p in out.rglob("*") if p.is_file()] == []


# -- where from --------------------------------------------------------------------------------

def test_mirror_replaces_every_base_url(tmp_path, mirror, capsys):
    _, manifest, _ = mirror
    sources = fetching.load_manifest(manifest)
    status, upstream, _ = fetch(capsys, "--langs", ALL_LANGS, "--out", tmp_path, "--dry-run",
                                "--manifest", manifest)
    assert status == 0
    for src in sources.values():
        if src.get("file"):
            assert f"{src['base']}/{src['file']} -> " in upstream
    status, mirrored, _ = fetch(capsys, "--langs", ALL_LANGS, "--out", tmp_path, "--dry-run",
                                "--manifest", manifest, "--mirror", "https://mirror.example/inputs/")
    urls = [line.split(": ", 1)[1].split(" -> ")[0] for line in mirrored.splitlines()
            if " -> " in line]
    assert len(urls) == sum(1 for s in sources.values() if s.get("file"))
    assert all(u.startswith("https://mirror.example/inputs/") for u in urls), urls
    assert not any(s["base"] in mirrored for s in sources.values())


class RangeHandler(http.server.BaseHTTPRequestHandler):
    """Serves one file, honouring ``Range: bytes=N-`` as a CDN does; records the ranges."""
    content = b""
    ranges = []

    def do_GET(self):  # noqa: N802 (http.server's name)
        start = 0
        header = self.headers.get("Range")
        type(self).ranges.append(header)
        if header:
            start = int(header.split("=")[1].rstrip("-"))
        body = self.content[start:]
        self.send_response(206 if header else 200)
        if header:
            self.send_header("Content-Range", f"bytes {start}-{len(self.content) - 1}/{len(self.content)}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_an_http_download_is_resumed_with_a_range_request(tmp_path, mirror, capsys, monkeypatch):
    _, manifest, contents = mirror
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    true = contents["xquad-el"]
    RangeHandler.content, RangeHandler.ranges = true, []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RangeHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        out = tmp_path / "inputs"
        (out / "qa").mkdir(parents=True)
        (out / "qa" / "xquad_el.json.part").write_bytes(true[:100])
        status, stdout, err = fetch(capsys, "--langs", "el", "--inputs", "eval", "--out", out,
                                    "--mirror", f"http://127.0.0.1:{server.server_port}",
                                    "--manifest", manifest)
    finally:
        server.shutdown()
        server.server_close()
    assert status == 0, err
    assert RangeHandler.ranges == ["bytes=100-"]
    assert "qa/xquad_el.json" in stdout and "resumed, verified" in stdout
    assert (out / "qa" / "xquad_el.json").read_bytes() == true


# -- what is not pinned, and what is not fetched -----------------------------------------------

def test_an_unpinned_file_is_fetched_reported_and_warned_about_once(tmp_path, mirror, capsys):
    root, manifest, contents = mirror
    data = json.loads(manifest.read_text(encoding="utf-8"))
    for sid in ("dictionary-bn", "indicqa-bn"):
        data["sources"][sid].update(size=None, sha256=None)
    manifest.write_text(json.dumps(data), encoding="utf-8")
    out = tmp_path / "inputs"
    status, stdout, err = fetch(capsys, "--langs", "bn", "--inputs", "dictionary,eval",
                                "--out", out, "--mirror", root.as_uri(), "--manifest", manifest)
    assert status == 0, err
    for sid, rel in (("dictionary-bn", "en-bn.txt"), ("indicqa-bn", "qa/indicqa_bn.json")):
        content = contents[sid]
        sha = hashlib.sha256(content).hexdigest()
        assert f"{rel}: {len(content):,} bytes, done, UNVERIFIED (no pin): sha256 {sha}" in stdout
    warnings = [line for line in err.splitlines() if "UNVERIFIED" in line]
    assert len(warnings) == 1 and "en-bn.txt, qa/indicqa_bn.json" in warnings[0]


def test_the_llama_weights_are_not_fetched_and_the_converter_is_named(tmp_path, mirror, capsys):
    root, manifest, _ = mirror
    status, stdout, _ = fetch(capsys, "--langs", "hi", "--inputs", "dictionary", "--out", tmp_path,
                              "--mirror", root.as_uri(), "--manifest", manifest)
    assert status == 0
    (line,) = [line for line in stdout.splitlines() if line.startswith("LLaMA weights")]
    assert "need an account" in line
    assert "python -m EasyLM.models.llama.convert_hf_to_easylm --hf_model=DIR" in line
    assert f"--dictionary {tmp_path / 'en-hi.txt'}" in stdout  # the plan command that follows


@pytest.mark.parametrize("argv, message", [
    (["--langs", "fr"], "--langs: unknown fr; choose from bn, el, hi, ta, th"),
    (["--langs", "hi", "--inputs", "weights"], "--inputs: unknown weights; choose from"),
])
def test_unknown_languages_and_inputs_are_one_line(tmp_path, capsys, argv, message):
    status, _, err = fetch(capsys, *argv, "--out", tmp_path)
    assert status == 2
    (line,) = err.strip().splitlines()
    assert line.startswith(f"easylm-commit fetch: error: {message}")


def test_a_malformed_manifest_names_the_source_and_field(tmp_path, capsys):
    data = {"sources": copy.deepcopy(fetching.load_manifest())}
    data["sources"]["xquad-hi"]["sha256"] = "abc"
    manifest = tmp_path / "m.json"
    manifest.write_text(json.dumps(data), encoding="utf-8")
    status, _, err = fetch(capsys, "--langs", "hi", "--out", tmp_path, "--manifest", manifest)
    assert status == 2
    assert err.strip() == (f"easylm-commit fetch: error: {manifest}: source 'xquad-hi': "
                           '"sha256" must be 64 hex digits or null')
