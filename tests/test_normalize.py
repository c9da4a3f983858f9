"""The text-normalisation stage (rosearch.robust.normalize) and its fold table (rosearch.robust.confusables)."""

from __future__ import annotations

import pytest

from rosearch.robust.confusables import latin_fold
from rosearch.robust.normalize import TextNormalizer, drop_invisible, read_symbols, strip_latin_accents

COUNTS = {"the": 1000, "was": 900, "movie": 100, "terrible": 50, "boring": 40, "great": 30, "awful": 10, "stupid": 5,
          "naive": 3, "cafe": 3, "hello": 2, "tell": 8, "till": 4, "good": 60}


@pytest.fixture(scope="module")
def normalize() -> TextNormalizer:
    return TextNormalizer(latin_fold(), COUNTS)


@pytest.mark.parametrize("text, expected", [
    # the table: what a user can paste reaches the recogniser as the words it means
    ("the m0vie was t3rrible", "the movie was terrible"),
    ("the m\u043evie was terrible", "the movie was terrible"),               # Cyrillic о
    ("the mo\u200bvie was bor1ng", "the movie was boring"),                  # zero-width space, 1 for i
    ("the movi\u00e9 was great", "the movie was great"),                     # an accent, not a misspelling
    ("the movie\u0301 was great", "the movie was great"),                    # a combining accent
    # Unicode compatibility forms (NFKC)
    ("\uff4d\uff4f\uff56\uff49\uff45", "movie"),                              # fullwidth
    ("\U0001d426\U0001d428\U0001d42f\U0001d422\U0001d41e", "movie"),          # mathematical bold
    ("the\u00a0movie", "the movie"),                                         # no-break space
    # invisible characters inside words
    ("g\u200do\u200co\u2060d", "good"), ("te\u00adrrible", "terrible"), ("\ufeffthe movie", "\ufeffthe movie"),
    ("b\u202eoring", "boring"), ("mo\u034fvie", "movie"), ("m\ufe0fovie", "movie"),
    # lookalikes of other scripts
    ("\u0441\u0430f\u0435", "cafe"),                                         # Cyrillic с а е around a Latin f
    ("the \u03bfk movie", "the ok movie"),                                   # Greek ο in a Latin text
    ("the movie was \u13a0\u13ac", "the movie was DE"),                      # Cherokee Ꭰ Ꭼ in a Latin text
    ("\u0442\u043e\u0442 \u0444\u0438\u043b\u044c\u043c", "\u0442\u043e\u0442 \u0444\u0438\u043b\u044c\u043c"),  # a Russian text stays
    ("\u03ba\u03b1\u03bb\u03cc \u03b2\u03b9\u03b2\u03bb\u03af\u03bf", "\u03ba\u03b1\u03bb\u03cc \u03b2\u03b9\u03b2\u03bb\u03af\u03bf"),  # Greek stays
    # digits and symbols inside words
    ("M0VIE", "MOVIE"), ("Aw3some m0vie", "Awesome movie"), ("@wful", "awful"), ("$tupid!", "stupid!"), ("h3ll0", "hello"),
    ("t1ll", "till"), ("t3rribel", "terribel"),                              # no known reading: digits between letters read as letters
    # ordinary text left alone
    ("90s mp3 2nd 2000 covid19 a1", "90s mp3 2nd 2000 covid19 a1"), ("great!!", "great!!"), ("I'm 100% sure", "I'm 100% sure"),
    ("\u6771\u4eac\u306e\u6620\u753b\u306f\u3059\u3054\u3044", "\u6771\u4eac\u306e\u6620\u753b\u306f\u3059\u3054\u3044"),  # CJK
    ("\u304c \u30ac", "\u304c \u30ac"),                                      # kana voicing marks kept
    ("\u0939\u093f\u0902\u0926\u0940", "\u0939\u093f\u0902\u0926\u0940"),    # Devanagari vowel signs kept
    ("I \u2764\ufe0f it \U0001f468\u200d\U0001f469\u200d\U0001f467", "I \u2764\ufe0f it \U0001f468\u200d\U0001f469\u200d\U0001f467"),  # emoji whole
    ("the movie was great", "the movie was great"), ("", ""),
])
def test_normalises_what_users_paste_and_leaves_ordinary_text(normalize: TextNormalizer, text: str, expected: str) -> None:
    assert normalize(text) == expected
    assert normalize(expected) == expected  # idempotent: normalised text is a fixed point


@pytest.mark.parametrize("text, expected", [
    ("a\u200bb", "ab"), ("\u200bab", "\u200bab"), ("1\u200b2", "12"), ("\U0001f44d\u200d\U0001f3fb", "\U0001f44d\u200d\U0001f3fb"),
])
def test_invisible_characters_go_only_where_they_split_a_word(text: str, expected: str) -> None:
    assert drop_invisible(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("na\u00efve caf\u00e9", "naive cafe"), ("\u00c9t\u00e9", "Ete"), ("se\u00f1or", "senor"), ("\u0451", "\u0451"), ("ascii", "ascii"),
])
def test_accents_go_from_latin_letters_only(text: str, expected: str) -> None:
    assert strip_latin_accents(text) == expected


@pytest.mark.parametrize("text, counts, expected", [
    ("b0r1ng", {"boring": 1}, "boring"),
    ("t1ll", {"tell": 9, "till": 1}, "till"),          # only "till" is a reading (1 → i or l)
    ("1ll", {"ill": 1, "lll": 5}, "lll"),               # the most frequent known reading
    ("mp3", {}, "mp3"),                                 # a digit at the end, nothing known: unchanged
    ("x5y", {}, "xsy"),                                 # between letters: read as a letter
    ("x$y", {}, "x$y"),                                 # a symbol between letters with no known reading: unchanged
    ("a0" * 8, {}, "a0" * 8),                           # too many readings to try
])
def test_symbols_are_read_against_the_vocabulary(text: str, counts: dict[str, int], expected: str) -> None:
    assert read_symbols(text, counts) == expected


def test_the_fold_table_maps_lookalikes_to_latin_and_leaves_east_asian_text() -> None:
    fold = latin_fold()
    assert fold["\u043e"] == "o" and fold["\u0430"] == "a" and fold["\u03bf"] == "o" and fold["\u0131"] == "i"
    assert all(len(v) == 1 and v.isascii() and v.isalpha() for v in fold.values())
    assert "\uff41" not in fold  # fullwidth a: NFKC folds it first
    assert not any("\u3000" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af" for ch in fold)


def test_saved_and_loaded_it_normalises_alike(tmp_path, normalize: TextNormalizer) -> None:
    path = tmp_path / "normalizer.json"
    normalize.save(path)
    again = TextNormalizer.load(path)
    for text in ("the m\u043evie was t3rrible", "g\u200dood caf\u00e9"):
        assert again(text) == normalize(text)
