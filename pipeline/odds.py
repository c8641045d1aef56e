"""Scenario odds: a small Bayesian model over the news, its limits, and its audit trail.

The model
---------
The three scenario cases C = (base, accelerated, contraction) get Dirichlet
pseudo-counts. Before any news they are the pack's priors times a prior
strength s (default 10, "the priors are worth ten stories"):

    alpha_c(start) = s * prior_c                     e.g. 5 / 3 / 2 for 0.5 / 0.3 / 0.2

The unit of evidence is a story, not an article. Syndicated copies and
follow-ups of one development share a story id (pipeline/stories.py); an
article without one is its own story. A story counts once, on the day of its
first article, with the mean of the calibrated probabilities of its articles of
that day:

    q_c(g) = mean over articles a of story g published on its first day of p_c(a)

and only when its label (the largest mean probability) is a scenario case: a
story the classifier calls `none` is not evidence. (With the model of the time, v2,
the `none` stories were 84% of the stored pool's stories and their articles held
30% of all case mass, pushing contraction up on days of unrelated news.) Copies
published on later days add nothing: the odds of a past day never change as
later news arrives (`odds --until D` and the path's row for D agree).

One day's volume cannot swamp the priors: a day's summed story mass
M(t) = sum_g sum_c q_c(g) is squashed by a saturating curve with a cap of
K stories' worth (default 5):

    w(t)   = K * (1 - exp(-M(t) / K)) / M(t)          (1 when M(t) = 0)
    m_c(t) = w(t) * sum over stories g of day t of q_c(g)

Why saturating and not per-story capped: a quiet day with one or two stories
counts nearly in full (K(1 - e^(-1/K)) = 0.90 for one story at K = 5), while a
day of wall-to-wall war coverage (forty stories) counts as at most K; the mix
of cases within the day is kept, only its volume is squashed.

Old news fades with a half-life of h days (default 7): lambda = 2^(-1/h).

    E_c(t)     = lambda * E_c(t - 1) + m_c(t)        (E_c = 0 before the first day)
    alpha_c(t) = s * prior_c + E_c(t)

What the model cannot see
-------------------------
A case whose detector has too little measured recall (below MIN_RECALL,
default 0.3, or not measured at all) is "not measurable yet": its odds stay at
its prior, and no other case's news can push it down. The measurable cases M
share the rest:

    odds_c(t) = prior_c                                               c not in M
    odds_c(t) = (1 - sum of priors outside M) * alpha_c / sum_{k in M} alpha_k   c in M

Recall comes from the model's registry entry (`case_recall`):
`metrics["class_recall"]` when the classifier recorded it, else the per-class
recall of the time split (`metrics["time_split"]["per_class"][case]["recall"]`),
else unknown, which is not measurable. Why 0.3 and not 0.5: when the threshold was
set, the shipped model (v2) had time-split recall 0.41 for base and 0.34 for
contraction and had never predicted accelerated; at 0.5 nothing would have been
measurable, at 0.3 the two cases it saw in a third of their articles moved and the
one it could not see stayed put. (v5 measures base 0.86 and contraction 0.83 on
1,248 held-out items; accelerated is still unknown.) A case left as the only
measurable one is held at its prior too: odds move only between two.

Each figure comes with a 90% interval from the Dirichlet: the marginal of a
measurable case is Beta(alpha_c, A - alpha_c), A = sum over M, scaled by the
share M holds. A case that is not measurable has no interval (NaN).
`evidence(t)` = sum_c E_c(t) is how many stories' worth of news the odds rest on.

The audit trail
---------------
A story g from day d, looked at as of day T >= d, carries weight
w = lambda^(T - d) * w(d) (the decay and its day's saturation). Its effect on the
odds is leave-one-out: the odds as of T minus the odds with its weighted mass
taken out of alpha(T) (the day's saturation is held fixed):

    delta_c(g) = odds_c(T) - odds_c(alpha(T) - w q(g))

Its `contribution` is the total-variation size of that move,
0.5 * sum_c |delta_c|, in probability points; `toward` is the case it pushed up
most. Movers are stories the classifier labelled with a measurable case (a story
it calls `none` is not shown as moving anything), one row per story with its
first article as representative and its size in `articles`.

Everything here is a pure function over frames, plus thin wrappers that read
the store (`odds_path`, `movers`) and the `signals odds` command.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import SignalsError
from .records import CASES, is_zero_shot
from .scenario import Scenario
from .signals import article_predictions, calendar, current_model_version, jsonable
from .store import Store

DEFAULT_HALF_LIFE = 7.0
DEFAULT_STRENGTH = 10.0
DEFAULT_DAILY_CAP = 5.0
MIN_RECALL = 0.3  # a case whose detector recalls less than this is "not measurable yet" (see the docstring)
INTERVAL = 0.90
PLAIN_FLOOR = 0.8  # issue 11's probe floor (16 of 20 per case): below it the report names the plain signals missed
NOT_MEASURABLE = "not measurable yet"
PATH_COLUMNS = ["day", *CASES, "evidence", *(f"{c}_{end}" for c in CASES for end in ("low", "high"))]
MOVER_COLUMNS = [
    "id", "story", "articles", "day", "title", "outlet", "link", "label", "p_base", "p_accelerated", "p_contraction",
    "p_none", "weight", "d_base", "d_accelerated", "d_contraction", "contribution", "toward", "evidence",
]
_MASS = [f"p_{c}" for c in CASES]


def case_recall(metrics: dict | None) -> dict[str, float | None]:
    """Pure: each case's measured recall from a registry entry's metrics; None where unknown.

    `metrics["class_recall"]` when present, else `metrics["time_split"]["per_class"][case]["recall"]`,
    else None (no test support, or no metrics at all)."""
    metrics = metrics or {}
    recorded = metrics.get("class_recall")
    if isinstance(recorded, dict):
        return {c: (float(recorded[c]) if recorded.get(c) is not None else None) for c in CASES}
    per_class = (metrics.get("time_split") or {}).get("per_class") or {}
    out: dict[str, float | None] = {}
    for case in CASES:
        value = (per_class.get(case) or {}).get("recall")
        out[case] = float(value) if value is not None else None
    return out


HELD_OUT_WORDS = re.compile(r"(\d+) (?:held-out labeled items the model did not train on|labeled items held out from the fit)")


def refit_recall_source(source: str) -> str:
    """Pure: `source` (a `class_recall_source`) for a model refit on every label after its recall was measured.

    `classify.train_and_evaluate` measures the recall on items held out from the candidate it fits; `jobs.train`
    then refits on every label, those items included, and ships the refit with the candidate's recall. So the
    items are held out from the candidate, not from the model shipped (registries written before this said
    "N held-out labeled items the model did not train on", which is false of the refit)."""
    return HELD_OUT_WORDS.sub(r"\1 labeled items held out from the candidate before its refit on every label", source)


def recall_source(metrics: dict | None) -> str:
    """Pure: where `case_recall` found its figures, in words (for a refit model, `refit_recall_source`'s)."""
    metrics = metrics or {}
    if isinstance(metrics.get("class_recall"), dict):
        source = str(metrics.get("class_recall_source") or "the model's recorded class recall")
        return refit_recall_source(source) if "candidate_probes" in metrics else source
    if (metrics.get("time_split") or {}).get("per_class"):
        return "the model's time-split evaluation"
    return "no recorded recall"


def measurable_cases(recall: dict[str, float | None], min_recall: float = MIN_RECALL) -> frozenset[str]:
    """Pure: the cases whose recall is known and at least `min_recall`, if two or more are: odds move only by
    shifting weight between measurable cases, so a lone one would be held at its prior all the same (and shown
    with a zero-width interval and 0.00-point movers)."""
    seen = frozenset(c for c in CASES if recall.get(c) is not None and recall[c] >= min_recall)
    return seen if len(seen) >= 2 else frozenset()


@dataclass(frozen=True)
class OddsModel:
    """The model's parameters: priors per case, prior strength s, half-life h in days, the daily cap K
    in stories' worth, and the cases the classifier can measurably detect (default: all three)."""

    priors: dict[str, float]
    strength: float = DEFAULT_STRENGTH
    half_life: float = DEFAULT_HALF_LIFE
    daily_cap: float = DEFAULT_DAILY_CAP
    measurable: frozenset = frozenset(CASES)

    def __post_init__(self):
        if self.strength <= 0:
            raise SignalsError(f"odds: prior strength must be positive, got {self.strength:g}")
        if self.half_life <= 0:
            raise SignalsError(f"odds: half-life must be a positive number of days, got {self.half_life:g}")
        if self.daily_cap <= 0:
            raise SignalsError(f"odds: the daily cap must be a positive number of stories, got {self.daily_cap:g}")
        missing = [c for c in CASES if c not in self.priors]
        if missing:
            raise SignalsError(f"odds: the scenario pack has no prior for {', '.join(missing)}")
        unknown = set(self.measurable) - set(CASES)
        if unknown:
            raise SignalsError(f"odds: unknown case(s) {', '.join(sorted(unknown))}")

    @classmethod
    def for_scenario(cls, scenario: Scenario, half_life: float = DEFAULT_HALF_LIFE, strength: float = DEFAULT_STRENGTH,
                     daily_cap: float = DEFAULT_DAILY_CAP, measurable: frozenset | None = None) -> "OddsModel":
        return cls(dict(scenario.priors), float(strength), float(half_life), float(daily_cap),
                   frozenset(CASES) if measurable is None else frozenset(measurable))

    @property
    def decay(self) -> float:
        """lambda: what one day's evidence is worth a day later."""
        return 2.0 ** (-1.0 / self.half_life)

    @property
    def prior_counts(self) -> np.ndarray:
        return np.array([self.strength * self.priors[c] for c in CASES], dtype="float64")

    @property
    def mask(self) -> np.ndarray:
        """1.0 for each measurable case, 0.0 for the others, in CASES order."""
        return np.array([1.0 if c in self.measurable else 0.0 for c in CASES])

    @property
    def fixed_share(self) -> float:
        """The prior probability held by the cases that are not measurable (their odds never move)."""
        return float(sum(self.priors[c] for c in CASES if c not in self.measurable))

    def blind_cases(self) -> list[str]:
        """The cases the model cannot see, in CASES order."""
        return [c for c in CASES if c not in self.measurable]


# ---------------------------------------------------------------- pure computation


def saturation(total: np.ndarray | float, cap: float) -> np.ndarray:
    """Pure: w = K (1 - exp(-M/K)) / M per day (1 where M is 0): the factor a day's story mass is scaled by."""
    total = np.asarray(total, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = cap * -np.expm1(-total / cap) / total
    return np.where(total > 0, factor, 1.0)


def story_evidence(predictions: pd.DataFrame) -> pd.DataFrame:
    """Pure: one row per story from an `article_predictions` frame.

    Each story sits on the day of its first article and keeps that article's id, title, outlet,
    link, label and evidence as its representative; p_* are the means over its articles of that day (so
    what a story weighs on its day does not change when later copies arrive) and `articles` counts all
    its articles. Rows without a `story` column are stories of one."""
    if predictions.empty:
        out = predictions.copy()
        out["story"] = pd.Series(dtype="object")
        out["articles"] = pd.Series(dtype="int64")
        return out
    frame = predictions.copy()
    if "story" not in frame.columns:
        frame["story"] = frame["id"]
    frame["story"] = frame["story"].where(frame["story"].notna() & (frame["story"] != ""), frame["id"])
    frame = frame.sort_values(["day", "published", "id"] if "published" in frame else ["day", "id"], kind="mergesort")
    first_day = frame.groupby("story", sort=False)["day"].transform("min")
    means = frame[frame["day"] == first_day].groupby("story", sort=False)[[*_MASS, "p_none"]].mean()
    sizes = frame.groupby("story", sort=False).size().rename("articles")
    first = frame.drop_duplicates("story", keep="first").set_index("story")
    first = first.drop(columns=[*_MASS, "p_none"]).join(means).join(sizes).reset_index()
    first["label"] = [_story_label(row) for row in first[[*_MASS, "p_none"]].to_numpy()] if len(first) else []
    return first.sort_values(["day", "id"], kind="mergesort").reset_index(drop=True)


def _story_label(mean_probabilities: np.ndarray) -> str:
    """The label with the highest mean probability (base, accelerated, contraction, none order)."""
    return [*CASES, "none"][int(np.argmax(mean_probabilities))]


def daily_mass(predictions: pd.DataFrame, days: pd.DatetimeIndex, model: "OddsModel | None" = None) -> pd.DataFrame:
    """Pure: each day's saturated story mass per case (columns base, accelerated, contraction), 0 on empty days.

    Cases that are not measurable get no mass. `predictions` is an article or story frame."""
    model = model or OddsModel({c: 1 / 3 for c in CASES})
    if predictions.empty:
        return pd.DataFrame(0.0, index=days, columns=list(CASES))
    stories = predictions if "articles" in predictions.columns else story_evidence(predictions)
    stories = stories[stories["label"] != "none"]
    mass = stories.groupby("day")[_MASS].sum()
    mass.columns = list(CASES)
    mass = mass.reindex(days, fill_value=0.0).astype("float64") * model.mask
    factor = saturation(mass.sum(axis=1).to_numpy(), model.daily_cap)
    return mass.mul(factor, axis=0)


def day_factors(stories: pd.DataFrame, model: OddsModel) -> pd.Series:
    """Pure: w(t) for each day that has stories (indexed by day)."""
    evidence = stories[stories["label"] != "none"]
    if evidence.empty:
        return pd.Series(1.0, index=pd.DatetimeIndex(stories["day"]).unique()) if not stories.empty else pd.Series(dtype="float64")
    total = (evidence.groupby("day")[_MASS].sum() * model.mask).sum(axis=1).reindex(pd.DatetimeIndex(stories["day"]).unique(), fill_value=0.0)
    return pd.Series(saturation(total.to_numpy(), model.daily_cap), index=total.index)


def posterior(mass: pd.DataFrame, model: OddsModel) -> pd.DataFrame:
    """Pure: alpha_c(t) for each day of `mass` (rows in calendar order, one per day, no gaps)."""
    lam = model.decay
    evidence = np.zeros(len(CASES))
    rows = []
    for values in mass[list(CASES)].to_numpy(dtype="float64"):
        evidence = lam * evidence + values
        rows.append(model.prior_counts + evidence)
    return pd.DataFrame(rows, index=mass.index, columns=list(CASES)) if rows else pd.DataFrame(columns=list(CASES), dtype="float64")


def odds_from_alpha(alpha: np.ndarray, model: OddsModel) -> np.ndarray:
    """Pure: the odds per case from alphas of shape (3,) or (n, 3): priors for the cases that are not
    measurable, the Dirichlet mean within the measurable ones for the rest."""
    alpha = np.atleast_2d(np.asarray(alpha, dtype="float64"))
    mask = model.mask
    priors = np.array([model.priors[c] for c in CASES])
    inside = (alpha * mask).sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(inside > 0, alpha * mask / inside, 0.0)
    return share * (1.0 - model.fixed_share) + priors * (1.0 - mask)


def intervals_from_alpha(alpha: np.ndarray, model: OddsModel, level: float = INTERVAL) -> tuple[np.ndarray, np.ndarray]:
    """Pure: (low, high), each (n, 3): the central `level` interval of each measurable case's Beta marginal,
    scaled by the measurable share; NaN for the cases that are not measurable."""
    from scipy.stats import beta

    alpha = np.atleast_2d(np.asarray(alpha, dtype="float64"))
    mask = model.mask.astype(bool)
    inside = alpha[:, mask].sum(axis=1, keepdims=True)
    low = np.full(alpha.shape, np.nan)
    high = np.full(alpha.shape, np.nan)
    if mask.sum() == 1:
        low[:, mask] = high[:, mask] = 1.0 - model.fixed_share
    elif mask.any():
        a = alpha[:, mask]
        b = inside - a
        tail = (1.0 - level) / 2
        scale = 1.0 - model.fixed_share
        low[:, mask] = beta.ppf(tail, a, b) * scale
        high[:, mask] = beta.ppf(1.0 - tail, a, b) * scale
    return low, high


def path_from_alpha(alpha: pd.DataFrame, model: OddsModel) -> pd.DataFrame:
    """Pure: the odds path (day, base, accelerated, contraction, evidence, <case>_low, <case>_high)."""
    values = alpha[list(CASES)].to_numpy(dtype="float64")
    out = pd.DataFrame(odds_from_alpha(values, model) if len(values) else np.zeros((0, 3)), index=alpha.index, columns=list(CASES))
    out["evidence"] = values.sum(axis=1) - model.prior_counts.sum() if len(values) else []
    low, high = intervals_from_alpha(values, model) if len(values) else (np.zeros((0, 3)), np.zeros((0, 3)))
    for i, case in enumerate(CASES):
        out[f"{case}_low"] = low[:, i]
        out[f"{case}_high"] = high[:, i]
    out.index.name = "day"
    return out.reset_index()[PATH_COLUMNS]


def compute_path(predictions: pd.DataFrame, model: OddsModel, first: date | None = None, last: date | None = None) -> pd.DataFrame:
    """Pure: the odds path over every calendar day from `first` to `last`.

    Evidence is accumulated from the earlier of `first` and the first prediction, so the odds
    on `first` already carry what came before; days before any news sit at the priors.
    """
    if predictions.empty and (first is None or last is None):
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in PATH_COLUMNS})
    known = pd.DatetimeIndex(predictions["day"]) if not predictions.empty else pd.DatetimeIndex([])
    start = min([d for d in (known.min() if len(known) else None, pd.Timestamp(first) if first else None) if d is not None])
    end = pd.Timestamp(last) if last else known.max()
    days = calendar(start, end)
    path = path_from_alpha(posterior(daily_mass(predictions, days, model), model), model)
    if first is not None:
        path = path[path["day"] >= pd.Timestamp(first)]
    return path.reset_index(drop=True)


