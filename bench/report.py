"""The table of figures: one row per figure, a column per broker, and kafkette/Tansu ratios."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    workload: str  # key in the results of one broker
    metric: str  # key in that workload's dict
    label: str
    unit: str  # msgs/s, MB/s, ms, s, MB, txn/s, msgs
    better: str  # "higher" or "lower" (or "" for plain facts)


def fmt(value, unit: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if unit in ("msgs/s", "txn/s", "msgs"):
        return f"{value:,.0f}"
    if unit in ("MB/s", "MB"):
        return f"{value:,.1f}"
    if unit == "ms":
        return f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    if unit == "%":
        return f"{value:.0f}%"
    if unit == "GB":
        return f"{value:.2f}"
    if unit == "s":
        return f"{value:.3f}"
    return f"{value}"


def cell(results: dict, fig: Figure) -> tuple[str, float | None]:
    """The printed cell and the number behind it (None when n/a)."""
    workload = results.get(fig.workload)
    if workload is None:
        return "not run", None
    if "error" in workload:
        return f"n/a: {workload['error']}", None
    value = workload.get(fig.metric)
    if value is None:
        return "n/a", None
    return fmt(value, fig.unit), value


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def table(figures: list[Figure], results: dict[str, dict], brokers: list[str], na_width: int = 48) -> str:
    """Rows of figures; with two brokers a ratio column (first / second). Long n/a reasons are cut;
    the full reasons follow as notes."""
    names = {"kafkette": "kafkette", "tansu": "Tansu"}
    header = ["figure", "unit", "better"] + [names.get(b, b) for b in brokers] + (["ratio k/T"] if len(brokers) == 2 else [])
    rows = []
    for fig in figures:
        if all(fig.workload not in results.get(b, {}) for b in brokers):
            continue  # not run on any broker (--only)
        cells, values = [], []
        for b in brokers:
            text, value = cell(results.get(b, {}), fig)
            cells.append(_shorten(text, na_width))
            values.append(value)
        row = [fig.label, fig.unit, fig.better] + cells
        if len(brokers) == 2:
            a, t = values
            row.append(f"{a / t:.2f}" if a is not None and t not in (None, 0) and fig.better else "")
        rows.append(row)
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    lines = []

    def line(values):
        parts = []
        for i, v in enumerate(values):
            parts.append(str(v).ljust(widths[i]) if i < 3 else str(v).rjust(widths[i]))
        return "  ".join(parts).rstrip()

    lines.append(line(header))
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        lines.append(line(r))
    return "\n".join(lines)


def notes(results: dict[str, dict], brokers: list[str], na_width: int = 48) -> str:
    """Partial runs, n/a reasons cut short in the table, and other remarks, per broker and workload."""
    out = []
    for b in brokers:
        for name, workload in results.get(b, {}).items():
            if not isinstance(workload, dict):
                continue
            if "error" in workload:
                if len(f"n/a: {workload['error']}") > na_width:
                    out.append(f"- {b} / {name}: n/a: {workload['error']}")
            elif workload.get("note"):
                out.append(f"- {b} / {name}: {workload['note']}")
    return "\n".join(out)
