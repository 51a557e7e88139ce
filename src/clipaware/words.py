"""Words every layer shares: singular forms of nouns and the number words.

The query analyzer, the detectors (which map query nouns to their classes), the routes (which match a
detection's label to a query's noun) and the shapes world all need the same answer to "what is the singular
of this noun" and "how is 7 spelled": one copy here keeps them from drifting apart.
"""

from __future__ import annotations

# Number words by value: ``NUMBER_WORDS[n]`` spells n. The analyzer adds the tens, "hundred", "dozen", … from
# its lexicon (``query/lexicons/numbers.txt``); these are the ones a count is written with.
NUMBER_WORDS: tuple[str, ...] = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve",
    "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty",
)  # fmt: skip

IRREGULAR_PLURALS = {
    "buses": "bus",
    "sheep": "sheep",
    "skis": "skis",
    "scissors": "scissors",
    "men": "man",
    "women": "woman",
    "children": "child",
    "people": "person",
    "mice": "mouse",
    "geese": "goose",
    "teeth": "tooth",
    "feet": "foot",
    "oxen": "ox",
    "knives": "knife",
    "wives": "wife",
    "leaves": "leaf",
    "wolves": "wolf",
    "calves": "calf",
    "shelves": "shelf",
    "halves": "half",
    "loaves": "loaf",
    "thieves": "thief",
    "cacti": "cactus",
    "fungi": "fungus",
    "ppl": "person",
}


def singular(word: str) -> str:
    """One best singular guess for display ("puppies" -> "puppy", "glasses" -> "glass", "ones" -> "one").

    A phrase is made singular by its last word ("red cars" -> "red car"), as English marks the head noun.
    """
    head, space, word = word.strip().lower().rpartition(" ")
    if head:
        return head + space + singular(word)
    if word in IRREGULAR_PLURALS:
        return IRREGULAR_PLURALS[word]
    if word.endswith("'s"):
        word = word[:-2]
    if len(word) <= 3 or not word.endswith("s") or word.endswith(("ss", "us", "is")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("ches", "shes", "xes", "sses", "zes")):
        return word[:-2]
    return word[:-1]


_VOWELS = frozenset("aeiou")


def ing_form(verb: str) -> str:
    """The present participle of a base-form verb ("chase" -> "chasing", "run" -> "running", "lie" -> "lying").

    A phrasal verb inflects its first word ("pick up" -> "picking up").
    """
    word, space, rest = verb.strip().lower().partition(" ")
    if word.endswith("ie"):
        stem = word[:-2] + "y"
    elif word.endswith("e") and not word.endswith(("ee", "ye", "oe")) and len(word) > 2:
        stem = word[:-1]
    elif (
        len(word) in (3, 4)  # one short syllable ending consonant-vowel-consonant doubles its consonant
        and not (len(word) == 4 and word[0] in _VOWELS)  # "open", "edit": two syllables
        and word[-1] not in _VOWELS | {"w", "x", "y"}
        and word[-2] in _VOWELS
        and word[-3] not in _VOWELS
    ):
        stem = word + word[-1]
    else:
        stem = word
    return stem + "ing" + space + rest
