"""The host-agreement check (``pod.HostCheck``) on its own: what it compares, when, and the
one error every host raises. The all-gather is replaced by a fake pod whose hosts are
given here; ``test_pod.py`` runs the real one across two JAX processes."""

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
    from easylm_commit.datasets import CommitDataset

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