def leave_one_out(alpha: np.ndarray, weights: np.ndarray, masses: np.ndarray, model: OddsModel | None = None) -> np.ndarray:
    """Pure: delta_c for each story: odds(alpha) minus the odds without its weighted mass.

    alpha: shape (3,) or (n, 3), one row per story; weights: (n,); masses: (n, 3). Returns (n, 3).
    Without a model every case is measurable and the odds are the plain Dirichlet mean."""
    model = model or OddsModel({c: 1 / 3 for c in CASES})
    alpha = np.broadcast_to(np.asarray(alpha, dtype="float64"), masses.shape)
    masses = masses * model.mask
    return odds_from_alpha(alpha, model) - odds_from_alpha(alpha - weights[:, None] * masses, model)


def rank_movers(stories: pd.DataFrame, alpha: np.ndarray, weights: np.ndarray, n: int | None = None,
                model: OddsModel | None = None) -> pd.DataFrame:
    """Pure: stories with their leave-one-out deltas, contribution and direction, biggest first.

    Stories whose label is `none` or a case that is not measurable are left out."""
    model = model or OddsModel({c: 1 / 3 for c in CASES})
    if not stories.empty and "articles" not in stories.columns:
        stories = story_evidence(stories)
    if stories.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in MOVER_COLUMNS})
    delta = leave_one_out(alpha, np.asarray(weights, dtype="float64"), stories[_MASS].to_numpy(dtype="float64"), model)
    out = stories.copy()
    out["weight"] = weights
    for i, case in enumerate(CASES):
        out[f"d_{case}"] = delta[:, i]
    out["contribution"] = 0.5 * np.abs(delta).sum(axis=1)
    out["toward"] = [CASES[i] for i in delta.argmax(axis=1)]
    out = out[out["label"].isin(model.measurable)]
    out = out.sort_values(["contribution", "id"], ascending=[False, True], kind="mergesort")
    if n is not None:
        out = out.head(n)
    return out[MOVER_COLUMNS].reset_index(drop=True)


