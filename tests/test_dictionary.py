"""Issue 2, part 1: MUSE bilingual dictionaries."""

from pathlib import Path

import pytest

from easylm_commit.dictionary import BilingualDictionary, restore_case
from easylm_commit.errors import UserError
from easylm_commit.mixer import CodeMixer

CORE = Path(__file__).parent / "fixtures" / "core"
EN_EL = CORE / "en-el.txt"


def write_bytes(tmp_path, data, name="dict.txt"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


# -- the file format ------------------------------------------------------------------------

def test_one_pair_per_line_separated_by_space_or_tab():
    d = BilingualDictionary.load(EN_EL)
    assert d.lookup("cat") == ("γάτα",)        # space
    assert d.lookup("dog") == ("σκύλος",)      # tab


def test_a_source_on_several_lines_has_several_translations_in_file_order():
    d = BilingualDictionary.load(EN_EL)
    assert d.lookup("the") == ("το", "ο", "η")


def test_utf8_bom_and_crlf_line_ends_are_tolerated(tmp_path):
    path = write_bytes(tmp_path, "\ufeffcat γάτα\r\ndog\tσκύλος\r\n".encode("utf-8"))
    d = BilingualDictionary.load(path)
    # The BOM must not stick to the first source, nor CR to the last translation.
    assert d.lookup("cat") == ("γάτα",)
    assert d.lookup("dog") == ("σκύλος",)
    assert d.stats().skipped_lines == 0


def test_lines_that_are_not_exactly_one_pair_are_skipped_and_counted(tmp_path):
    path = write_bytes(tmp_path, "cat γάτα\n\n   \nlonely\na b c\ndog σκύλος\n".encode("utf-8"))
    d = BilingualDictionary.load(path)
    assert sorted(d.table) == ["cat", "dog"]
    assert d.stats().skipped_lines == 2     # one field, three fields (blank lines are layout)
    assert d.stats().first_skipped_line == 4
    assert "lonely" not in d and "a" not in d


def test_missing_file_is_a_user_error_naming_the_path_and_where_muse_lives(tmp_path):
    path = tmp_path / "en-xx.txt"
    with pytest.raises(UserError) as e:
        BilingualDictionary.load(path)
    assert str(path) in str(e.value)
    assert "MUSE" in str(e.value)


def test_a_dictionary_without_any_valid_pair_is_a_user_error(tmp_path):
    path = write_bytes(tmp_path, b"\none\na b c\n")
    with pytest.raises(UserError) as e:
        BilingualDictionary.load(path)
    assert str(path) in str(e.value)
    assert "MUSE" in str(e.value)


def test_an_empty_file_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="no valid"):
        BilingualDictionary.load(write_bytes(tmp_path, b""))


def test_a_file_that_is_not_utf8_is_a_user_error(tmp_path):
    path = write_bytes(tmp_path, "cat γάτα\n".encode("utf-16"))
    with pytest.raises(UserError) as e:
        BilingualDictionary.load(path)
    assert str(path) in str(e.value)


def test_a_directory_is_a_user_error(tmp_path):
    with pytest.raises(UserError):
        BilingualDictionary.load(tmp_path)


# -- direction, identical pairs, lookup ----------------------------------------------------

def test_direction_can_be_reversed():
    d = BilingualDictionary.load(EN_EL, reverse=True)
    assert d.lookup("γάτα") == ("cat",)
    for greek in ("το", "ο", "η"):
        assert d.lookup(greek) == ("the",)
    assert d.lookup("cat") is None
    # Reversing an in-memory dictionary gives the same table as reversing on load.
    assert BilingualDictionary.load(EN_EL).reversed().table == d.table


def test_identical_pairs_are_kept_by_default_and_can_be_dropped():
    assert BilingualDictionary.load(EN_EL).lookup("ok") == ("ok",)
    dropped = BilingualDictionary.load(EN_EL, keep_identical=False)
    assert dropped.lookup("ok") is None
    assert dropped.lookup("cat") == ("γάτα",)
    assert dropped.stats().pairs == BilingualDictionary.load(EN_EL).stats().pairs - 1


def test_lookup_ignores_case_for_lowercase_title_and_long_capitals():
    d = BilingualDictionary.from_pairs([("house", "σπίτι"), ("cat", "γάτα")])
    for word in ("house", "House", "HOUSE"):
        assert d.lookup(word) == ("σπίτι",)
        assert word in d
    assert d.lookup("mouse") is None


def test_two_or_three_capitals_are_an_acronym_found_only_as_written():
    d = BilingualDictionary.from_pairs([("cat", "γάτα"), ("who", "ποιος"), ("WHO", "ΠΟΥ")])
    assert d.lookup("CAT") is None              # not "cat"
    assert d.lookup("WHO") == ("ΠΟΥ",)          # an entry in capitals
    assert d.lookup("who") == ("ποιος",)
    # One capital letter is a word, not an acronym.
    assert BilingualDictionary.from_pairs([("i", "εγώ")]).lookup("I") == ("εγώ",)


def test_mixed_case_words_are_found_exactly_or_not_at_all():
    d = BilingualDictionary.from_pairs([("iphone", "x"), ("iPad", "y")])
    assert d.lookup("iPhone") is None
    assert d.lookup("iPad") == ("y",)
    assert d.lookup("ipad") is None and d.lookup("IPAD") is None


