"""Offline, deterministic inputs for the pipeline benchmark.

Everything is generated from a fixed seed: an English-like vocabulary with Zipfian word
frequencies (a few hundred real function/instruction words at the top, pseudo-words
below), a Devanagari pseudo-vocabulary, a MUSE-format en-hi dictionary with 100K pairs
covering about three quarters of the English word types, Alpaca-style records and a
Hindi-like corpus; for the two-language row, a Greek-script pseudo-vocabulary and an en-el
dictionary made the same way (its own seed: it covers other English words). The tokenizer is a real one (Mistral 7B's, see pipeline.py).
"""

import json
import os

import numpy as np

SEED = 1234

COMMON = """the of and to a in is that for it as was with be by on not he this are or his from
at which but have an had they you were their one all we can her has there been if more when
will would who so no write describe explain list give create generate what how why sentence
following example words text answer question find make use provide summarize rewrite
classify identify suggest compose translate name three five ways best new good different
important people time year day way thing man world life hand part child eye woman place work
week case point government company number group problem fact about into over after also
than other some could these two may then do first any my now such like our out up only its
should very through just because most each much where those well even back many before
must great still between both under never same another while last might us long without
here few off always around again something small large next early young old high right
other open public able bad sure free full whole real clear human local social late hard
major better economic strong possible special certain personal simple main recent""".split()

CONSONANTS = "क ख ग घ च छ ज झ ट ठ ड ढ त थ द ध न प फ ब भ म य र ल व श स ह".split()
MATRAS = ["", "", "ा", "ि", "ी", "ु", "ू", "े", "ै", "ो", "ौ", "ं", "्"]
ONSETS = "b c d f g h j k l m n p r s t v w y b c d f l m n p r s t br ch cl dr fl gr pl pr sh st th tr".split()
VOWELS = "a e i o u a e i o u a e i o ea ee ai ou".split()
CODAS = ["", "", "", "", "", "n", "r", "s", "t", "l", "nd", "st", "ng", "m"]


GREEK_CONSONANTS = "β γ δ ζ θ κ λ μ ν ξ π ρ σ τ φ χ ψ κ λ μ ν π ρ σ τ".split()
GREEK_VOWELS = "α ε η ι ο υ ω α ε ι ο ου αι ει".split()
GREEK_STRESSED = {"α": "ά", "ε": "έ", "η": "ή", "ι": "ί", "ο": "ό", "υ": "ύ", "ω": "ώ",
                  "ου": "ού", "αι": "αί", "ει": "εί"}
GREEK_ENDINGS = ["", "", "ς", "ς", "ν", "ι"]


def _unique_words(rng, n, make, reserved=()):
    seen = set(reserved)
    out = []
    while len(out) < n:
        w = make(rng)
        if w not in seen:
            seen.add(w)
            out.append(w)
    return out


def _english_word(rng):
    k = rng.choice([1, 2, 2, 2, 3, 3, 4])
    return "".join(ONSETS[rng.integers(len(ONSETS))] + VOWELS[rng.integers(len(VOWELS))]
                   + CODAS[rng.integers(len(CODAS))] for _ in range(k))


def _hindi_word(rng):
    k = rng.choice([1, 2, 2, 2, 3, 3, 4])
    out = []
    for i in range(k):
        m = MATRAS[rng.integers(len(MATRAS))]
        if m == "्" and i == k - 1:
            m = ""
        out.append(CONSONANTS[rng.integers(len(CONSONANTS))] + m)
    return "".join(out)


def _greek_word(rng):
    """Consonant-vowel syllables, one stressed vowel (the tonos, as every Greek word of two or
    more syllables has), a final sigma written ``ς``."""
    k = int(rng.choice([1, 2, 2, 3, 3, 3, 4]))
    syllables = [[GREEK_CONSONANTS[rng.integers(len(GREEK_CONSONANTS))],
                  GREEK_VOWELS[rng.integers(len(GREEK_VOWELS))]] for _ in range(k)]
    if k > 1:
        s = syllables[int(rng.integers(k))]
        s[1] = GREEK_STRESSED[s[1]]
    ending = GREEK_ENDINGS[rng.integers(len(GREEK_ENDINGS))]
    return "".join(c + v for c, v in syllables) + ending


def zipf_probs(n, s=1.0, q=2.7):
    p = 1.0 / (np.arange(n) + 1 + q) ** s
    return p / p.sum()


