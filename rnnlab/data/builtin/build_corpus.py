"""Build ``everyday_english.tsv.gz``: the built-in corpus of the demo language models.

Two sources, one sentence per line, ``sentence<TAB>source``:

* the distinct English sentences of the 5,000 Tatoeba pairs in ``../shared/data/eng-fra``
  (CC-BY 2.0 France; the source column keeps each sentence's Tatoeba id and author);
* sentences generated here from templates (source ``generated``), so that the small models
  learn everyday patterns a learner will type: "I love eating" → foods, "The cat sat on the"
  → places, "She went to the" → shops and parks, subject-verb agreement across a clause, a
  name and its pronoun several words apart.

Run from the repository root (needs the shared data; the output is committed)::

    .venv/bin/python -m rnnlab.data.builtin.build_corpus ../shared/data/eng-fra/eng-fra.txt
"""

from __future__ import annotations

import gzip
import random
import sys
from pathlib import Path

OUT = Path(__file__).with_name("everyday_english.tsv.gz")
N_GENERATED = 24000
SEED = 1234

W = {
    # subjects by verb agreement: base-form verbs (I love) vs third person singular (Tom loves)
    "subj": ["I", "We", "They", "You", "The children"],
    "subj3": [
        "My sister",
        "My brother",
        "My friend",
        "Tom",
        "Mary",
        "My mother",
        "My father",
        "Everyone",
        "My grandmother",
    ],
    "love": ["love", "like", "enjoy", "hate", "really love", "don't like"],
    "love3": ["loves", "likes", "enjoys", "hates", "really loves", "doesn't like"],
    "food": [
        "pizza",
        "pasta",
        "rice",
        "bread",
        "cheese",
        "apples",
        "bananas",
        "oranges",
        "chocolate",
        "cake",
        "soup",
        "salad",
        "fish",
        "chicken",
        "eggs",
        "cookies",
        "ice cream",
        "sandwiches",
        "noodles",
        "strawberries",
        "potatoes",
        "carrots",
        "pancakes",
        "grapes",
        "sushi",
        "tomatoes",
        "cherries",
        "yogurt",
    ],
    "drink": ["coffee", "tea", "water", "milk", "orange juice", "hot chocolate", "lemonade"],
    "meal": ["breakfast", "lunch", "dinner"],
    "animal": ["cat", "dog", "bird", "kitten", "puppy", "mouse", "rabbit", "old cat", "little dog"],
    "sat": ["sat", "slept", "lay", "jumped", "sat down", "was sleeping"],
    "surface": [
        "mat",
        "sofa",
        "bed",
        "floor",
        "chair",
        "table",
        "rug",
        "roof",
        "grass",
        "windowsill",
        "carpet",
        "bench",
        "pillow",
        "wall",
        "fence",
        "couch",
    ],
    "room": [
        "kitchen",
        "garden",
        "living room",
        "bedroom",
        "house",
        "box",
        "basket",
        "car",
        "yard",
        "bathroom",
    ],
    "went": ["went", "walked", "drove", "ran"],
    "went3": ["is going", "wants to go", "likes to go"],
    "place": [
        "park",
        "shop",
        "beach",
        "library",
        "school",
        "station",
        "market",
        "cinema",
        "museum",
        "hospital",
        "bank",
        "zoo",
        "supermarket",
        "office",
        "river",
        "city",
    ],
    "when": [
        "today",
        "yesterday",
        "every day",
        "on Sunday",
        "this morning",
        "last night",
        "after school",
        "in the evening",
        "on Monday",
        "at the weekend",
    ],
    "weather": ["cold", "hot", "sunny", "rainy", "windy", "cloudy", "warm", "snowing"],
    "colour": ["red", "blue", "green", "yellow", "black", "white", "purple", "orange", "pink"],
    "thing": [
        "car",
        "bike",
        "house",
        "door",
        "dress",
        "shirt",
        "hat",
        "bag",
        "cup",
        "ball",
        "book",
        "phone",
        "coat",
        "umbrella",
    ],
    "feel": [
        "happy",
        "sad",
        "tired",
        "hungry",
        "thirsty",
        "angry",
        "sleepy",
        "busy",
        "cold",
        "excited",
        "bored",
        "scared",
    ],
    "read": [
        "reading a book",
        "watching TV",
        "playing football",
        "doing homework",
        "cooking",
        "listening to music",
        "playing the piano",
        "writing a letter",
        "cleaning the house",
    ],
    "noun_sg": ["dog", "boy", "girl", "teacher", "man", "woman", "cat", "student", "doctor"],
    "noun_pl": ["dogs", "boys", "girls", "teachers", "men", "women", "cats", "students", "doctors"],
    "mod": [
        "near the door",
        "with the red hat",
        "in the garden",
        "from the village",
        "next to my house",
        "that I met yesterday",
        "on the old bench",
        "with two bags",
    ],
    "adj": ["happy", "tired", "hungry", "very kind", "asleep", "late", "funny", "tall"],
    "he": ["Tom", "John", "my brother", "my father", "the boy", "the old man"],
    "she": ["Mary", "Anna", "my sister", "my mother", "the girl", "the old woman"],
    "num": ["two", "three", "four", "five", "six", "ten"],
    "plural": ["apples", "books", "cats", "dogs", "friends", "cups", "eggs", "chairs"],
    "day": ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"],
}

