"""Copy-through of numbers and unseen names: the slots, and a small translator trained on real
sentence shapes that carries a number and a name it never saw into its translation."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from rnnlab.data.copythrough import SLOTS, mask_pair, mask_source, unmask

NEVER = lambda w: False  # noqa: E731  (no word is a whole piece: every name is copied)


def test_only_spans_the_target_carries_become_slots_in_training():
    src, tgt = mask_pair("Tom is 25, not 3.", "Tom a 25 ans, pas trois.", NEVER)
    assert (src, tgt) == ("<copy0> is <copy1>, not 3.", "<copy0> a <copy1> ans, pas trois.")
    # a name the vocabulary knows is left to the model ("Mary" -> "Marie")
    known = lambda w: w.lower() == "mary"  # noqa: E731
    assert mask_pair("Mary has 2 dogs.", "Marie a 2 chiens.", known)[0] == "Mary has <copy0> dogs."


def test_spans_are_whole_words_and_numbers_repeated_spans_share_a_slot():
    src, fills = mask_source("Room 107, not 1070 or 10.7; Anna and Anna.", NEVER)
    assert src == "<copy0> <copy1>, not <copy2> or <copy3>; Anna and Anna."  # 4 slots at most
    assert fills == dict(zip(SLOTS, ["Room", "107", "1070", "10.7"]))
    src, fills = mask_source("Zoë met Zoë at 9.", NEVER)
    assert src == "<copy0> met <copy0> at <copy1>." and fills["<copy0>"] == "Zoë"
    assert mask_source("i am cold.", NEVER) == ("i am cold.", {})  # lower case: not a name


@settings(max_examples=80, deadline=None)
@given(st.text(alphabet=st.sampled_from("abAZé 0123456789.,?"), max_size=40))
def test_unmask_inverts_mask(text):
    masked, fills = mask_source(text, NEVER)
    assert unmask(masked, fills) == text


def test_a_translator_carries_an_unseen_number_and_name_through(tmp_path):
    from rnnlab.tasks.translate.infer import load_translator, translate, translate_batch
    from rnnlab.tasks.translate.train import train_translate

    rng = random.Random(0)
    names = ["Tom", "Anna", "Pierre", "Kenji", "Olga", "Marco", "Lena", "Yusuf"]
    lines = []
    for _ in range(600):
        n, k = rng.choice(names), rng.randrange(2, 90)
        lines.append(f"{n} is {k}.\t{n} a {k} ans.")
        lines.append(f"{n} has {k} books.\t{n} a {k} livres.")
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("\n".join(lines) + "\n")
    out = tmp_path / "run"
    train_translate(str(pairs), out, tokenizer="bpe", vocab_size=300, steps=250, hidden=32,
                    embed=16, batch=32, lr=1e-2, progress=False)  # fmt: skip
    tr = load_translator(out)
    # neither 4711 nor Zoltan is in the training pairs, and Zoltan is no piece of the vocabulary
    assert not tr.seg.known("Zoltan")
    t = translate(tr, "Zoltan is 4711.", beam=3)
    assert t.text == "Zoltan a 4711 ans.", t.text
    assert "<copy0>" in t.src_tokens  # the model read slots, the reader gets the text back
    assert translate_batch(tr, ["Zoltan has 4711 books."])[0] == "Zoltan a 4711 livres."
    # without copy-through the same data and steps cannot give the number back
    train_translate(str(pairs), tmp_path / "plain", tokenizer="bpe", vocab_size=300, steps=250,
                    hidden=32, embed=16, batch=32, lr=1e-2, copy=False, progress=False)  # fmt: skip
    assert "4711" not in translate(load_translator(tmp_path / "plain"), "Zoltan is 4711.").text