def movers_as_of(predictions: pd.DataFrame, model: OddsModel, as_of: date, since: date | None = None, n: int | None = 10) -> pd.DataFrame:
    """Pure: the stories that began from `since` to `as_of`, ranked by how much they moved the odds as of `as_of`.

    `predictions` must hold every article up to `as_of` (earlier ones build the alphas).
    """
    as_of = pd.Timestamp(as_of)
    history = predictions[predictions["day"] <= as_of]
    if history.empty:
        return rank_movers(history, np.zeros(3), np.zeros(0), n, model)
    stories = story_evidence(history)
    days = calendar(min(stories["day"].min(), as_of), as_of)
    alpha = posterior(daily_mass(stories, days, model), model).iloc[-1].to_numpy()
    window = stories[stories["day"] >= pd.Timestamp(since)] if since is not None else stories
    factors = day_factors(stories, model).reindex(pd.DatetimeIndex(window["day"])).to_numpy()
    weights = model.decay ** ((as_of - window["day"]).dt.days.to_numpy(dtype="float64")) * factors
    return rank_movers(window, alpha, weights, n, model)


def developments(predictions: pd.DataFrame, model: OddsModel, as_of: date, since: date, n: int | None = 3) -> pd.DataFrame:
    """Pure: the biggest developments from `since` to `as_of`. A development is one day's stories that pushed
    the odds the same way (the daily cap shares a day's weight among its stories, so one story of a heavy
    day moves little on its own). Columns: the movers' columns of its biggest story, with `contribution`
    the group's summed contribution and `others` the number of other stories in it; biggest first."""
    ranked = movers_as_of(predictions, model, as_of, since, None)
    if ranked.empty:
        return ranked.assign(others=pd.Series(dtype="int64"))
    grouped = ranked.groupby(["day", "toward"], sort=False)
    lead = grouped.head(1).set_index(["day", "toward"])
    lead["contribution"] = grouped["contribution"].sum()
    lead["others"] = grouped.size() - 1
    out = lead.reset_index().sort_values(["contribution", "id"], ascending=[False, True], kind="mergesort")
    return (out.head(n) if n is not None else out)[[*MOVER_COLUMNS, "others"]].reset_index(drop=True)


