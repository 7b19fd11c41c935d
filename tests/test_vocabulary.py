"""Both free-text parsers read the same vocabulary: every phrase means the same in each."""

import pytest

from facescan import vocabulary
from facescan.labels import EMOTION8, FAIRFACE7_TO_UTK5, GENDER, RACE_FAIRFACE7, RACE_UTK5
from facescan.target import parse_description
from facescan.vlm.parse import normalise


@pytest.mark.parametrize("attribute,table,labels", [
    ("gender", vocabulary.GENDER, GENDER), ("emotion", vocabulary.EMOTION, EMOTION8)])
def test_every_phrase_means_its_concept_in_both_parsers(attribute, table, labels):
    for concept, phrases in table.items():
        for phrase in phrases:
            assert normalise(attribute, f"I think {phrase}.", labels).label == concept, phrase
            cons = [(c.kind, c.value) for c in parse_description(f"the {phrase} person").constraints]
            assert (attribute, concept) in cons, (phrase, cons)


def test_race_phrases_map_to_utkface_classes_in_both_parsers():
    for concept, phrases in vocabulary.RACE.items():
        for phrase in phrases:
            got = normalise("race", f"{phrase}", RACE_UTK5).label
            want = {"latino_hispanic": "others", "middle_eastern": "others", "east_asian": "asian",
                    "southeast_asian": "asian"}.get(concept, concept)
            assert got == want, phrase
            if concept == "others":
                continue  # "the other person" is not a race
            race = [c for c in parse_description(f"the {phrase} man").constraints if c.kind == "race"]
            # the UTKFace label first, then the FairFace races it covers (a model of either set scores it)
            fairface = [r for r in RACE_FAIRFACE7 if concept in (r, FAIRFACE7_TO_UTK5[r])]
            assert race and race[0].value == concept and race[0].labels[0] == want, phrase
            assert set(race[0].labels) == {want, *fairface}, phrase


def test_every_appearance_phrase_parses_to_its_label():
    from facescan.labels import APPEARANCE

    for concept, phrases in vocabulary.APPEARANCE.items():
        assert concept in APPEARANCE
        for phrase in phrases:
            cons = [(c.kind, c.value) for c in parse_description(f"the person with {phrase}").constraints]
            assert ("appearance", concept) in cons, (phrase, cons)
