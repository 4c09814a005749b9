"""The host-agreement check (``pod.HostCheck``) on its own: what it compares, when, and the
one error every host raises. The all-gather is replaced by a fake pod whose hosts are
given here; ``test_pod.py`` runs the real one across two JAX processes."""

import json
import threading

import numpy as np
import pytest

from easylm_commit import pod
from easylm_commit.errors import UserError


class FakePod:
    """``count`` hosts; ``tamper(host, rows)`` alters what a host contributes."""

    def __init__(self, count, tamper=None):
        self.count, self.tamper, self.calls = count, tamper, 0

    def gather(self, rows):
        self.calls += 1
        everyone = np.stack([rows.copy() for _ in range(self.count)])
        if self.tamper:
            for host in range(self.count):
                self.tamper(host, everyone[host])
        return everyone


def batch(seed=0):
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, 600, size=(2, 8)).astype(np.int32)
    return {"input_tokens": tokens, "target_tokens": tokens + 1,
            "loss_masks": np.ones((2, 8), np.float32)}


def test_a_single_process_run_pays_nothing():
    # No JAX backend started (or one process): no check object, no digest, no collective.
    assert pod.process_count() == 1
    assert pod.HostCheck.create(100) is None
    assert pod.HostCheck.create(0) is None


def test_checks_run_at_the_first_batch_and_every_freq_batches():
    fake = FakePod(4)
    check = pod.HostCheck(100, me=0, count=4, gather=fake.gather)
    checked = []
    for index in range(250, 460):  # a resumed run: its first batch is checked too
        if check.due(index):
            check.batch(index, batch())
            checked.append(index)
    assert checked == [250, 300, 400]
    assert fake.calls == 3


def test_hosts_that_agree_pass_after_one_gather_per_check():
    fake = FakePod(8)
    check = pod.HostCheck(1, me=2, count=8, gather=fake.gather)
    assert check.compare("before the first batch", {"alpha": (pod.digest("0.9"), "alpha=0.9")}) is None
    assert check.batch(0, batch()) is None
    assert fake.calls == 2
    # The same fake pod with one host's alpha changed does not pass: agreement is what passed.
    def host_3_differs(host, rows):
        if host == 3:
            rows[0] ^= 1
    with pytest.raises(UserError, match="hosts disagree before the first batch on alpha"):
        pod.HostCheck(1, me=2, count=8, gather=FakePod(8, host_3_differs).gather).compare(
            "before the first batch", {"alpha": (pod.digest("0.9"), "alpha=0.9")})


def test_a_host_with_another_batch_stops_every_host_naming_batch_hosts_and_arrays():
    def host_5_differs(host, rows):
        if host == 5:
            rows[0] ^= 1  # input_tokens is the first array (sorted names)

    for me in (0, 5):  # every host raises, with the same account of the pod
        check = pod.HostCheck(100, me=me, count=8, gather=FakePod(8, host_5_differs).gather)
        with pytest.raises(UserError) as e:
            check.batch(300, batch())
        message = str(e.value)
        assert message.startswith("hosts disagree at batch 300 on input_tokens (hosts 0-4, 6-7: ")
        assert "; host 5: " in message
        assert "target_tokens" not in message and "loss_masks" not in message
        assert "\n" not in message


def test_the_start_check_says_what_this_host_has():
    items = {"alpha": (pod.digest("0.5"), "alpha=0.5"),
             "dictionary contents": (pod.digest("a b\n"), "en-hi.txt, 1 words")}

    def host_1_other_alpha(host, rows):
        if host == 1:
            rows[0] ^= 7

    check = pod.HostCheck(100, me=1, count=2, gather=FakePod(2, host_1_other_alpha).gather)
    with pytest.raises(UserError, match=r"hosts disagree before the first batch on alpha \(host 0: "
                                        r"[0-9a-f]{8}; host 1: [0-9a-f]{8}; here, host 1: alpha=0.5\)"):
        check.compare("before the first batch", items)