def daily_movers(predictions: pd.DataFrame, model: OddsModel, n: int = 3) -> pd.DataFrame:
    """Pure: for each day, the stories that began that day ranked by how much they moved that day's odds."""
    if predictions.empty:
        return rank_movers(predictions, np.zeros(3), np.zeros(0), n, model)
    stories = story_evidence(predictions)
    days = calendar(stories["day"].min(), stories["day"].max())
    alpha = posterior(daily_mass(stories, days, model), model)
    per_story = alpha.loc[pd.DatetimeIndex(stories["day"])].to_numpy()
    factors = day_factors(stories, model).reindex(pd.DatetimeIndex(stories["day"])).to_numpy()
    ranked = rank_movers(stories, per_story, factors, None, model)
    return (
        ranked.sort_values(["day", "contribution", "id"], ascending=[False, False, True], kind="mergesort")
        .groupby("day", sort=False).head(n).reset_index(drop=True)
    )


# ---------------------------------------------------------------- store wrappers


@dataclass(frozen=True)
class Visibility:
    """What the classifier behind a store's predictions can see: recall per case, where it came from,
    and the cases measurable at `min_recall`."""

    model_version: str | None
    recall: dict
    source: str
    min_recall: float
    measurable: frozenset
    probes: dict | None = None  # the registry's probe record of that model: {per_label: {case: [right, n]}, missed: {id: call}}
    active_version: str | None = None  # the pack's active model in the registry (not yet the store's, until a re-score)

    def plain_misses(self, case: str, signals: dict[str, tuple[str, str]], floor: float = PLAIN_FLOOR, shown: int = 4) -> str:
        """One line when the model finds fewer than `floor` of the pack's plain probe articles of `case` ("" otherwise):
        how many it finds, and the typical signals of those it misses (`signals`: probe id to its label and the signal
        it shows, `Scenario.probe_signals`). A recall measured on real news says nothing about a kind of news the
        labels hold little of: here the analyst reads which plain developments would not move the odds."""
        right, n = ((self.probes or {}).get("per_label") or {}).get(case, (0, 0))
        if not n or right >= floor * n:
            return ""
        missed = [signals[i][1] for i in sorted((self.probes or {}).get("missed") or {})
                  if i in signals and signals[i][0] == case and signals[i][1]]
        missed = list(dict.fromkeys(missed))
        more = f" and {len(missed) - shown} more" if len(missed) > shown else ""
        return (f"{case}: finds {right} of the pack's {n} plain probe articles"
                + (f"; it misses {', '.join(missed[:shown])}{more}" if missed else ""))

    def describe(self, case: str) -> str:
        """One line on whether the model can see `case`, with its recall."""
        value = self.recall.get(case)
        shown = "unknown" if value is None else f"{value:.2f}"
        if case in self.measurable:
            return f"{case}: measured recall {shown}"
        if value is None:
            why = "recall unknown"
        elif value >= self.min_recall:
            why = f"recall {shown}, but no other case reaches {self.min_recall:g}: odds need two measurable cases"
        else:  # as many digits as it takes to read below: 0.8559 is "0.856, below 0.86", not "0.86, below 0.86"
            digits = 2
            while digits < 6 and round(value, digits) >= self.min_recall:
                digits += 1
            why = f"recall {value:.{digits}f}, below {self.min_recall:g}"
        return f"{case}: {NOT_MEASURABLE} ({why}); held at its prior"