TEMPLATES = [
    ("{subj} {love} eating {food}.", 3),
    ("{subj3} {love3} eating {food}.", 3),
    ("I love eating {food}.", 4),
    ("I love eating {food} and {food}.", 2),
    ("I love eating {food} {when}.", 2),
    ("{subj} {love} eating {food} for {meal}.", 1),
    ("{subj3} {love3} eating {food} for {meal}.", 1),
    ("{subj} had {food} for {meal}.", 2),
    ("{subj3} had {food} for {meal}.", 2),
    ("We ate {food} for {meal} {when}.", 2),
    ("Can I have some {food}, please?", 2),
    ("{subj3} cooked {food} for {meal}.", 2),
    ("My favourite food is {food}.", 2),
    ("I drink {drink} every morning.", 2),
    ("{subj3} would like a cup of {drink}.", 1),
    ("The {animal} {sat} on the {surface}.", 6),
    ("The cat sat on the {surface}.", 4),
    ("The cat sat on the {surface} {when}.", 3),
    ("The {animal} {sat} on the {surface} {when}.", 3),
    ("My {animal} {sat} on the {surface}.", 2),
    ("The {animal} is sleeping on the {surface}.", 2),
    ("The {animal} ran into the {room}.", 2),
    ("The {animal} is in the {room}.", 2),
    ("There is a {animal} on the {surface}.", 2),
    ("{subj} {went} to the {place} {when}.", 2),
    ("{subj3} {went} to the {place} {when}.", 2),
    ("{subj3} {went3} to the {place} {when}.", 2),
    ("She went to the {place}.", 2),
    ("Let's go to the {place}.", 1),
    ("It is {weather} {when}.", 2),
    ("It was {weather} {when}, so we stayed at home.", 1),
    ("My {thing} is {colour}.", 2),
    ("I bought a {colour} {thing} {when}.", 2),
    ("{subj3} feels {feel} {when}.", 1),
    ("I am {feel} because it is late.", 1),
    ("{subj3} likes {read}.", 2),
    ("{subj3} was {read} when the phone rang.", 1),
    ("The {noun_sg} {mod} is {adj}.", 3),
    ("The {noun_pl} {mod} are {adj}.", 3),
    ("The {noun_sg} {mod} was {adj}.", 1),
    ("The {noun_pl} {mod} were {adj}.", 1),
    ("{he} said that he was {feel}.", 2),
    ("{she} said that she was {feel}.", 2),
    ("{he} lost his {thing} at the {place}.", 1),
    ("{she} lost her {thing} at the {place}.", 1),
    ("{he} went to the {place} and he bought {food}.", 1),
    ("{she} went to the {place} and she bought {food}.", 1),
    ("I have {num} {plural}.", 1),
    ("See you on {day}.", 1),
    ("We play football every {day}.", 1),
]


def _capitalise(s: str) -> str:
    return s[:1].upper() + s[1:]


def generate(n: int, seed: int = SEED) -> list[str]:
    """``n`` distinct template sentences (fewer if the templates run dry), deterministic."""
    rng = random.Random(seed)
    weights = [w for _, w in TEMPLATES]
    out: dict[str, None] = {}
    tries = 0
    while len(out) < n and tries < 50 * n:
        tries += 1
        tpl = rng.choices([t for t, _ in TEMPLATES], weights)[0]
        parts, s = tpl.split("{"), ""
        s = parts[0]
        for p in parts[1:]:
            key, rest = p.split("}", 1)
            s += rng.choice(W[key]) + rest
        out[_capitalise(s)] = None
    return list(out)


def tatoeba(path: Path) -> list[tuple[str, str]]:
    """Distinct English sentences with their Tatoeba attribution (the English side only)."""
    seen: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        en, _fr, attr = line.split("\t")
        # "CC-BY 2.0 (France) Attribution: tatoeba.org #2877272 (CM) & #1158250 (Wittydev)"
        eng_part = attr.split("Attribution:", 1)[1].split("&")[0].strip()
        seen.setdefault(en.strip(), f"CC-BY 2.0 FR {eng_part}")
    return list(seen.items())


def build(src: Path, out: Path = OUT) -> int:
    rows = tatoeba(src) + [(s, "generated") for s in generate(N_GENERATED)]
    random.Random(SEED).shuffle(rows)
    data = "".join(f"{s}\t{a}\n" for s, a in rows).encode()
    # mtime=0: the same input gives the same bytes
    out.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    return len(rows)


if __name__ == "__main__":
    src = Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/eng-fra/eng-fra.txt")
    print(f"wrote {build(src)} sentences to {OUT}")
