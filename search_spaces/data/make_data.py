"""Regenerate the small data files shipped with the example search spaces (seeded, reproducible).

    python search_spaces/data/make_data.py

- churn.csv: 600 synthetic customers, numeric and categorical columns with missing values; the
  target `churned` (yes/no) follows a known logistic rule plus noise.
- waves.npz: 600 noisy sequences (40 steps, 1 feature) of three shapes: sine, square, sawtooth.
- sentiment.csv: 3,000 short English reviews of films, products and restaurants (`review`) and
  their `sentiment` (positive/negative, balanced). Most are plain opinions; the rest are built so
  that a bag of words is not enough: negation ("not good", "wasn't bad at all", "it never
  overheats"), mixed clauses where the one after "but" (or the main clause, with "although" or
  "despite") decides, and sarcasm (positive words around a bad fact: "Oh great, the battery died
  on me after a day."), which is always negative. 2% of the labels are flipped, so nothing scores
  1.0. On a seeded, stratified 80/20 split, logistic regression on a unigram bag of words scores
  0.80 (the words alone), on (1,2)-gram TF-IDF 0.93 (C by 5-fold CV; 0.88 with C=1), and small
  Keras sequence models (embedding + 1-D CNN, LSTM or GRU; under a minute on 2 cores) 0.94-0.97.
- sales.csv: 1,100 days from 2022-01-01: `date` (ISO), `temperature` (a yearly cycle + noise)
  and `sales` (last column, the target: trend + weekly pattern + summer peak + 1.2 per degree
  of temperature + AR(1) noise; always positive). On the last 20% (220 days) the one-day-ahead
  mean absolute error is 10.34 for the last value and 6.42 for the value a week before
  (seasonal naive): what a forecaster must beat.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent


def churn(n: int = 600, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n).astype(float)
    income = np.round(rng.lognormal(10.5, 0.4, n), -2)
    city = rng.choice(["berlin", "lisbon", "oslo", "rome"], n, p=[0.4, 0.25, 0.2, 0.15])
    plan = rng.choice(["basic", "plus", "pro"], n, p=[0.5, 0.3, 0.2])
    tenure = rng.integers(0, 72, n)
    calls = rng.poisson(1.5, n)
    logit = (
        -0.5
        + 0.6 * calls
        - 0.05 * tenure
        + np.where(plan == "basic", 0.9, np.where(plan == "plus", 0.0, -0.9))
        + np.where(city == "oslo", 0.8, 0.0)
        - 0.02 * (age - 45)
    )
    churned = rng.random(n) < 1.0 / (1.0 + np.exp(-logit))
    rows = []
    for i in range(n):
        row = [
            "" if rng.random() < 0.06 else f"{age[i]:.0f}",
            "NA" if rng.random() < 0.08 else f"{income[i]:.0f}",
            "" if rng.random() < 0.05 else city[i],
            plan[i],
            str(tenure[i]),
            str(calls[i]),
            "yes" if churned[i] else "no",
        ]
        rows.append(row)
    with (HERE / "churn.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        header = ["age", "income", "city", "plan", "tenure_months", "support_calls", "churned"]
        writer.writerow(header)
        writer.writerows(rows)


def waves(n: int = 600, steps: int = 40, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    t = np.arange(steps)
    y = rng.integers(0, 3, n)
    freq = rng.uniform(0.05, 0.15, n)[:, None]
    phase = rng.uniform(0, 2 * np.pi, n)[:, None]
    angle = 2 * np.pi * freq * t[None, :] + phase
    sine = np.sin(angle)
    square = np.sign(np.sin(angle))
    saw = 2 * ((angle / (2 * np.pi)) % 1.0) - 1
    x = np.where(y[:, None] == 0, sine, np.where(y[:, None] == 1, square, saw))
    x = x + rng.normal(0, 0.3, x.shape)
    np.savez_compressed(HERE / "waves.npz", x=x[..., None].astype("float32"), y=y.astype("int64"))


# ---------------------------------------------------------------------------- sentiment.csv
# A small grammar of reviews. Each domain has nouns, polar adjectives and facts, each fact with
# its negation ("the buttons stick" / "the buttons never stick"); the kinds of review below
# combine them so that the label depends on the order of the words, not only on the words.
WORDS = {
    "pos": "good great excellent wonderful fantastic brilliant superb lovely impressive amazing "
    "solid perfect",
    "neg": "bad terrible awful horrible poor disappointing mediocre dreadful weak annoying useless "
    "painful",
    # negation and concessions mostly use a few common words ("not good", "bad but ..."), so
    # that their word pairs recur in 3,000 rows; plain reviews use these most, too
    "core_pos": "good great impressive",
    "core_neg": "bad terrible disappointing",
    "pos_noun": "gem masterpiece delight triumph joy winner",
    "neg_noun": "disaster mess letdown rip-off chore failure",
    "intensifier": "really very truly absolutely quite pretty incredibly so genuinely surprisingly "
    "extremely remarkably thoroughly",
}
DOMAINS: dict[str, dict[str, Any]] = {
    "film": {
        "subject": "film, movie, plot, acting, script, ending, soundtrack, cast, dialogue, pacing, "
        "sequel, camera work, lead actor, story, finale, first half, villain, screenplay, "
        "documentary, remake",
        "det": "that",
        "pos": ["gripping", "moving", "hilarious", "clever"],
        "neg": ["boring", "dull", "predictable", "tedious"],
        "bad_fact": [
            ("I fell asleep halfway through", "I never fell asleep"),
            ("I checked my watch every five minutes", "I never checked my watch"),
            ("people walked out early", "nobody walked out early"),
            ("the sound kept cutting out", "the sound never cut out"),
            ("the twist was obvious from the start", "the twist was never obvious"),
            ("the story dragged", "the story never dragged"),
            ("the jokes fell flat", "the jokes never fell flat"),
            ("the characters were forgettable", "the characters were never forgettable"),
        ],
        "good_fact": [
            ("the story held my attention", "the story never held my attention"),
            ("I laughed the whole way through", "I never laughed once"),
            ("the ending made me cry", "the ending never moved me"),
            ("the twist caught me off guard", "the twist never caught me off guard"),
            ("I want to watch it again", "I never want to watch it again"),
        ],
        "waste": ["two hours", "an evening", "a Saturday night", "the price of a ticket"],
        "bad_ing": ["falling asleep", "staring at your watch", "guessing the twist in minute five"],
        "good_close": ["Go see it.", "I would watch it again.", "Best film this year."],
        "bad_close": ["Skip it.", "Wait for it to hit free streaming.", "Worst film this year."],
    },
    "product": {
        "subject": "phone, laptop, battery, charger, blender, vacuum cleaner, camera, keyboard, "
        "screen, kettle, backpack, mattress, app, printer, coffee machine, speaker, build quality, "
        "smartwatch, tablet, router",
        "det": "my new",
        "pos": ["reliable", "sturdy", "fast", "comfortable"],
        "neg": ["flimsy", "slow", "buggy", "noisy"],
        "bad_fact": [
            ("the battery died on me after a day", "the battery never died on me"),
            ("it broke in the second week", "it never broke"),
            ("the screen cracked on the first drop", "the screen never cracked, even after drops"),
            ("it overheats within ten minutes", "it never overheats"),
            ("the app crashes every time I open it", "the app never crashes"),
            ("the buttons stick", "the buttons never stick"),
            ("customer support hung up on me", "customer support never hung up on me"),
            ("it stopped charging after a month", "it never stopped charging"),
        ],
        "good_fact": [
            ("the battery lasts two days", "the battery never lasts a day"),
            ("it worked perfectly out of the box", "it never worked out of the box"),
            ("setup took two minutes", "setup never worked"),
            ("it survived every drop", "it never survived a single drop"),
            ("support answered my emails the same day", "support never answered my emails"),
        ],
        "waste": ["money", "a paycheck", "two hundred dollars", "a whole afternoon"],
        "bad_ing": ["charging it three times a day", "restarting it every hour", "waiting on hold"],
        "good_close": ["Would buy again.", "Worth every penny.", "Five stars."],
        "bad_close": ["Returned it.", "Save your money.", "One star."],
    },
    "restaurant": {
        "subject": "food, service, pasta, pizza, dessert, staff, menu, soup, steak, curry, "
        "atmosphere, waiter, wine list, burger, brunch, sushi, coffee, terrace, chef, salad",
        "det": "their",
        "pos": ["delicious", "tasty", "fresh", "friendly"],
        "neg": ["bland", "greasy", "stale", "rude"],
        "bad_fact": [
            ("we waited an hour for our food", "we never waited long for our food"),
            ("the waiter forgot us twice", "the waiter never forgot us"),
            ("the soup arrived cold", "the soup never arrived cold"),
            ("they got our order wrong", "they never got our order wrong"),
            ("our glasses stayed empty", "our glasses never stayed empty"),
            ("the bill had hidden charges", "the bill never had hidden charges"),
            ("the fries were soggy", "the fries were never soggy"),
            ("the kitchen rushed us out", "the kitchen never rushed us"),
        ],
        "good_fact": [
            ("the staff remembered our names", "the staff never remembered our names"),
            ("the food came out hot and fast", "the food never came out hot"),
            ("we got a table right away", "we never got a table without waiting"),
            ("the portions were generous", "the portions were never generous"),
            ("we will come back", "we will never come back"),
        ],
        "waste": ["money", "an anniversary dinner", "a birthday", "eighty dollars"],
        "bad_ing": ["waiting an hour for cold food", "eating soggy fries", "being ignored"],
        "good_close": ["We will be back.", "Book a table now.", "Best meal in town."],
        "bad_close": ["Never again.", "Eat somewhere else.", "Worst meal in years."],
    },
}
# shares of the kinds of review; see `review`
KINDS = {"plain": 0.60, "fact": 0.13, "negation": 0.14, "mixed": 0.08, "sarcasm": 0.05}
LABEL_NOISE = 0.02


class _Review:
    """Draws the words of one review (in one domain) from a seeded generator."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.domain = DOMAINS[self.pick(list(DOMAINS))]

    def pick(self, items: Sequence[Any], weights: Sequence[float] | None = None) -> Any:
        if weights is None:
            return items[int(self.rng.integers(len(items)))]
        p = np.asarray(weights, dtype=float)
        return items[int(self.rng.choice(len(items), p=p / p.sum()))]

    def chance(self, p: float) -> bool:
        return bool(self.rng.random() < p)

    def adjective(self, positive: bool, core: float = 0.0) -> str:
        """An adjective of this polarity: a core one with probability `core`, else a general or
        a domain one."""
        key = "pos" if positive else "neg"
        if self.chance(core):
            return self.pick(WORDS[f"core_{key}"].split())
        return self.pick(self.domain[key] if self.chance(0.3) else WORDS[key].split())

    def graded(self, positive: bool, core: float = 0.0) -> str:
        """An adjective, sometimes with an intensifier ("really good")."""
        adj = self.adjective(positive, core)
        return f"{self.pick(WORDS['intensifier'].split())} {adj}" if self.chance(0.3) else adj

    def thing(self, avoid: str = "") -> str:
        """A noun of the domain ("plot", "battery", "soup")."""
        return self.pick([s for s in self.domain["subject"].split(", ") if s != avoid])

    def subject(self, noun: str = "") -> str:
        """A noun phrase of the domain ("the plot", "my new phone", "their soup")."""
        det = self.pick(["the", "the", "the", "this", self.domain["det"]])
        return f"{det} {noun or self.thing()}"

    def noun(self, positive: bool) -> str:
        return _a(self.pick(WORDS["pos_noun" if positive else "neg_noun"].split()))