def test_sources_written_in_capitals_in_the_file_are_found_in_any_case():
    d = BilingualDictionary.from_pairs([("Paris", "Παρίσι")])
    assert d.lookup("paris") == ("Παρίσι",)
    assert d.lookup("PARIS") == ("Παρίσι",)


def test_duplicate_lines_do_not_add_translations():
    d = BilingualDictionary.from_pairs([("cat", "γάτα"), ("cat", "γάτα"), ("cat", "γατί")])
    assert d.lookup("cat") == ("γάτα", "γατί")
    assert d.stats().pairs == 2


# -- case restoration ------------------------------------------------------------------------

@pytest.mark.parametrize("source, translation, expected", [
    ("the", "το", "το"),
    ("The", "το", "Το"),          # Title -> Title (Greek)
    ("THE", "το", "ΤΟ"),          # UPPER -> UPPER (Greek)
    ("Cat", "chat", "Chat"),      # Latin
    ("CAT", "chat", "CHAT"),
    ("I", "je", "Je"),            # one capital letter reads as a sentence start
    ("The", "बिल्ली", "बिल्ली"),      # Devanagari has no case: unchanged
    ("CAT", "बिल्ली", "बिल्ली"),
    ("Cat", "แมว", "แมว"),        # nor has Thai
])
def test_case_pattern_of_the_source_is_restored_where_the_target_script_has_case(
        source, translation, expected):
    assert restore_case(source, translation) == expected


def test_mixing_restores_case_on_the_translation():
    d = BilingualDictionary.from_pairs([("the", "το"), ("house", "σπίτι"), ("dog", "कुत्ता")])
    mixed = CodeMixer(d, alpha=1.0).mix("The house. THESE HOUSE. Dog DOGS")
    # Greek in capitals drops the tonos; caseless Devanagari is unchanged.
    assert mixed == "Το σπίτι. THESE ΣΠΙΤΙ. कुत्ता DOGS"
    # The paper's plain word model looks every word up ignoring case, acronyms too.
    plain = CodeMixer(d, alpha=1.0, protect=False).mix("THE DOG")
    assert plain == "ΤΟ कुत्ता"


# -- statistics ------------------------------------------------------------------------------

def test_statistics_count_pairs_sources_translations_and_skipped_lines():
    s = BilingualDictionary.load(EN_EL).stats()
    # the x3, cat, dog, house, big, ok; skipped: one field, three fields (a blank line is layout).
    assert s.pairs == 8
    assert s.sources == 6
    assert s.mean_translations == pytest.approx(8 / 6)
    assert s.skipped_lines == 2
    assert s.as_dict() == {"pairs": 8, "sources": 6, "mean_translations": pytest.approx(8 / 6),
                           "skipped_lines": 2, "first_skipped_line": 8, "phrases": 0}
    assert len(BilingualDictionary.load(EN_EL)) == 6


@pytest.mark.parametrize("text", [
    "cat γάτα\ncat γάτος\ndog σκύλος\ncat γάτα\nthe το\n",        # lowercase ASCII sources
    "cat γάτα\nThe το\nUS ΗΠΑ\ncat γάτος\n",                       # other case patterns
    "γάτα cat\nनीचे below\n",                                       # not ASCII
])
def test_loading_a_file_is_from_pairs_of_its_lines(tmp_path, text):
    path = write_bytes(tmp_path, text.encode("utf-8"))
    pairs = [line.split() for line in text.splitlines()]
    for reverse in (False, True):
        for keep_identical in (True, False):
            loaded = BilingualDictionary.load(path, reverse=reverse, keep_identical=keep_identical)
            made = BilingualDictionary.from_pairs(pairs, reverse=reverse, keep_identical=keep_identical)
            assert list(loaded.table.items()) == list(made.table.items())
            assert loaded.exact == made.exact and loaded.stats() == made.stats()


def test_translations_restore_the_case_of_every_word_form():
    d = BilingualDictionary.from_pairs([("water", "νερό"), ("water", "ύδωρ"), ("the", "το")])
    for word in ("water", "Water", "WATER", "wATER", "The", "THE"):
        found = d.lookup(word)
        expected = None if found is None else tuple(restore_case(word, t) for t in found)
        assert d.translations(word) == expected, word


def test_the_loader_and_parse_line_read_every_line_alike(tmp_path):
    """``load`` applies the line rules inline for speed; ``parse_line`` (what ``easylm-commit
    dict`` reads with) must give the same pairs and refuse the same lines."""
    from easylm_commit.dictionary import parse_line

    lines = ["cat बिल्ली", "cat\tबिल्ली", "ice cream\tआइसक्रीम", " New   York \t न्यू यॉर्क",
             "a\t\tb", "empty\t", "\tखाली", "a\tb\tc", "this is three", "lonely", "", "  ",
             "dog\tकुत्ता\t", "big  बड़ा"]
    for line in lines:
        try:
            expected = parse_line(line)
        except ValueError:
            expected = "malformed"
        path = tmp_path / "one.txt"
        path.write_text(f"x y\n{line}\n", encoding="utf-8")  # x y: a file is never empty
        d = BilingualDictionary.load(str(path))
        if expected == "malformed":
            assert d.stats().skipped_lines == 1, line
        elif expected is None:
            assert d.stats().skipped_lines == 0 and d.stats().pairs == 1, line
        else:
            assert d.stats().skipped_lines == 0 and d.lookup(expected[0]) == (expected[1],), line
