"""The comparison matrix as a TableModel: one column per network, rows computed from the specs."""
from __future__ import annotations

from ..comparison import Comparison, format_value
from ..dims import to_json
from .numbers import byte_sizes, compact
from .table import Column, TableModel

COMPACT_KEYS = ("params", "macs", "memory", "connections", "inference_peak", "training_peak", "params_per_layer",
                "params_per_error", "macs_per_error")
BYTE_KEYS = ("inference_peak", "training_peak")
UNITS = {"params": "params", "macs": "MACs", "memory": "values", "connections": "connections",
         "params_per_layer": "params", "params_per_error": "params", "macs_per_error": "MACs", "pointwise_saving": "x"}


def _cell(key: str, value, disputed: bool) -> str:
    if key in BYTE_KEYS and isinstance(value, int):
        text = byte_sizes(value)[0]
    else:
        text = compact(value) if key in COMPACT_KEYS and isinstance(value, int) else format_value(value)
        if key in UNITS and text:
            text += UNITS[key] if UNITS[key] == "x" else f" {UNITS[key]}"
    if key == "fc_layers" and isinstance(value, list):
        text = f"{len(value)}: {text}" if value else "0"
    return text + (" (!)" if disputed else "")


def _plain(value):
    return value if isinstance(value, (bool, list, float, type(None), str)) else to_json(value)


def comparison_model(comparison: Comparison, transpose: bool = False) -> TableModel:
    """Networks as columns (the lecture's matrix), or as rows (``transpose``: for many networks).
    A row with no value for any network (no width multiplier) is left out of the display."""
    from dataclasses import replace

    comparison = replace(comparison, rows=tuple(row for row in comparison.rows
                                                if any(value is not None for value in row.values)))
    if transpose:
        columns = (Column("network", "network"),) + tuple(
            Column(row.key, row.title, "right" if row.key in COMPACT_KEYS else "left") for row in comparison.rows)
        rows = tuple({"network": model, **{row.key: _cell(row.key, row.values[number], row.disputed[number])
                                           for row in comparison.rows}}
                     for number, model in enumerate(comparison.models))
    else:
        columns = (Column("row", ""),) + tuple(Column(model, model) for model in comparison.models)
        rows = tuple({"row": row.title, **{model: _cell(row.key, value, bad) for model, value, bad
                                           in zip(comparison.models, row.values, row.disputed)}}
                     for row in comparison.rows)
    records = tuple({"key": row.key, **{model: format_value(_plain(value)) for model, value
                                        in zip(comparison.models, row.values)}} for row in comparison.rows)
    notes, sources = comparison.footnotes(), comparison.sources()
    document = {
        "models": list(comparison.models),
        "rows": [{"key": row.key, "title": row.title, "values": [_plain(v) for v in row.values],
                  "claims": [_plain(c) for c in row.claims], "disputed": list(row.disputed)}
                 for row in comparison.rows],
        "notes": notes,
        "top5_sources": sources,
    }
    title = "Comparison: " + ", ".join(comparison.titles)
    footer = (("top-5 error, where it comes from:", *sources) if sources else ()) + (
        ("(!) a claim disagrees with the spec:", *notes) if notes else ())
    return TableModel(title, columns, rows, footer, (), records, document)
