"""A small English-Hindi demo, so the first run needs no download: ``--demo``.

- ``en-hi.txt`` (``DEMO_DICTIONARY``): an English->Hindi dictionary in MUSE format, one
  ``english hindi`` pair a line, a source with several translations on several lines, a few
  identical pairs (``1 1``) as MUSE has. About a thousand pairs: the commonest English words,
  numbers, question words, every word of the Stanford Alpaca template, the words of the demo
  records, and the English of the words of the demo corpus (so that ``--reverse-dictionary``
  covers it). Hindi has no articles: ``the`` is given the demonstrative ``वह`` and ``a``/``an``
  the numeral ``एक``, the nearest single words, as a word-for-word dictionary must.
- ``alpaca_demo.json`` (``DEMO_INSTRUCTIONS``): 50 Alpaca-style records (a JSON array of
  ``instruction``/``input``/``output``), about half with an input, several of them extractive
  QA over a short context as in the paper's benchmarks.
- ``hindi_corpus.jsonl`` (``DEMO_CORPUS``): 72 short encyclopaedic Hindi paragraphs,
  ``{"text": ...}`` a line, for the alignment phase (Hindi mixed into English).

- ``qa/`` (``DEMO_QA``): Hindi extractive QA over paragraphs of the demo corpus, in the local
  layout ``easylm-commit eval --local-data`` reads (``easylm_commit.eval.data``): ``mlqa_hi.json``
  (10 questions, SQuAD format), ``xquad_hi.jsonl`` (10) and ``mlqa_hi_dev.json`` (6), so that
  ``plan --demo`` evaluates offline. Every answer is a substring of its context.

A second language, Greek, so that a run over several languages (``languages``) also works
offline:

- ``en-el.txt`` (``DEMO_DICTIONARY_EL``): an English->Greek dictionary in MUSE format, made as
  ``en-hi.txt`` is (the same English words, lowercase, modern monotonic Greek with its accents,
  in NFC), plus five phrase lines (``olive oil<TAB>ελαιόλαδο``). Greek inflects: each form
  that the Greek corpus uses has its own line (``athens αθήνα``, ``athens αθήνας``), so that the
  reversed file covers the corpus word for word, as ``--reverse-dictionary`` reads it. The
  articles and the contracted ``σε`` + article (``στο``, ``στην``...) are given under ``the``,
  ``of``, ``in``..., the nearest single English words.
- ``greek_corpus.jsonl`` (``DEMO_CORPUS_EL``): 42 short encyclopaedic Greek paragraphs, as
  ``hindi_corpus.jsonl`` (places of Greece, science, history, food).
- ``qa/xquad_el.jsonl``: 10 Greek extractive QA items over paragraphs of the Greek corpus, in
  the layout of ``xquad_hi.jsonl`` (XQuAD has a Greek set: ``eval.data.BENCHMARKS``).

All of them are handwritten for this project (license: the project's own), not extracts of MUSE,
XQuAD, Alpaca or Wikipedia. They are for trying the tools and for tests; far too small to train on.
"""

import importlib.resources


def _path(name):
    # files() is a real directory for a wheel or a source checkout (the package is not
    # zip-safe), so the str() is a path that open() and the dataset loaders accept.
    return str(importlib.resources.files(__name__) / name)


DEMO_DICTIONARY = _path("en-hi.txt")
DEMO_INSTRUCTIONS = _path("alpaca_demo.json")
DEMO_CORPUS = _path("hindi_corpus.jsonl")
DEMO_QA = _path("qa")
DEMO_DICTIONARY_EL = _path("en-el.txt")
DEMO_CORPUS_EL = _path("greek_corpus.jsonl")