class Vocab:
    def __init__(self, n_english=40000, n_hindi=40000, seed=SEED):
        rng = np.random.default_rng(seed)
        common = list(dict.fromkeys(COMMON))
        self.english = common + _unique_words(rng, n_english - len(common), _english_word, common)
        self.hindi = _unique_words(rng, n_hindi, _hindi_word)
        self.p_en = zipf_probs(len(self.english))
        self.p_hi = zipf_probs(len(self.hindi))
        self.rng = rng

    def dictionary_lines(self, pairs=100_000, target=None, seed=SEED + 1):
        """MUSE lines ``english hindi``: ~75% of English types covered, 1-6 translations
        (``target``: the target-language words, Hindi's by default)."""
        rng = np.random.default_rng(seed)
        covered = [w for w in self.english if rng.random() < 0.75]
        lines = []
        hindi = np.array(self.hindi if target is None else target)
        for w in covered:
            for t in hindi[rng.integers(len(hindi), size=int(rng.integers(1, 6)))]:
                lines.append(f"{w} {t}\n")
        i = 0
        while len(lines) < pairs:  # top up with extra senses of frequent words
            lines.append(f"{covered[i % len(covered)]} {hindi[rng.integers(len(hindi))]}\n")
            i += 1
        return lines[:pairs]

    def greek_dictionary_lines(self, pairs=100_000):
        """MUSE lines ``english greek``, made as ``dictionary_lines`` from 40K Greek-script
        pseudo-words with seeds of their own (the Hindi inputs stay as they were): a second
        language covering another ~75% of the English types."""
        greek = _unique_words(np.random.default_rng(SEED + 5), len(self.hindi), _greek_word)
        return self.dictionary_lines(pairs, target=greek, seed=SEED + 6)

    def phrase_dictionary_lines(self, pairs=100_000, every=5):
        """``dictionary_lines`` with every ``every``-th line (20%) made a phrase line,
        ``english words<TAB>hindi``: two or three Zipfian English words, so that phrases start
        at frequent words as real ones do ("of course", "in order to") and some occur in the
        records."""
        rng = np.random.default_rng(SEED + 4)
        lines = self.dictionary_lines(pairs)
        words = rng.choice(len(self.english), size=(len(lines), 3), p=self.p_en)
        for i in range(0, len(lines), every):
            source = " ".join(self.english[j] for j in words[i, :2 + (i // every) % 2])
            lines[i] = f"{source}\t{lines[i].split()[1]}\n"
        return lines


def _sentences(rng, words, probs, n_words, end=".", comma=0.08):
    """Sentences of Zipfian words, first word capitalised, commas sprinkled."""
    idx = rng.choice(len(words), size=n_words, p=probs)
    out, sentence = [], []
    length = int(rng.integers(6, 22))
    for i in idx:
        w = words[i]
        if not sentence:
            w = w[:1].upper() + w[1:]
        sentence.append(w)
        if rng.random() < comma and len(sentence) < length - 1:
            sentence[-1] += ","
        if len(sentence) >= length:
            out.append(" ".join(sentence) + end)
            sentence, length = [], int(rng.integers(6, 22))
    if sentence:
        out.append(" ".join(sentence) + end)
    return " ".join(out)


def alpaca_records(vocab, n, seed=SEED + 2):
    """Alpaca-like: short instruction, input on ~40% of records, 10-200 word outputs,
    some numbered lists and paragraphs (real Alpaca: ~52K records, ~45 output words on average)."""
    rng = np.random.default_rng(seed)
    en, p = vocab.english, vocab.p_en
    out = []
    for _ in range(n):
        instruction = _sentences(rng, en, p, int(rng.integers(4, 20)), end=rng.choice([".", "?", ":"]))
        input_ = _sentences(rng, en, p, int(rng.integers(5, 40))) if rng.random() < 0.4 else ""
        style = rng.random()
        if style < 0.2:
            items = [f"{j + 1}. " + _sentences(rng, en, p, int(rng.integers(3, 15)))
                     for j in range(int(rng.integers(3, 7)))]
            output = "\n".join(items)
        elif style < 0.4:
            output = "\n\n".join(_sentences(rng, en, p, int(rng.integers(20, 70)))
                                 for _ in range(int(rng.integers(2, 4))))
        else:
            output = _sentences(rng, en, p, int(rng.integers(10, 80)))
        out.append({"instruction": instruction, "input": input_, "output": output})
    return out


def corpus_documents(vocab, n, seed=SEED + 3, words=(60, 600)):
    rng = np.random.default_rng(seed)
    return [
        "\n".join(_sentences(rng, vocab.hindi, vocab.p_hi, int(rng.integers(*words)) // 3 + 1, end="।", comma=0.05)
                  for _ in range(3))
        for _ in range(n)
    ]


def write_jsonl(path, rows):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def build(workdir, n_records, n_docs=0, log=print):
    """Write every input under ``workdir`` (reused when already there) and return their paths."""
    os.makedirs(workdir, exist_ok=True)
    paths = dict(
        dictionary=os.path.join(workdir, "en-hi.txt"),
        phrase_dictionary=os.path.join(workdir, "en-hi-phrases.txt"),
        dictionary_el=os.path.join(workdir, "en-el.txt"),
        records=os.path.join(workdir, f"alpaca_{n_records}.jsonl"),
        formatted=os.path.join(workdir, f"alpaca_{n_records}_formatted.jsonl"),
        corpus=os.path.join(workdir, f"corpus_{n_docs}.jsonl"),
    )
    vocab = None

    def get_vocab():
        nonlocal vocab
        if vocab is None:
            vocab = Vocab()
        return vocab

    for key, make in (("dictionary", Vocab.dictionary_lines),
                      ("phrase_dictionary", Vocab.phrase_dictionary_lines),
                      ("dictionary_el", Vocab.greek_dictionary_lines)):
        if not os.path.exists(paths[key]):
            lines = make(get_vocab())
            with open(paths[key] + ".tmp", "w", encoding="utf-8") as f:
                f.writelines(lines)
            os.replace(paths[key] + ".tmp", paths[key])
    if not os.path.exists(paths["records"]):
        log(f"  generating {n_records} Alpaca-like records")
        records = alpaca_records(get_vocab(), n_records)
        write_jsonl(paths["records"], records)
        # EasyLM's JsonDataset input: the same records, formatted with Alpaca's template,
        # prompt and response as fields (``text_processor.fields='[prompt],response'``).
        from easylm_commit.templates import Formatter
        formatter = Formatter(None, mode="none")
        write_jsonl(paths["formatted"], (
            {"prompt": s.prompt, "response": s.response}
            for s in (formatter.format(r) for r in records)
        ))
    if n_docs and not os.path.exists(paths["corpus"]):
        log(f"  generating {n_docs} corpus documents")
        write_jsonl(paths["corpus"], ({"text": t} for t in corpus_documents(get_vocab(), n_docs)))
    return paths
