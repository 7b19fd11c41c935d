"""English words for the attribute labels, shared by the two parsers that read free text: the
normaliser of vision-language answers (:mod:`facescan.vlm.parse`) and the parser of person
descriptions (:mod:`facescan.target.parse`).

Each table maps a concept to its phrases: lower case, words separated by single spaces (both
parsers turn ``-`` and ``_`` into spaces first). Race concepts are FairFace's 7 classes plus
``asian`` (UTKFace's, which FairFace splits in two) and ``others`` (UTKFace's catch-all).
"""

from __future__ import annotations

GENDER: dict[str, tuple[str, ...]] = {
    "male": ("male", "males", "man", "men", "boy", "boys", "guy", "guys", "gentleman", "gent",
             "masculine", "he", "him", "his", "himself", "husband", "father", "dad", "grandfather",
             "grandpa", "son", "brother", "mr", "sir", "lad", "dude", "fellow", "bloke", "groom",
             "king", "uncle"),
    "female": ("female", "females", "woman", "women", "girl", "girls", "lady", "ladies",
               "feminine", "she", "her", "hers", "herself", "wife", "mother", "mom", "mum",
               "grandmother", "grandma", "granny", "daughter", "sister", "mrs", "ms", "miss", "gal",
               "madam", "bride", "queen", "aunt"),
}

RACE: dict[str, tuple[str, ...]] = {
    "white": ("white", "whites", "caucasian", "caucasians", "european"),
    "black": ("black", "blacks", "african", "african american", "afro american", "afro"),
    "latino_hispanic": ("latino", "latina", "latinos", "latinx", "hispanic", "hispanics",
                        "latino hispanic", "hispanic latino"),
    "east_asian": ("east asian", "east asians", "chinese", "japanese", "korean"),
    "southeast_asian": ("southeast asian", "south east asian", "southeast asians", "filipino",
                        "filipina", "vietnamese", "thai", "indonesian", "malaysian"),
    "indian": ("indian", "indians", "south asian", "pakistani", "bangladeshi", "sri lankan"),
    "middle_eastern": ("middle eastern", "middle east", "arab", "arabic", "persian"),
    "asian": ("asian", "asians"),
    "others": ("other", "others"),
}

EMOTION: dict[str, tuple[str, ...]] = {
    "neutral": ("neutral", "neutrality", "calm", "expressionless", "no emotion", "blank", "serious",
                "straight faced", "poker faced"),
    "happy": ("happy", "happiness", "joy", "joyful", "smiling", "smile", "smiles", "glad",
              "cheerful", "grinning", "grin", "laughing", "beaming"),
    "sad": ("sad", "sadness", "unhappy", "sorrow", "sorrowful", "crying", "tearful", "gloomy",
            "miserable", "depressed", "frowning"),
    "surprise": ("surprise", "surprised", "astonished", "astonishment", "shocked", "amazed",
                 "startled"),
    "fear": ("fear", "afraid", "scared", "fearful", "frightened", "terrified", "anxious", "nervous",
             "worried"),
    "disgust": ("disgust", "disgusted", "revolted", "grossed out"),
    "angry": ("angry", "anger", "mad", "furious", "rage", "annoyed", "irritated", "enraged",
              "scowling", "grumpy"),
    "contempt": ("contempt", "contemptuous", "disdain", "scorn"),
}

# looks, by facescan.labels.APPEARANCE name (CelebA's Eyeglasses includes sunglasses)
APPEARANCE: dict[str, tuple[str, ...]] = {
    "eyeglasses": ("glasses", "eyeglasses", "sunglasses", "spectacles", "specs", "shades", "bespectacled"),
    "wearing_hat": ("hat", "hats", "cap", "caps", "beanie", "helmet", "hatted"),
    "beard": ("beard", "bearded", "beards", "goatee", "stubble"),
    "mustache": ("moustache", "mustache", "moustached", "mustached", "moustaches", "mustaches"),
    "bald": ("bald", "balding", "bald headed", "hairless"),
    "bangs": ("bangs", "fringe"),
}

# ages above this (years) are read as nonsense, not as ages
MAX_AGE = 120

# decade words -> the decade's first year ("thirties" -> 30)
DECADES: dict[str, int] = {"twenties": 20, "thirties": 30, "forties": 40, "fifties": 50, "sixties": 60,
                           "seventies": 70, "eighties": 80, "nineties": 90}


def by_phrase(table: dict[str, tuple[str, ...]], skip: tuple[str, ...] = ()) -> dict[str, str]:
    """phrase -> concept, leaving out the concepts in ``skip``."""
    return {phrase: concept for concept, phrases in table.items() if concept not in skip
            for phrase in phrases}
