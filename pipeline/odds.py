"""Scenario odds: a small Bayesian model over the daily probability mass, and its audit trail.

The model
---------
The three scenario cases C = (base, accelerated, contraction) get Dirichlet
pseudo-counts. Before any news they are the pack's priors times a prior
strength s (default 10, "the priors are worth ten articles"):

    alpha_c(start) = s * prior_c                     e.g. 5 / 3 / 2 for 0.5 / 0.3 / 0.2

Each calendar day t adds that day's calibrated probability mass for each case,
summed over the day's classified articles (the `none` label is ignored, so an
article that is probably irrelevant adds little to any case):

    m_c(t) = sum over articles a published on day t of p_c(a)

Old news fades with a half-life of h days (default 7): evidence from day d
counts lambda^(t - d) on day t, lambda = 2^(-1/h). The priors do not decay:

    E_c(t)     = lambda * E_c(t - 1) + m_c(t)        (E_c = 0 before the first day)
    alpha_c(t) = s * prior_c + E_c(t)
    odds_c(t)  = alpha_c(t) / sum_k alpha_k(t)        (the Dirichlet posterior mean)

So with no news the odds drift back to the priors, halving their distance to
them every h days; a day with no articles (missing data) adds nothing and
simply lets time pass. `evidence(t) = sum_c E_c(t)` is how many articles'
worth of news the odds rest on.

The audit trail
---------------
An article a from day d, looked at as of day T >= d, carries weight
w = lambda^(T - d). Its effect on the odds is leave-one-out: the odds as of T
minus the odds with its weighted mass taken out of alpha(T):

    delta_c(a) = odds_c(T) - (alpha_c(T) - w p_c(a)) / (sum_k alpha_k(T) - w sum_k p_k(a))

Its `contribution` is the total-variation size of that move,
0.5 * sum_c |delta_c|, in probability points; `toward` is the case it pushed up
most. `movers` ranks articles by contribution: the biggest mover first.

Everything here is a pure function over frames, plus thin wrappers that read
the store (`odds_path`, `movers`) and the `signals odds` command.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from .errors import SignalsError
from .records import CASES
from .scenario import Scenario
from .signals import article_predictions, calendar, jsonable
from .store import Store

DEFAULT_HALF_LIFE = 7.0
DEFAULT_STRENGTH = 10.0
PATH_COLUMNS = ["day", *CASES, "evidence"]
MOVER_COLUMNS = [
    "id", "day", "title", "outlet", "link", "label", "p_base", "p_accelerated", "p_contraction", "p_none",
    "weight", "d_base", "d_accelerated", "d_contraction", "contribution", "toward", "evidence",
]
_MASS = [f"p_{c}" for c in CASES]


@dataclass(frozen=True)
class OddsModel:
    """The model's parameters: priors per case, prior strength s, half-life h in days."""

    priors: dict[str, float]
    strength: float = DEFAULT_STRENGTH
    half_life: float = DEFAULT_HALF_LIFE

    def __post_init__(self):
        if self.strength <= 0:
            raise SignalsError(f"odds: prior strength must be positive, got {self.strength:g}")
        if self.half_life <= 0:
            raise SignalsError(f"odds: half-life must be a positive number of days, got {self.half_life:g}")
        missing = [c for c in CASES if c not in self.priors]
        if missing:
            raise SignalsError(f"odds: the scenario pack has no prior for {', '.join(missing)}")

    @classmethod
    def for_scenario(cls, scenario: Scenario, half_life: float = DEFAULT_HALF_LIFE, strength: float = DEFAULT_STRENGTH) -> "OddsModel":
        return cls(dict(scenario.priors), float(strength), float(half_life))

    @property
    def decay(self) -> float:
        """lambda: what one day's evidence is worth a day later."""
        return 2.0 ** (-1.0 / self.half_life)

    @property
    def prior_counts(self) -> np.ndarray:
        return np.array([self.strength * self.priors[c] for c in CASES], dtype="float64")


# ---------------------------------------------------------------- pure computation


def daily_mass(predictions: pd.DataFrame, days: pd.DatetimeIndex) -> pd.DataFrame:
    """Pure: the summed probability per case (columns base, accelerated, contraction) per day, 0 on empty days."""
    if predictions.empty:
        return pd.DataFrame(0.0, index=days, columns=list(CASES))
    mass = predictions.groupby("day")[_MASS].sum()
    mass.columns = list(CASES)
    return mass.reindex(days, fill_value=0.0).astype("float64")


def posterior(mass: pd.DataFrame, model: OddsModel) -> pd.DataFrame:
    """Pure: alpha_c(t) for each day of `mass` (rows in calendar order, one per day, no gaps)."""
    lam = model.decay
    evidence = np.zeros(len(CASES))
    rows = []
    for values in mass[list(CASES)].to_numpy(dtype="float64"):
        evidence = lam * evidence + values
        rows.append(model.prior_counts + evidence)
    return pd.DataFrame(rows, index=mass.index, columns=list(CASES)) if rows else pd.DataFrame(columns=list(CASES), dtype="float64")


