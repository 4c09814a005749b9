"""Issue 22, item 1: phrase entries.

A dictionary line with a tab is ``source<TAB>translation`` and either side may hold spaces; a
source of several words is a phrase. The mixer matches phrases longest first over its own
segmentation (case and NFC as for one word), only where the text has nothing but spaces
between the phrase's words, and draws once per matched phrase, which counts as one unit.
A dictionary without phrases mixes exactly as before.
"""

import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from easylm_commit import mixer as mixer_module
from easylm_commit.dictionary import BilingualDictionary
from easylm_commit.errors import UserError
from easylm_commit.mixer import CodeMixer, unmix


def write(tmp_path, text, name="dict.txt"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


EN_FR = [("ice cream", "glace"), ("ice", "glaçon"), ("cream", "crème"), ("new york", "new york"),
         ("new york city", "la grosse pomme"), ("i", "je"), ("like", "aime")]


def en_fr(*extra):
    return BilingualDictionary.from_pairs(EN_FR + list(extra))


def mixed(text, dictionary=None, alpha=1.0, **kw):
    return CodeMixer(dictionary or en_fr(), alpha, **kw).mix(text, key=0)


# -- the file format ------------------------------------------------------------------------

def test_a_tab_line_is_source_and_translation_and_either_side_may_hold_spaces(tmp_path):
    path = write(tmp_path, "ice cream\tआइसक्रीम\nNew York\tन्यू यॉर्क\nwater\tपानी\ncat बिल्ली\n")
    d = BilingualDictionary.load(path)
    assert d.lookup("ice cream") == ("आइसक्रीम",)
    assert d.lookup("new york") == ("न्यू यॉर्क",)      # a translation of two words
    assert d.lookup("water") == ("पानी",) and d.lookup("cat") == ("बिल्ली",)
    s = d.stats()
    assert (s.pairs, s.sources, s.phrases, s.skipped_lines) == (4, 4, 2, 0)


def test_whitespace_inside_a_side_is_one_space_and_a_run_of_tabs_one_separator(tmp_path):
    d = BilingualDictionary.load(write(tmp_path, "ice   cream\t\t आइस  क्रीम \n"))
    assert d.phrases == {"ice cream": ("आइस क्रीम",)}


def test_a_tab_line_with_an_empty_side_is_malformed(tmp_path):
    path = write(tmp_path, "cat बिल्ली\nice cream\t\n\tआइसक्रीम\na b\tc\td\ndog कुत्ता\n")
    d = BilingualDictionary.load(path)
    assert d.stats().skipped_lines == 3 and d.stats().first_skipped_line == 2
    assert "ice cream" not in d and "ice" not in d and len(d) == 2
    with pytest.raises(UserError, match=r"dict\.txt:2: .*empty"):
        BilingualDictionary.load(path, strict=True)
    with pytest.raises(UserError, match=r"dict\.txt:2: .*3 tab-separated sides"):
        BilingualDictionary.load(write(tmp_path, "cat बिल्ली\na\tb\tc\n"), strict=True)


@pytest.mark.parametrize("line", ["cat\tγάτα", "cat \t γάτα", "cat\t\tγάτα", "\tcat\tγάτα",
                                  "cat\tγάτα\t", "cat γάτα", "  cat   γάτα  "])
def test_muse_lines_with_a_space_or_tabs_between_two_words_are_the_pair_they_always_were(
        tmp_path, line):
    d = BilingualDictionary.load(write(tmp_path, line + "\n"))
    assert d.table == {"cat": ("γάτα",)} and not d.has_phrases
    assert d.stats().skipped_lines == 0


def test_muse_lines_of_three_fields_without_a_tab_stay_malformed(tmp_path):
    d = BilingualDictionary.load(write(tmp_path, "ice cream glace\ncat γάτα\n"))
    assert d.stats().skipped_lines == 1 and not d.has_phrases


def test_reversed_a_phrase_translation_becomes_a_phrase_source(tmp_path):
    path = write(tmp_path, "ice cream\tआइस क्रीम\nNew York\tन्यूयॉर्क\n")
    d = BilingualDictionary.load(path, reverse=True)
    assert d.phrases == {"आइस क्रीम": ("ice cream",)}
    assert d.lookup("न्यूयॉर्क") == ("New York",)      # one word -> a phrase: a plain entry
    assert BilingualDictionary.load(path).reversed().phrases == d.phrases


@pytest.mark.parametrize("text", [
    "ice cream\tglace\ncat chat\nice cream\tcrème glacée\nice\tglaçon\nnew york\tnew york\n",
    "New York\tNY\nice cream\tglace\nUS army\tarmée\n",
])
def test_loading_phrase_lines_is_from_pairs_of_their_sides(tmp_path, text):
    path = write(tmp_path, text)
    pairs = [line.split("\t") if "\t" in line else line.split() for line in text.splitlines()]
    for reverse in (False, True):
        for keep_identical in (True, False):
            loaded = BilingualDictionary.load(path, reverse=reverse, keep_identical=keep_identical)
            made = BilingualDictionary.from_pairs(pairs, reverse=reverse, keep_identical=keep_identical)
            for table in ("table", "exact", "phrases", "phrase_exact"):
                assert list(getattr(loaded, table).items()) == list(getattr(made, table).items())
            assert loaded.stats() == made.stats()
    assert BilingualDictionary.load(path).lookup("ice cream") == ("glace",) + (
        ("crème glacée",) if "crème" in text else ())


def test_phrases_of_another_case_pattern_are_exact_entries():
    d = BilingualDictionary.from_pairs([("US army", "armée américaine"), ("New York", "NY")])
    assert d.phrase_exact == {"US army": ("armée américaine",)}
    assert d.phrases == {"new york": ("NY",)}


# -- matching -------------------------------------------------------------------------------

def test_the_longest_phrase_starting_at_a_word_wins_left_to_right():
    assert mixed("I like ice cream") == "Je aime glace"
    assert mixed("new york city and new york") == "la grosse pomme and new york"
    assert mixed("ice ice cream cream") == "glaçon glace crème"


@pytest.mark.parametrize("text, expected", [
    ("ice. Cream", "glaçon. Crème"),             # sentence punctuation
    ("ice, cream", "glaçon, crème"),
    ("ice\ncream", "glaçon\ncrème"),             # a newline
    ("ice\tcream", "glaçon\tcrème"),             # a tab (a table's cells)
    ("ice-cream", "glaçon-crème"),               # a hyphen
    ("ice https://x.org/a cream", "glaçon https://x.org/a crème"),   # a protected span
    ("ice `x` cream", "glaçon `x` crème"),
    ("ice  cream", "glace"),                     # spaces of any number and kind
    ("ice\u00a0cream", "glace"),
])
def test_a_phrase_matches_only_where_the_text_has_spaces_between_its_words(text, expected):
    assert mixed(text) == expected


def test_case_follows_the_single_word_policy_and_is_put_back():
    d = en_fr(("US army", "armée américaine"))
    assert mixed("Ice cream", d) == "Glace"                  # a sentence start
    assert mixed("ICE CREAM", d) == "GLACE"                  # a heading
    assert mixed("New York City", d) == "La grosse pomme"
    assert mixed("iCE cream", d) == "iCE crème"              # mixed case: an exact entry only
    assert mixed("US army", d) == "armée américaine"         # the exact entry, as written
    assert mixed("us army", d) == "us army"
    # Without the case policy (protect=False) every phrase matches ignoring case.
    assert mixed("iCE cream", d, protect=False) == "glace"


def test_text_and_entries_are_compared_in_nfc():
    precomposed, decomposed = "\u0958", "\u0915\u093c"
    d = BilingualDictionary.from_pairs([(f"{precomposed}िला पुराना", "old fort")])
    assert mixed(f"{decomposed}िला पुराना है", d) == "old fort है"
    assert mixed(f"{precomposed}िला पुराना", d) == "old fort"


def test_reversed_files_match_target_phrases(tmp_path):
    path = write(tmp_path, "ice cream\tआइस क्रीम\nis\tहै\n")
    d = BilingualDictionary.load(path, reverse=True)
    assert mixed("आइस क्रीम है।", d) == "ice cream is।"


def test_one_draw_per_phrase_so_a_phrase_is_replaced_whole_or_kept_whole():
    mixer = CodeMixer(en_fr(), 0.5, seed=3)
    outcomes = set()
    for key in range(300):
        result = mixer.mix_with_report("we had ice cream today", key=key)
        assert result.text in ("we had ice cream today", "we had glace today")
        outcomes.add(result.text)
        # The phrase is one unit: one draw, counted once.
        assert (result.words, result.covered, result.phrases, result.phrase_words) == (4, 1, 1, 2)
        assert result.replaced == (result.text != "we had ice cream today")
    assert len(outcomes) == 2


def test_counts_a_phrase_as_one_unit_and_say_which_words_it_covers():
    mixer = CodeMixer(en_fr(), 1.0)
    text = "I like ice cream in new york city."
    result = mixer.mix_with_report(text, key=1)
    assert result.text == "Je aime glace in la grosse pomme."
    assert (result.words, result.covered, result.replaced) == (5, 4, 4)
    assert (result.phrases, result.phrase_words) == (2, 5)
    assert result.words - result.phrases + result.phrase_words == 8      # the text's words
    assert [r.source for r in result.replacements] == ["I", "like", "ice cream", "new york city"]
    assert unmix(result.text, result.replacements) == text
    assert mixer.mix_counted(text, key=1) == (result.text, 5, 4)
    assert CodeMixer(en_fr(), 0.0).mix_counted(text, key=1) == (text, 5, 0)


def test_an_identity_phrase_is_drawn_but_counted_apart():
    result = CodeMixer(en_fr(), 1.0).mix_with_report("new york", key=0)
    assert (result.text, result.replaced, result.identical) == ("new york", 0, 1)


# -- Thai --------------------------------------------------------------------------------------

def test_thai_phrases_match_the_segmented_text_written_with_or_without_spaces():
    d = BilingualDictionary.from_pairs([("กิน ข้าว", "eat rice"), ("ฉัน", "I")])
    # pythainlp keeps กินข้าว as one token: the phrase written without its space meets it.
    assert mixed("ฉันกินข้าว", d) == "I eat rice"
    assert mixed("ฉัน กิน ข้าว", d) == "I eat rice"
    result = CodeMixer(d, 1.0).mix_with_report("ฉันกินข้าวแล้ว", key=0)
    assert "eat rice" in result.text and result.phrases == 1


def test_thai_phrases_of_dictionary_words_match_where_the_segmenter_splits_a_compound():
    d = BilingualDictionary.from_pairs([("กิน ข้าว", "eat rice"), ("กิน", "eat"), ("ข้าว", "rice"),
                                        ("ปลา", "fish")])
    result = CodeMixer(d, 1.0).mix_with_report("กินข้าวกินปลา", key=0)
    assert [r.target for r in result.replacements] == ["eat rice", "eat", "fish"]
    assert (result.phrases, result.phrase_words) == (1, 2)


# -- phrases that can never match ---------------------------------------------------------

def test_phrases_the_segmenter_never_produces_are_counted_in_one_warning(caplog, monkeypatch):
    monkeypatch.setattr(mixer_module, "_warned_unmatchable", set())
    d = en_fr(("U.S. army", "x"), ("state-of-the-art design", "y"), ("rock 'n' roll", "z"))
    with caplog.at_level(logging.WARNING, logger="easylm_commit"):
        CodeMixer(d, 0.5).mix("ice cream", key=0)
        CodeMixer(d, 0.5).mix("ice cream", key=0)      # once per dictionary and segmenter
    warnings = [r.getMessage() for r in caplog.records if "never match" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].startswith("easylm-commit: 3 phrase entries")
    assert mixed("the U.S. army", d) == "the U.S. army"


def test_a_dictionary_whose_phrases_all_match_warns_nothing(caplog, monkeypatch):
    monkeypatch.setattr(mixer_module, "_warned_unmatchable", set())
    with caplog.at_level(logging.WARNING, logger="easylm_commit"):
        CodeMixer(en_fr(), 0.5).mix("ice cream", key=0)
    assert not [r for r in caplog.records if "never match" in r.getMessage()]


# -- compatibility --------------------------------------------------------------------------

WORDS = ["the", "cat", "ice", "cream", "sat", "on", "a", "mat", "The", "ICE", "Cream"]
TEXTS = st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from([" ", "  ", ", ", ".\n", "-"])),
                 max_size=30).map(lambda ws: "".join(w + s for w, s in ws))