def test_digests_see_dtype_shape_and_every_byte():
    a = np.arange(6, dtype=np.int32)
    assert pod.digest(a) == pod.digest(a.copy())
    assert pod.digest(a) != pod.digest(a.reshape(2, 3))
    assert pod.digest(a) != pod.digest(a.astype(np.int64))
    b = a.copy()
    b[3] += 1
    assert pod.digest(a) != pod.digest(b)
    assert pod.digest("ab", "c") != pod.digest("a", "bc")


def test_host_lists_are_compact():
    assert pod.host_ranges([3]) == "host 3"
    assert pod.host_ranges([0, 1, 2, 5, 7, 8]) == "hosts 0-2, 5, 7-8"


def test_dataset_config_dictionary_and_state_are_compared_but_not_file_names(tmp_path, llama_tokenizer_dir):
    pytest.importorskip("datasets")
    from transformers import AutoTokenizer

    from easylm_commit import demo
    from easylm_commit.dataset_types import CommitDataset

    tok = AutoTokenizer.from_pretrained(llama_tokenizer_dir)
    (tmp_path / "copy.txt").write_bytes(open(demo.DEMO_DICTIONARY, "rb").read())

    def items(**updates):
        config = dict(path=demo.DEMO_INSTRUCTIONS, dictionary=demo.DEMO_DICTIONARY)
        config.update(updates)
        return CommitDataset(CommitDataset.get_default_config(config), tok).host_agreement_items()

    base = items()
    assert {"easylm-commit version", "alpha", "seed", "seq_length", "dictionary contents",
            "template", "dataset state (resume cursor)"} <= set(base)
    assert "path" not in base and "tokenizer_processes" not in base
    same_file_elsewhere = items(dictionary=str(tmp_path / "copy.txt"), tokenizer_processes=4)
    assert [v[0] for v in same_file_elsewhere.values()] == [v[0] for v in base.values()]
    reversed_ = items(reverse_dictionary=True)
    assert reversed_["dictionary contents"][0] != base["dictionary contents"][0]
    assert items(alpha=0.5)["alpha"][1] == "alpha=0.5"


def test_a_host_missing_from_the_check_is_an_error_not_a_hang():
    def gather(rows):  # what a gather reports when another host stopped before it
        raise RuntimeError("Gloo context initialization failed: DEADLINE_EXCEEDED: GetKeyValue() "
                           "timed out\nmore detail")

    check = pod.HostCheck(100, me=0, count=2, gather=gather)
    with pytest.raises(UserError, match=r"^host 0: the host check at batch 7 could not reach every "
                                        r"host; another host has probably stopped with an error .*"
                                        r"DEADLINE_EXCEEDED: GetKeyValue\(\) timed out\)$"):
        check.batch(7, batch())


def test_cpu_collectives_are_only_chosen_for_a_jax_distributed_run():
    class NotDistributed:
        initialize_jax_distributed = False

    assert pod.select_cpu_collectives(NotDistributed) is None
    # The distributed case changes JAX's global config, so it is tested where it runs: the
    # launcher as a two-process pod (test_pod.py).