def path_from_alpha(alpha: pd.DataFrame, model: OddsModel) -> pd.DataFrame:
    """Pure: the odds path (day, base, accelerated, contraction, evidence) from the alphas."""
    total = alpha.sum(axis=1)
    out = alpha.div(total, axis=0)
    out["evidence"] = total - model.strength
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
    path = path_from_alpha(posterior(daily_mass(predictions, days), model), model)
    if first is not None:
        path = path[path["day"] >= pd.Timestamp(first)]
    return path.reset_index(drop=True)


def leave_one_out(alpha: np.ndarray, weights: np.ndarray, masses: np.ndarray) -> np.ndarray:
    """Pure: delta_c for each article: odds(alpha) minus the odds without its weighted mass.

    alpha: shape (3,) or (n, 3), one row per article; weights: (n,); masses: (n, 3). Returns (n, 3).
    """
    alpha = np.broadcast_to(np.asarray(alpha, dtype="float64"), masses.shape)
    with_it = alpha / alpha.sum(axis=1, keepdims=True)
    without = alpha - weights[:, None] * masses
    without = without / without.sum(axis=1, keepdims=True)
    return with_it - without


def rank_movers(predictions: pd.DataFrame, alpha: np.ndarray, weights: np.ndarray, n: int | None = None) -> pd.DataFrame:
    """Pure: articles with their leave-one-out deltas, contribution and direction, biggest first."""
    if predictions.empty:
        return pd.DataFrame({c: pd.Series(dtype="object") for c in MOVER_COLUMNS})
    delta = leave_one_out(alpha, np.asarray(weights, dtype="float64"), predictions[_MASS].to_numpy(dtype="float64"))
    out = predictions.copy()
    out["weight"] = weights
    for i, case in enumerate(CASES):
        out[f"d_{case}"] = delta[:, i]
    out["contribution"] = 0.5 * np.abs(delta).sum(axis=1)
    out["toward"] = [CASES[i] for i in delta.argmax(axis=1)]
    out = out.sort_values(["contribution", "id"], ascending=[False, True], kind="mergesort")
    if n is not None:
        out = out.head(n)
    return out[MOVER_COLUMNS].reset_index(drop=True)


def movers_as_of(predictions: pd.DataFrame, model: OddsModel, as_of: date, since: date | None = None, n: int | None = 10) -> pd.DataFrame:
    """Pure: the articles published from `since` to `as_of` ranked by how much they moved the odds as of `as_of`.

    `predictions` must hold every article up to `as_of` (earlier ones build the alphas).
    """
    as_of = pd.Timestamp(as_of)
    history = predictions[predictions["day"] <= as_of]
    if history.empty:
        return rank_movers(history, np.zeros(3), np.zeros(0), n)
    days = calendar(min(history["day"].min(), as_of), as_of)
    alpha = posterior(daily_mass(history, days), model).iloc[-1].to_numpy()
    window = history[history["day"] >= pd.Timestamp(since)] if since is not None else history
    weights = model.decay ** ((as_of - window["day"]).dt.days.to_numpy(dtype="float64"))
    return rank_movers(window, alpha, weights, n)


def daily_movers(predictions: pd.DataFrame, model: OddsModel, n: int = 3) -> pd.DataFrame:
    """Pure: for each day, its own articles ranked by how much they moved that day's odds (weight 1)."""
    if predictions.empty:
        return rank_movers(predictions, np.zeros(3), np.zeros(0), n)
    days = calendar(predictions["day"].min(), predictions["day"].max())
    alpha = posterior(daily_mass(predictions, days), model)
    per_article = alpha.loc[pd.DatetimeIndex(predictions["day"])].to_numpy()
    ranked = rank_movers(predictions.reset_index(drop=True), per_article, np.ones(len(predictions)), None)
    return (
        ranked.sort_values(["day", "contribution", "id"], ascending=[False, False, True], kind="mergesort")
        .groupby("day", sort=False).head(n).reset_index(drop=True)
    )


# ---------------------------------------------------------------- store wrappers


def odds_path(
    store: Store, scenario: Scenario, since: date | None = None, until: date | None = None,
    half_life: float = DEFAULT_HALF_LIFE, strength: float = DEFAULT_STRENGTH,
) -> pd.DataFrame:
    """The odds per calendar day from since to until: day, base, accelerated, contraction, evidence.

    All stored news up to `until` counts (decayed), so the odds on `since` carry what came
    before it. Without since/until the path runs over the days that have predictions.
    """
    model = OddsModel.for_scenario(scenario, half_life, strength)
    return compute_path(article_predictions(store, scenario, None, until), model, since, until)