def visibility(store: Store, scenario, models_dir: Path | str | None, min_recall: float = MIN_RECALL) -> Visibility:
    """The recall of the model whose predictions the store's signals use, read from the registry in
    `models_dir` (a version the registry does not know has unknown recall: nothing is measurable)."""
    from .registry import Registry

    version = current_model_version(store, scenario)
    metrics, active = None, None
    if models_dir is not None:
        registry = Registry(Path(models_dir))
        metrics = next((entry.metrics for entry in registry.entries() if entry.version == version), None) if version else None
        active = registry.active(scenario.id)
    recall = case_recall(metrics)
    if is_zero_shot(version):
        source = f"the zero-shot recipe {version}, which has no measured recall " + (
            f"(model {active.version} is trained; the next import that watches the pack re-scores the store with it)" if active else "(no trained model yet)")
    else:
        source = recall_source(metrics) if metrics is not None else f"model {version} is not in the registry"
    return Visibility(version, recall, source, float(min_recall), measurable_cases(recall, min_recall),
                      (metrics or {}).get("probes"), active.version if active else None)


def odds_path(
    store: Store, scenario: Scenario, since: date | None = None, until: date | None = None,
    half_life: float = DEFAULT_HALF_LIFE, strength: float = DEFAULT_STRENGTH, model: OddsModel | None = None,
) -> pd.DataFrame:
    """The odds per calendar day from since to until: day, base, accelerated, contraction, evidence, intervals.

    All stored news up to `until` counts (decayed), so the odds on `since` carry what came
    before it. Without since/until the path runs over the days that have predictions. `model`
    overrides half_life/strength (e.g. to say which cases are measurable).
    """
    model = model or OddsModel.for_scenario(scenario, half_life, strength)
    return compute_path(article_predictions(store, scenario, None, until), model, since, until)


