"""The pure parts of the vision-language backends: answer normalisers, prompts, conversion."""

import json
import math

import pytest

from facescan import ConfigError
from facescan.labels import AGE5, AGE9, EMOTION7, EMOTION8, GENDER, RACE_FAIRFACE7, RACE_UTK5
from facescan.vlm.backend import Answer, to_prediction
from facescan.vlm.parse import normalise, parse_age_interval, parse_choice, schema_errors
from facescan.vlm.prompts import PAPER_TEMPLATES, PromptSet, load_prompts, parse_label_sets

# (attribute, answer, label set, expected label or None for unparsed)
CASES = [
    ("gender", "Male", GENDER, "male"),
    ("gender", "a woman", GENDER, "female"),
    ("gender", "FEMALE.", GENDER, "female"),
    ("gender", "The person in the image is a man.", GENDER, "male"),
    ("gender", "boys", GENDER, "male"),
    ("gender", "male or female", GENDER, None),           # contradictory
    ("gender", "fem", GENDER, None),                      # truncated
    ("gender", "", GENDER, None),                         # empty
    ("gender", "   ", GENDER, None),
    ("gender", "\x00\x07 ###", GENDER, None),             # garbage
    ("race", "Latino_Hispanic", RACE_FAIRFACE7, "latino_hispanic"),
    ("race", "hispanic", RACE_FAIRFACE7, "latino_hispanic"),
    ("race", "latino", RACE_UTK5, "others"),
    ("race", "Middle Eastern", RACE_FAIRFACE7, "middle_eastern"),
    ("race", "middle eastern", RACE_UTK5, "others"),
    ("race", "East Asian", RACE_FAIRFACE7, "east_asian"),
    ("race", "South-East Asian", RACE_FAIRFACE7, "southeast_asian"),
    ("race", "southeast asian", RACE_UTK5, "asian"),
    ("race", "asian", RACE_UTK5, "asian"),
    ("race", "asian", RACE_FAIRFACE7, None),              # cannot be split: never guessed
    ("race", "Caucasian", RACE_FAIRFACE7, "white"),
    ("race", "whites", RACE_UTK5, "white"),
    ("race", "others", RACE_FAIRFACE7, None),
    ("race", "white or black", RACE_UTK5, None),
    ("race", "Indi", RACE_UTK5, None),
    ("emotion", "Happiness", EMOTION8, "happy"),
    ("emotion", "smiling", EMOTION7, "happy"),
    ("emotion", "anger", EMOTION8, "angry"),
    ("emotion", "Surprised!", EMOTION7, "surprise"),
    ("emotion", "contempt", EMOTION8, "contempt"),
    ("emotion", "contempt", EMOTION7, None),              # not in FER2013's set
    ("emotion", "happy and sad", EMOTION8, None),
    ("age", "from 20 to 39", AGE5, "20-39"),             # FaceScanPaliGemma's wording
    ("age", "More than 60", AGE5, "60+"),
    ("age", "20-39", AGE5, "20-39"),
    ("age", "20-39", AGE9, None),                         # spans two 9-groups
    ("age", "25 years old", AGE9, "20-29"),
    ("age", "25", AGE5, "20-39"),
    ("age", "0-2", AGE9, "0-2"),
    ("age", "70+", AGE9, "70+"),
    ("age", "70+", AGE5, "60+"),
    ("age", "in his 30s", AGE9, "30-39"),
    ("age", "thirties", AGE5, "20-39"),
    ("age", "between 40 and 59", AGE5, "40-59"),
    ("age", "under 10", AGE5, "0-9"),
    ("age", "teenager", AGE9, "10-19"),
    ("age", "20 or 30", AGE5, None),                      # two answers
    ("age", "150", AGE5, None),                           # impossible
    ("age", "young", AGE5, None),
    ("age", "", AGE9, None),
]


@pytest.mark.parametrize("attribute,text,labels,expected", CASES)
def test_normalise_table(attribute, text, labels, expected):
    parsed = normalise(attribute, text, labels)
    assert parsed.label == expected
    if expected is not None:
        assert parsed.label in labels


def test_age_years_only_from_one_number_and_group5_even_when_9_groups_fail():
    assert normalise("age", "about 47 years", AGE9).years == 47
    assert normalise("age", "40-59", AGE9).years is None
    wide = normalise("age", "from 20 to 39", AGE9)
    assert wide.label is None and wide.group5 == "20-39"
    assert parse_age_interval("60 and above") == (60, math.inf)


@pytest.mark.parametrize("text,expected", [
    ('{"answer": "female"}', "female"), ('"male"', "male"), ("male", "male"),
    ('{"answer": "robot"}', None), ('{"other": "male"}', None), ("", None), ('{"answer": 3}', None),
    ('{"answer": "fem', None)])
def test_closed_answers_are_validated(text, expected):
    assert parse_choice(text, GENDER) == expected


def test_schema_validation():
    schema = {"type": "object", "additionalProperties": False, "required": ["mark", "why"],
              "properties": {"mark": {"type": "integer", "minimum": 1}, "why": {"type": "string"},
                             "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}}}}
    assert schema_errors({"mark": 2, "why": "beard", "tags": ["a"]}, schema) == []
    assert schema_errors({"mark": 0, "why": "x"}, schema)
    assert schema_errors({"mark": 2}, schema)
    assert schema_errors({"mark": 2, "why": "x", "extra": 1}, schema)
    assert schema_errors({"mark": True, "why": "x"}, schema)
    assert schema_errors({"mark": 1, "why": "x", "tags": ["c"]}, schema)


def test_prompts_default_override_and_version(tmp_path):
    paper = PromptSet()
    assert paper.question("age", AGE5) == "what is the age group of the person in the image?"
    assert paper.templates == PAPER_TEMPLATES and paper.version == "paper-v1"
    f = tmp_path / "p.json"
    f.write_text(json.dumps({"templates": {"race": "Race? One of: {labels}."}}))
    custom = load_prompts(f)
    assert custom.version.startswith("custom-") and custom.version != paper.version
    assert custom.question("race", RACE_UTK5) == "Race? One of: white, black, asian, indian, others."
    assert custom.question("gender", GENDER) == PAPER_TEMPLATES["gender"]
    f.write_text(json.dumps({"version": "v9", "templates": {"height": "?"}}))
    with pytest.raises(ConfigError, match="height"):
        load_prompts(f)
    assert parse_label_sets("race=utk5")["race"] == "utk5"
    with pytest.raises(ConfigError, match="label set"):
        parse_label_sets("race=age5")


def test_answers_become_predictions():
    free = to_prediction("race", Answer("East Asian"), RACE_FAIRFACE7, False, "v1")
    assert (free.label, free.raw, free.unparsed, free.prompt_version) == ("east_asian", "East Asian", False, "v1")
    bad = to_prediction("gender", Answer("a cat"), GENDER, False, "v1")
    assert bad.unparsed and bad.label == "unparsed" and bad.probs == {} and bad.to_dict()["raw"] == "a cat"
    scored = to_prediction("age", Answer("x", {"0-2": -0.6, "3-9": -0.7, "10-19": -9.0, "20-29": -0.5,
                                               "30-39": -9, "40-49": -9, "50-59": -9, "60-69": -9, "70+": -9}),
                           AGE9, True, "v1")
    assert scored.label == "20-29" and sum(scored.probs.values()) == pytest.approx(1.0)
    assert scored.group5 == "0-9"  # 0-2 and 3-9 together outweigh 20-29
    enum = to_prediction("age", Answer('{"answer": "40-59"}'), AGE5, True, "v1")
    assert enum.label == enum.group5 == "40-59"
