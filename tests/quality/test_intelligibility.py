"""The alignment scorer's word list: the dictionary's words, and the others with espeak-ng's pronunciation."""

from pytest_kokoro.quality.intelligibility import arpabet, words_of


def test_espeak_ipa_becomes_the_acoustic_models_phones():
    assert arpabet("kəkˈɔːɹoʊ") == ["K", "AH", "K", "AO", "R", "OW"]  # espeak-ng's "Kokoro"
    assert arpabet("θɹˈiː") == ["TH", "R", "IY"]
    assert arpabet("ˈ̃") == []


def test_words_are_split_as_the_dictionary_spells_them():
    assert words_of("Text-to-speech at 7:45, o’clock!") == ["text", "to", "speech", "at", "7", "45", "o'clock"]


def test_words_the_dictionary_lacks_are_added_with_their_pronunciation(scorer):
    words = scorer.known_words("This is Kokoro, call 555.")
    assert words[:2] == ["this", "is"] and words[2] == "kokoro__0" and words[3] == "call"
    assert all(w.startswith("555__") for w in words[4:]) and len(words) > 4
    assert scorer.known_words("😀 مرحبا") == []  # nothing English to listen for: the score is null, not a failure


def test_a_text_whose_reading_the_words_do_not_cover_is_not_judged(scorer):
    # espeak-ng reads "$3.50" as "three dollars fifty" and the digits after a point one by one: no list of the
    # text's words says that, and aligning good audio to such a list would fail it.
    assert scorer.known_words("Pay $3.50 now.") == []
    assert scorer.known_words("1.3011919103328256e+16, Infinity, 2055") == []