def _a(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


def _plain(r: _Review, positive: bool) -> str:
    """One opinion in plain words, sometimes with a verdict after it."""
    noun = r.thing()
    s, be, adj = r.subject(noun), r.pick(["was", "was", "is"]), r.graded(positive, core=0.65)
    verbs = ["loved", "enjoyed", "liked", "adored"] if positive else ["hated", "disliked"]
    text = r.pick(
        [
            f"{s} {be} {adj}.",
            f"{s} {be} {adj} and {r.adjective(positive)}.",
            f"honestly, {s} {be} {adj}.",
            f"{s} {be} {r.noun(positive)}.",
            f"what {_a(r.adjective(positive, core=0.5))} {r.thing()}!",
            f"I found {s} {adj}.",
            f"{r.adjective(positive, 0.5)} {noun}, {r.adjective(positive)} {r.thing(noun)}.",
            f"{r.pick(['wow', 'oh', 'yeah', 'well'])}, {s} {be} {adj}.",
            f"I {r.pick(verbs)} {s}.",
        ]
    )
    if r.chance(0.3):
        text += " " + r.pick(r.domain["good_close" if positive else "bad_close"])
    return text


def _fact(r: _Review, positive: bool) -> str:
    """A statement of fact, or the negation of the opposite fact ("it never overheats")."""
    if r.chance(0.5):
        fact = r.pick(r.domain["good_fact"])[0] if positive else r.pick(r.domain["bad_fact"])[0]
    else:
        fact = r.pick(r.domain["bad_fact"])[1] if positive else r.pick(r.domain["good_fact"])[1]
    lead = r.pick(["", "", "honestly, ", "to be fair, ", "I have to say ", "long story short, "])
    if r.chance(0.3):
        return f"{lead}{fact}."
    verdict = f"{r.subject()} {r.pick(['was', 'is'])} {r.graded(positive)}."
    return r.pick([f"{lead}{fact}. {verdict}", f"{verdict} {lead}{fact}."])


def _negation(r: _Review, positive: bool) -> str:
    """A word of the other polarity under negation: "not good", "never boring"."""
    s, be, adj = r.subject(), r.pick(["was", "was", "is"]), r.adjective(not positive, 0.95)
    verb = r.pick(["hate", "mind", "regret"] if positive else ["enjoy", "like", "love"])
    did_not = r.pick(["did not", "didn't", "never"])
    if did_not == "never":
        verb = {"mind": "minded", "regret": "regretted"}.get(verb, verb.rstrip("e") + "ed")
    adjacent = [  # the negation is next to the word it flips
        f"{s} {be} not {adj}.",
        f"{s} {be} not {adj} at all.",
        f"{s} {be}n't {adj}.",
        f"{s} {be}n't {adj} at all.",
        f"{s} {be} never {adj}.",
        f"{s} {be} far from {adj}.",
        f"nothing {adj} about {s}.",
        f"{s} {be} no {r.pick(WORDS['neg_noun' if positive else 'pos_noun'].split())}.",
        f"I {did_not} {verb} {s}.",
    ]
    apart = [  # words in between: pairs of neighbouring words do not see it
        f"I would not call {s} {adj}.",
        f"I can't say {s} was {adj}.",
        f"not {_a(adj)} {r.thing()} by any means.",
        f"nobody would say {s} {be} {adj}.",
    ]
    return r.pick(adjacent, [6, 2, 2, 1, 2, 1, 1, 1, 2]) if r.chance(0.9) else r.pick(apart)


def _mixed(r: _Review, positive: bool) -> str:
    """Two clauses of opposite polarity; the one that carries the verdict decides ("X but Y":
    Y; "although X, Y" and "Y, although X": Y)."""
    noun = r.thing()
    s1, s2 = r.subject(noun), r.subject(r.thing(avoid=noun))
    lose, win = r.adjective(not positive, core=0.7), r.graded(positive, core=0.3)
    templates = [
        f"{s1} was {lose}, but {s2} was {win}.",
        f"{s1} was {lose} but {win}.",
        f"I expected {s1} to be {lose}, but it was {win}.",
        f"{s1} seemed {lose} at first, but it turned out {win}.",
        f"{s1} was {lose}; however, {s2} was {win}.",
        f"although {s1} was {lose}, {s2} was {win}.",
        f"{s2} was {win}, although {s1} was {lose}.",
        f"despite {s1} being {lose}, {s2} was {win}.",
    ]
    return r.pick(templates, [4, 3, 1, 1, 1, 1, 1, 1])


def _sarcasm(r: _Review) -> str:
    """Positive words around a bad fact: always a negative review."""
    good = r.adjective(True, core=0.5)
    bad = r.pick(r.domain["bad_fact"])[0]
    return r.pick(
        [
            f"oh {r.pick(['great', 'wonderful', 'perfect', 'fantastic'])}, {bad}.",
            f"what {_a(good)} way to waste {r.pick(r.domain['waste'])}.",
            f"{good}, just {good}. {bad}.",
            f"sure, {r.subject()} was {good}, if you enjoy {r.pick(r.domain['bad_ing'])}.",
            f"yeah, {good} {r.thing()}. {bad}.",
            f"I just {r.pick(['loved', 'adored', 'enjoyed'])} {r.pick(['how', 'when'])} {bad}.",
            f"five stars to {r.subject()} for {r.pick(r.domain['bad_ing'])}.",
            f"{r.pick(['brilliant', 'lovely', 'amazing', 'perfect'])}, {bad}. thanks a lot.",
        ]
    )


def _sentence_case(text: str) -> str:
    """Capitalize the first letter of each sentence."""
    return ". ".join(p[:1].upper() + p[1:] for p in text.split(". "))


def review(rng: np.random.Generator) -> tuple[str, bool, str]:
    """One review: (text, positive, kind); the label is flipped with probability LABEL_NOISE."""
    r = _Review(rng)
    kind = r.pick(list(KINDS), list(KINDS.values()))
    positive = r.chance(0.5 / (1 - KINDS["sarcasm"]))  # sarcasm is negative: balance the rest
    if kind == "sarcasm":
        text, positive = _sarcasm(r), False
    else:
        make = {"plain": _plain, "fact": _fact, "negation": _negation, "mixed": _mixed}[kind]
        text = make(r, positive)
    if r.chance(LABEL_NOISE):
        positive = not positive
    return _sentence_case(text), positive, kind


def sentiment(n: int = 3000, seed: int = 0) -> None:
    """Write sentiment.csv: `n` reviews from `review`."""
    rng = np.random.default_rng(seed)
    with (HERE / "sentiment.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["review", "sentiment"])
        for _ in range(n):
            text, positive, _ = review(rng)
            writer.writerow([text, "positive" if positive else "negative"])


# -------------------------------------------------------------------------------- sales.csv
def sales(days: int = 1100, seed: int = 0) -> None:
    """Daily sales of a summer business: trend + weekly pattern (Saturday peak) + yearly cycle
    (summer peak) + 1.2 per degree of temperature above 11 + AR(1) noise; temperature: a yearly
    cycle (peak in July) + noise, so part of its effect is not predictable from the calendar."""
    rng = np.random.default_rng(seed)
    start = date(2022, 1, 1)
    dates = [start + timedelta(days=int(i)) for i in range(days)]
    t = np.arange(days)
    day_of_year = np.array([d.timetuple().tm_yday for d in dates])
    weekday = np.array([d.weekday() for d in dates])  # Monday = 0
    temperature = 11 + 9 * np.sin(2 * np.pi * (day_of_year - 105) / 365.25)
    temperature = np.round(temperature + rng.normal(0, 2.5, days), 1)
    weekly = np.array([-12.0, -9.0, -6.0, -3.0, 6.0, 18.0, 6.0])[weekday]
    yearly = 12 * np.cos(2 * np.pi * (day_of_year - 200) / 365.25)  # the summer peak
    noise = np.zeros(days)
    shocks = rng.normal(0, 5.0, days)
    for i in range(days):
        noise[i] = 0.4 * noise[i - 1] + shocks[i] if i else shocks[i]
    level = 120 + 0.05 * t + weekly + yearly + 1.2 * (temperature - 11) + noise
    with (HERE / "sales.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["date", "temperature", "sales"])
        for d, temp, value in zip(dates, temperature, level, strict=True):
            writer.writerow([d.isoformat(), f"{temp:.1f}", f"{value:.1f}"])


if __name__ == "__main__":
    churn()
    waves()
    sentiment()
    sales()