def movers(
    store: Store, scenario: Scenario, day: date | None = None, n: int = 10, *, since: date | None = None,
    until: date | None = None, half_life: float = DEFAULT_HALF_LIFE, strength: float = DEFAULT_STRENGTH,
    model: OddsModel | None = None,
) -> pd.DataFrame:
    """The stories that moved the odds most: those of `day`, or of since..until judged as of `until`.

    With neither, the last day with predictions. Columns: id, story, articles, day, title, outlet,
    link, label, p_base .. p_none, weight, d_base, d_accelerated, d_contraction, contribution,
    toward, evidence (the classifier's evidence sentences of the story's first article).
    """
    model = model or OddsModel.for_scenario(scenario, half_life, strength)
    if day is not None:
        since = until = day
    predictions = article_predictions(store, scenario, None, until)
    if predictions.empty:
        return rank_movers(predictions, np.zeros(3), np.zeros(0), n, model)
    as_of = until or predictions["day"].max().date()
    if since is None and until is None:
        since = as_of
    return movers_as_of(predictions, model, as_of, since, n)


# ---------------------------------------------------------------- command


def format_odds(value: float, low: float, high: float) -> str:
    """'42% (35-50%)', or '30% (not measurable yet)' when the interval is NaN."""
    if np.isnan(low) or np.isnan(high):
        return f"{value:.0%} ({NOT_MEASURABLE})"
    return f"{value:.0%} ({low:.0%}–{high:.0%})"