# -- a host that could not build its dataset -------------------------------------------------
class ThreadPod:
    """``count`` hosts as threads and the all-gather as a barrier: each host runs its own
    code and contributes its own rows, as on a pod. A host that never comes breaks the
    barrier (``BrokenBarrierError``, a ``RuntimeError``), as a gather times out."""

    def __init__(self, count, timeout=60):
        self.count, self.timeout = count, timeout

    def run(self, host):
        """``host(me, check)`` on every host at once -> what each returned or raised."""
        rows = [None] * self.count
        barrier = threading.Barrier(self.count, timeout=self.timeout)

        def check(me):
            def gather(mine):
                rows[me] = mine.copy()
                barrier.wait()
                everyone = np.stack(rows)
                barrier.wait()  # nobody gathers again before everyone has read
                return everyone
            return pod.HostCheck(100, me=me, count=self.count, gather=gather)

        results = [None] * self.count

        def one(me):
            try:
                results[me] = host(me, check(me))
            except Exception as e:
                results[me] = e

        threads = [threading.Thread(target=one, args=(me,)) for me in range(self.count)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results


def every_host_raises(results):
    assert all(isinstance(r, UserError) for r in results), results
    messages = {str(r) for r in results}
    assert len(messages) == 1, messages  # the same account of the pod on every host
    (message,) = messages
    assert "\n" not in message
    return message


def test_a_host_that_failed_still_meets_the_others_and_every_host_names_it():
    items = {"alpha": (pod.digest("0.9"), "alpha=0.9")}
    missing = UserError("/data/en-hi.txt: dictionary file not found")

    def host(me, check):
        check.compare("before the first batch", items, error=missing if me == 1 else None)

    message = every_host_raises(ThreadPod(3).run(host))
    assert message == ("host 1: /data/en-hi.txt: dictionary file not found. Every host stops "
                       "before the first batch: the dataset could not be built on host 1")


def test_failed_hosts_are_grouped_by_their_error_and_other_errors_keep_their_type():
    errors = {1: UserError("a.json: file not found"), 2: UserError("a.json: file not found"),
              4: FileNotFoundError(2, "No such file or directory", "/data/b.json")}

    def host(me, check):
        check.compare("at batch 3", {"x": (pod.digest("x"), "")}, error=errors.get(me))

    message = every_host_raises(ThreadPod(6).run(host))
    assert message == ("hosts 1-2: a.json: file not found; host 4: FileNotFoundError: [Errno 2] No "
                       "such file or directory: '/data/b.json'. Every host stops at batch 3: the "
                       "dataset could not be built on hosts 1-2, 4")


def test_an_error_is_one_line_of_at_most_512_bytes_cut_on_a_character_boundary():
    long = UserError("/data/" + "अ" * 400 + ".txt: dictionary file not found")  # 3 bytes a letter
    text = pod.error_text(long)
    assert len(text.encode("utf-8")) <= pod.MAX_ERROR_BYTES
    assert text.startswith("/data/अअ") and text.endswith("अ\u2026")
    assert pod.error_text(ValueError("first\n  second\n")) == "ValueError: first second"
    assert pod.error_text(KeyError()) == "KeyError"  # never empty: empty reads as "no error"

    def host(me, check):
        check.compare("before the first batch", {}, error=long if me == 0 else None)

    assert every_host_raises(ThreadPod(2).run(host)).startswith(f"host 0: {text}. Every host stops")


def test_hosts_without_errors_still_compare_their_digests():
    def host(me, check):
        check.compare("before the first batch", {"alpha": (pod.digest(f"0.{me}"), f"alpha=0.{me}")})

    results = ThreadPod(2).run(host)
    assert [str(r).split(" (")[0] for r in results] == ["hosts disagree before the first batch on alpha"] * 2
    assert ThreadPod(2).run(lambda me, check: check.compare("x", {"a": (pod.digest("a"), "")})) == [None, None]


@pytest.fixture
def dataset_pod(monkeypatch, llama_tokenizer_dir):
    """``run(count, config_of)``: every host (a thread) builds ``CommitDataset`` from
    ``config_of(host)`` and takes its first batch, as EasyLM's main does, with the host
    checks gathered across the threads -> what each host got or raised."""
    pytest.importorskip("datasets")
    from transformers import AutoTokenizer

    from easylm_commit.dataset_types import CommitDataset

    tok = AutoTokenizer.from_pretrained(llama_tokenizer_dir)
    here = threading.local()

    def run(count, config_of):
        monkeypatch.setattr(pod, "process_count", lambda: count)
        monkeypatch.setattr(pod, "process_index", lambda: here.me)
        monkeypatch.setattr(pod.HostCheck, "create",
                            classmethod(lambda cls, freq: here.check if freq > 0 else None))

        def host(me, check):
            here.me, here.check = me, check
            dataset = CommitDataset(CommitDataset.get_default_config(config_of(me)), tok)
            return next(iter(dataset))

        return ThreadPod(count).run(host)

    run.here = here
    return run


def demo_config(**updates):
    from easylm_commit import demo

    return dict(dict(path=demo.DEMO_INSTRUCTIONS, dictionary=demo.DEMO_DICTIONARY,
                     seq_length=48, batch_size=2), **updates)


def test_a_template_file_missing_on_one_host_stops_every_host_at_the_first_check(dataset_pod, tmp_path):
    from easylm_commit.templates import ALPACA_EN

    (tmp_path / "host0").mkdir()
    (tmp_path / "host0" / "en.json").write_text(json.dumps(ALPACA_EN), encoding="utf-8")
    results = dataset_pod(2, lambda me: demo_config(template=str(tmp_path / f"host{me}" / "en.json")))
    message = every_host_raises(results)
    assert message.startswith(f"host 1: template '{tmp_path}/host1/en.json': not a built-in template")
    assert message.endswith("the dataset could not be built on host 1")
    assert "host 0" not in message


def test_a_data_file_missing_on_one_host_stops_every_host_at_the_first_check(dataset_pod, tmp_path):
    results = dataset_pod(2, lambda me: demo_config(path=str(tmp_path / "alpaca.json")) if me == 1
                          else demo_config())
    assert every_host_raises(results).startswith(f"host 1: {tmp_path}/alpaca.json: file not found. ")


def test_a_bug_while_building_is_logged_with_its_traceback_on_its_host(dataset_pod, monkeypatch, caplog):
    from easylm_commit.dictionary import BilingualDictionary

    load = BilingualDictionary.load

    def broken_on_host_1(*args, **kwargs):
        if dataset_pod.here.me == 1:
            raise ZeroDivisionError("division by zero")
        return load(*args, **kwargs)

    monkeypatch.setattr(BilingualDictionary, "load", broken_on_host_1)
    with caplog.at_level("ERROR", logger="easylm_commit"):
        results = dataset_pod(2, lambda me: demo_config())
    assert every_host_raises(results).startswith("host 1: ZeroDivisionError: division by zero. ")
    (record,) = caplog.records
    assert record.getMessage() == "host 1: could not build the dataset"
    assert record.exc_info[0] is ZeroDivisionError


def test_without_host_checks_a_missing_file_stops_its_host_at_once(dataset_pod, tmp_path):
    # One process, or host_check_freq=0 on a pod: no check to meet, so the error comes
    # while the dataset is built, as it always did.
    from easylm_commit.dataset_types import CommitDataset

    with pytest.raises(UserError, match="en-hi.txt: dictionary file not found"):
        CommitDataset(CommitDataset.get_default_config(demo_config(dictionary=str(tmp_path / "en-hi.txt"))),
                      tokenizer=None)
    results = dataset_pod(2, lambda me: demo_config(host_check_freq=0, template=str(tmp_path / "t.json")))
    assert all(isinstance(r, UserError) and "not a built-in template" in str(r) for r in results)
    assert not any("host 1" in str(r) for r in results)


def test_the_dictionary_digest_covers_phrase_entries(tmp_path):
    """Two hosts whose files differ only in a phrase line must not agree before the first batch."""
    pytest.importorskip("mlxu")
    from easylm_commit.dataset_types import CommitDataset
    from easylm_commit.demo import DEMO_INSTRUCTIONS
    from conftest import build_llama_tokenizer
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(build_llama_tokenizer(tmp_path / "tok"))
    digests = []
    for i, phrase in enumerate(("ice cream\tआइसक्रीम", "ice cream\tकुल्फ़ी")):
        path = tmp_path / f"en-hi-{i}.txt"
        path.write_text(f"cat बिल्ली\n{phrase}\n", encoding="utf-8")
        ds = CommitDataset(CommitDataset.get_default_config(dict(
            path=DEMO_INSTRUCTIONS, dictionary=str(path))), tokenizer)
        digests.append(ds.host_agreement_items()["dictionary contents"][0])
    assert digests[0] != digests[1]
