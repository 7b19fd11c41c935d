"""The description parser, table-driven: words, numbers, word order, noise, contradictions."""

import pytest

from facescan.target import parse_description
from facescan.target.colors import accepted, colour_word


def _cons(text):
    return {(c.kind, c.value) + (("not",) if c.negated else ()) for c in parse_description(text).constraints}


PARSES = [
    ("the elderly woman in the red top", {("age", "60+"), ("gender", "female"), ("clothing_color", "red")}),
    ("the man in the blue shirt", {("gender", "male"), ("clothing_color", "blue")}),
    ("Blue shirt, man.", {("gender", "male"), ("clothing_color", "blue")}),
    ("BOY wearing a navy-blue T-shirt!!", {("gender", "male"), ("age", "0-19"), ("clothing_color", "navy")}),
    ("a teenager", {("age", "10-19")}),
    ("the girl in her thirties", {("gender", "female"), ("age", "30-39")}),
    ("woman in her early 30s", {("gender", "female"), ("age", "30-33")}),
    ("someone about 40", {("age", "35-45")}),
    ("a 40-year-old", {("age", "38-42")}),
    ("person over 60", {("age", "61+")}),
    ("younger than 10", {("age", "0-9")}),
    ("between 20 and 30", {("age", "20-30")}),
    ("30-40 year old man", {("age", "30-40"), ("gender", "male")}),
    ("the baby", {("age", "0-2")}),
    ("middle-aged guy", {("age", "40-59"), ("gender", "male")}),
    ("the young adult", {("age", "20-39")}),
    ("the East Asian lady", {("race", "east_asian"), ("gender", "female")}),
    ("an african american man", {("race", "black"), ("gender", "male")}),
    ("latino_hispanic person", {("race", "latino_hispanic")}),
    ("the Middle Eastern man", {("race", "middle_eastern"), ("gender", "male")}),
    ("the Indian kid", {("race", "indian"), ("age", "0-9")}),
    ("the white man in white", {("race", "white"), ("gender", "male"), ("clothing_color", "white")}),
    ("a woman in black", {("gender", "female"), ("clothing_color", "black")}),
    ("the black woman with dark hair", {("race", "black"), ("gender", "female"), ("hair_color", "dark")}),
    ("grey-haired man", {("hair_color", "grey"), ("gender", "male")}),
    ("the blonde", {("hair_color", "blonde")}),
    ("the redhead in the teal jacket", {("hair_color", "red"), ("clothing_color", "teal")}),
    ("person in a maroon sweater", {("clothing_color", "maroon")}),
    ("in the beige dress", {("clothing_color", "beige")}),
    ("smiling girl", {("emotion", "happy"), ("gender", "female"), ("age", "0-19")}),
    ("the furious one", {("emotion", "angry")}),
    ("a scared child", {("emotion", "fear"), ("age", "0-9")}),
    ("the woman on the left", {("gender", "female"), ("position", "left:1")}),
    ("right", {("position", "right:1")}),
    ("the person in the centre", {("position", "middle")}),
    ("second from the left", {("position", "left:2")}),
    ("the 3rd person from the right", {("position", "right:3")}),
    ("the man in the back", {("gender", "male"), ("depth", "back")}),
    ("the person in front", {("depth", "front")}),
    ("man not smiling", {("gender", "male"), ("emotion", "happy", "not")}),
    ("the woman who is not in red", {("gender", "female"), ("clothing_color", "red", "not")}),
]


@pytest.mark.parametrize("text,expected", PARSES)
def test_parser_table(text, expected):
    query = parse_description(text)
    assert _cons(text) == expected, query
    assert query.contradictions == ()


@pytest.mark.parametrize("text", ["", "   ", "!!!", "the", "the person", "a picture of someone"])
def test_empty_descriptions_have_no_constraints(text):
    query = parse_description(text)
    assert query.constraints == () and query.contradictions == () and query.not_understood == ()


@pytest.mark.parametrize("text,unknown", [
    ("xyzzy frobnicate", ("xyzzy", "frobnicate")),
    ("the woman holding a trombone", ("trombone",)),
    ("\u00e9\u00e8 \U0001F600 zzz", ("zzz",)),
])
def test_unknown_words_are_reported(text, unknown):
    query = parse_description(text)
    assert set(unknown) <= set(query.not_understood)


def test_known_but_unmeasurable_words_are_unsupported():
    query = parse_description("the tall man with a tie and a tattoo")
    assert {"tall", "tie", "tattoo"} <= set(query.unsupported)
    assert _cons("the tall man with a tie and a tattoo") == {("gender", "male")}


@pytest.mark.parametrize("text,expected", [
    ("the bald man with glasses and a beard", {("gender", "male"), ("appearance", "bald"),
                                               ("appearance", "eyeglasses"), ("appearance", "beard")}),
    ("woman in sunglasses and a hat", {("gender", "female"), ("appearance", "eyeglasses"),
                                       ("appearance", "wearing_hat")}),
    ("the guy with a moustache, not wearing glasses", {("gender", "male"), ("appearance", "mustache"),
                                                       ("appearance", "eyeglasses", "not")}),
    ("blond girl with bangs", {("gender", "female"), ("age", "0-19"), ("hair_color", "blonde"),
                               ("appearance", "bangs")}),
    ("the bearded one in a cap, contemptuous", {("appearance", "beard"), ("appearance", "wearing_hat"),
                                                ("emotion", "contempt")}),
])
def test_looks_become_appearance_constraints(text, expected):
    query = parse_description(text)
    assert _cons(text) == expected and not query.unsupported and not query.contradictions


@pytest.mark.parametrize("text,kind", [
    ("the man who is a woman", "gender"),
    ("a child in his fifties", "age"),
    ("elderly teenager", "age"),
    ("the Asian white person", "race"),
    ("happy and sad", "emotion"),
    ("on the left, on the right", "position"),
    ("in front at the back", "depth"),
    ("blonde with black hair", "hair_color"),
    ("a man and not a man", "gender"),
])
def test_contradictions_are_reported(text, kind):
    contradictions = parse_description(text).contradictions
    assert any(c.startswith(kind) for c in contradictions), contradictions


def test_compatible_repeats_are_not_contradictions():
    query = parse_description("the woman with her red and white top, in her twenties")
    assert query.contradictions == ()
    assert [c.value for c in query.constraints if c.kind == "gender"] == ["female"]
    assert {c.value for c in query.constraints if c.kind == "clothing_color"} == {"red", "white"}


def test_colour_words_map_to_shades_and_families():
    assert colour_word("navy blue") == "navy" and colour_word("gray") == "grey"
    assert colour_word("blonde") is None  # hair only
    assert accepted("blue")["navy"] == 1.0  # a navy shirt is blue
    assert accepted("navy")["blue"] < 0.5   # a blue shirt is not quite navy
    assert "teal" in accepted("blue") and accepted("blue")["teal"] < 0.5
    assert "purple" not in accepted("pink")
