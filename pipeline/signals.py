"""Reading the signals back: daily trend rows for a scenario and a date range.

`trend(store, scenario, since, until)` returns a pandas DataFrame with one row
per day and case: day, scenario, case, articles, probability.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from .store import Store

TREND_COLUMNS = ["day", "scenario", "case", "articles", "probability"]


def trend(store: Store, scenario: str, since: date | None = None, until: date | None = None) -> pd.DataFrame:
    """Daily signal rows, oldest first, cases in a fixed order (base, accelerated, contraction, none)."""
    clauses, params = ["scenario = ?"], [scenario]
    if since:
        clauses.append("day >= ?")
        params.append(since)
    if until:
        clauses.append("day <= ?")
        params.append(until)
    frame = store.query_df(
        f"""SELECT day, scenario, "case", articles, round(probability, 3) AS probability FROM daily_signals
            WHERE {' AND '.join(clauses)}
            ORDER BY day, array_position(['base', 'accelerated', 'contraction', 'none'], "case")""",
        params,
    )
    frame["day"] = pd.to_datetime(frame["day"]).dt.strftime("%Y-%m-%d")
    return frame[TREND_COLUMNS]


def trend_table(frame: pd.DataFrame) -> pd.DataFrame:
    """One row a day, a column per case: 'articles (probability)', plus the leading case."""
    if frame.empty:
        return frame
    wide = frame.pivot(index="day", columns="case", values="articles").fillna(0).astype(int)
    mass = frame.pivot(index="day", columns="case", values="probability").fillna(0.0)
    cases = [c for c in ("base", "accelerated", "contraction", "none") if c in wide.columns]
    out = pd.DataFrame({c: [f"{wide.at[d, c]} ({mass.at[d, c]:.1f})" for d in wide.index] for c in cases}, index=wide.index)
    scenario_cases = [c for c in cases if c != "none"]
    out["leading"] = [
        max(scenario_cases, key=lambda c: (wide.at[d, c], mass.at[d, c])) if wide.loc[d, scenario_cases].sum() else "-"
        for d in wide.index
    ]
    return out