SINGLE = [("the", "le"), ("cat", "chat"), ("ice", "glaçon"), ("cream", "crème"), ("sat", "assis"),
          ("mat", "tapis"), ("cat", "matou")]


@settings(max_examples=150, deadline=None)
@given(text=TEXTS, alpha=st.sampled_from([0.3, 0.9, 1.0]), seed=st.integers(0, 2**16))
def test_phrases_that_do_not_occur_change_no_draw(text, alpha, seed):
    plain = CodeMixer(BilingualDictionary.from_pairs(SINGLE), alpha, seed=seed)
    with_phrases = CodeMixer(BilingualDictionary.from_pairs(
        SINGLE + [("blue whale", "baleine bleue"), ("sat down", "assis")]), alpha, seed=seed)
    assert with_phrases.mix_with_report(text, key=seed) == plain.mix_with_report(text, key=seed)


@settings(max_examples=150, deadline=None)
@given(text=TEXTS, alpha=st.sampled_from([0.0, 0.5, 1.0]), seed=st.integers(0, 2**16))
def test_property_with_phrases_unmix_restores_the_input_and_counts_add_up(text, alpha, seed):
    d = BilingualDictionary.from_pairs(SINGLE + [("ice cream", "glace"), ("the cat sat", "X"),
                                                 ("the cat", "Y")])
    mixer = CodeMixer(d, alpha, seed=seed)
    result = mixer.mix_with_report(text, key=seed)
    assert unmix(result.text, result.replacements) == text
    assert result.text == mixer.mix(text, key=seed)
    assert mixer.mix_counted(text, key=seed) == (result.text, result.words, result.replaced)
    assert result.replaced + result.identical + len(result.kept) == result.covered
    assert result.words - result.phrases + result.phrase_words == len(mixer.segment(text)[0]) // 2
    for r in result.replacements:
        if " " in r.source:
            assert r.target in ("glace", "X", "Y", "Glace", "GLACE")
    # ASCII words are keyed by lower() without the key cache (mixer._PhraseMatcher): the same
    # matches as through it.
    matcher = mixer._surface_table().phrases
    pieces = mixer.segment(text)[0]
    words, hits = pieces[1::2], [None] * (len(pieces) // 2)
    assert matcher.merge(pieces, words, hits, True) == matcher.merge(pieces, words, hits, False)