def percent_path(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame[["day", *CASES, "evidence"]].copy()
    for case in CASES:
        out[case] = [format_odds(v, lo, hi) for v, lo, hi in zip(frame[case], frame[f"{case}_low"], frame[f"{case}_high"])]
    out["day"] = out["day"].dt.strftime("%Y-%m-%d")
    out["evidence"] = out["evidence"].map(lambda v: f"{v:.1f}")
    return out


def odds_summary(path: pd.DataFrame, top: pd.DataFrame, model: OddsModel, scenario_id: str,
                 seen: Visibility | None = None, biggest: pd.DataFrame | None = None) -> dict:
    """Pure: the JSON document `signals odds --format json` prints: `developments` (a day's stories pushing one way,
    biggest first; what explains the move) and `movers` (one row per story) as the table lists them."""
    latest = path.iloc[-1] if not path.empty else None
    movers_records = jsonable(top.drop(columns=["link"], errors="ignore"))
    developments_records = [] if biggest is None else jsonable(biggest.drop(columns=["link"], errors="ignore"))
    intervals = {}
    for case in CASES:
        if latest is None or np.isnan(latest[f"{case}_low"]):
            intervals[case] = None
        else:
            intervals[case] = [float(latest[f"{case}_low"]), float(latest[f"{case}_high"])]
    return {
        "scenario": scenario_id,
        "as_of": latest["day"].strftime("%Y-%m-%d") if latest is not None else None,
        "odds": {c: float(latest[c]) for c in CASES} if latest is not None else dict(model.priors),
        "interval": intervals,
        "interval_level": INTERVAL,
        "not_measurable": model.blind_cases(),
        "recall": dict(seen.recall) if seen else None,
        "recall_source": seen.source if seen else None,
        "model_version": seen.model_version if seen else None,
        "zero_shot": is_zero_shot(seen.model_version) if seen else False,
        "min_recall": seen.min_recall if seen else None,
        "priors": dict(model.priors),
        "half_life_days": model.half_life,
        "strength": model.strength,
        "daily_cap": model.daily_cap,
        "path": jsonable(path),
        "developments": developments_records,
        "movers": movers_records,
    }


def shorten(text: str, limit: int) -> str:
    """Pure: text cut at a word boundary to at most `limit` characters, '…' where cut."""
    text = " ".join(str(text or "").split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut and not text[limit - 1].isspace():
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-–") + "…"


__all__ = [
    "OddsModel", "Visibility", "case_recall", "compute_path", "daily_mass", "daily_movers",
    "developments", "leave_one_out", "measurable_cases", "movers", "movers_as_of", "odds_path", "odds_summary", "posterior",
    "rank_movers", "story_evidence", "visibility",
]