def movers(
    store: Store, scenario: Scenario, day: date | None = None, n: int = 10, *, since: date | None = None,
    until: date | None = None, half_life: float = DEFAULT_HALF_LIFE, strength: float = DEFAULT_STRENGTH,
) -> pd.DataFrame:
    """The articles that moved the odds most: those of `day`, or of since..until judged as of `until`.

    With neither, the last day with predictions. Columns: id, day, title, outlet, link, label,
    p_base .. p_none, weight, d_base, d_accelerated, d_contraction, contribution, toward, evidence
    (the classifier's evidence sentences).
    """
    model = OddsModel.for_scenario(scenario, half_life, strength)
    if day is not None:
        since = until = day
    predictions = article_predictions(store, scenario, None, until)
    if predictions.empty:
        return rank_movers(predictions, np.zeros(3), np.zeros(0), n)
    as_of = until or predictions["day"].max().date()
    if since is None and until is None:
        since = as_of
    return movers_as_of(predictions, model, as_of, since, n)


# ---------------------------------------------------------------- command


def _percent(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    for case in CASES:
        out[case] = (out[case] * 100).map(lambda v: f"{v:5.1f}%")
    out["day"] = out["day"].dt.strftime("%Y-%m-%d")
    out["evidence"] = out["evidence"].map(lambda v: f"{v:.1f}")
    return out


def odds_summary(path: pd.DataFrame, top: pd.DataFrame, model: OddsModel, scenario_id: str) -> dict:
    """Pure: the JSON document `signals odds --format json` prints."""
    latest = path.iloc[-1] if not path.empty else None
    movers_records = jsonable(top.drop(columns=["link"], errors="ignore"))
    return {
        "scenario": scenario_id,
        "as_of": latest["day"].strftime("%Y-%m-%d") if latest is not None else None,
        "odds": {c: float(latest[c]) for c in CASES} if latest is not None else dict(model.priors),
        "priors": dict(model.priors),
        "half_life_days": model.half_life,
        "strength": model.strength,
        "path": jsonable(path),
        "movers": movers_records,
    }


def cmd_odds(args) -> int:
    from .scenario import load_scenario
    from .settings import load_settings

    settings = load_settings(args.config, db=args.db).replace(scenario=args.scenario)
    pack = load_scenario(settings.scenario_dir)
    model = OddsModel.for_scenario(pack, args.half_life, args.strength)
    with Store(settings.db, read_only=True) as store:
        predictions = article_predictions(store, pack, None, args.until)
    path = compute_path(predictions, model, args.since, args.until)
    top = (movers_as_of(predictions, model, path["day"].iloc[-1], args.since or path["day"].iloc[-1], args.top)
           if not path.empty else rank_movers(predictions.iloc[0:0], np.zeros(3), np.zeros(0)))
    if args.format == "json":
        print(json.dumps(odds_summary(path, top, model, pack.id), ensure_ascii=False))
        return 0
    if path.empty:
        print("no predictions in that range; the odds are the priors: "
              + ", ".join(f"{c} {p:.0%}" for c, p in model.priors.items()), file=sys.stderr)
        return 0
    latest = path.iloc[-1]
    print(f"odds for {pack.id} as of {latest['day']:%Y-%m-%d} (half-life {model.half_life:g} days, prior strength {model.strength:g}):")
    print("  " + "   ".join(f"{c} {latest[c]:.1%}" for c in CASES) + f"   (on {latest['evidence']:.1f} articles' worth of news)")
    print()
    print(_percent(path).to_string(index=False))
    if not top.empty:
        print()
        print("top movers:")
        for row in top.itertuples():
            print(f"  {row.contribution * 100:5.2f} pts toward {row.toward:<11} {row.day:%Y-%m-%d} {row.id}  [{row.outlet}] {row.title[:90]}")
    return 0


def add_commands(subparsers) -> None:
    """Register `signals odds` on the CLI's subparsers."""
    p = subparsers.add_parser("odds", help="scenario odds today, their path, and the articles that moved them")
    p.add_argument("--scenario")
    p.add_argument("--since", type=date.fromisoformat)
    p.add_argument("--until", type=date.fromisoformat)
    p.add_argument("--half-life", type=float, default=DEFAULT_HALF_LIFE, help=f"days for news to lose half its weight (default {DEFAULT_HALF_LIFE:g})")
    p.add_argument("--strength", type=float, default=DEFAULT_STRENGTH, help=f"prior worth, in articles (default {DEFAULT_STRENGTH:g})")
    p.add_argument("--top", type=int, default=5, help="how many movers to list (default 5)")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=cmd_odds)


__all__ = [
    "OddsModel", "add_commands", "compute_path", "daily_mass", "daily_movers", "leave_one_out", "movers",
    "movers_as_of", "odds_path", "odds_summary", "posterior", "rank_movers",
]
