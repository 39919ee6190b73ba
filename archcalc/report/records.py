"""The exact, JSON-ready records of an analysis: the contract that scripts and graders rely on."""
from __future__ import annotations

from ..dims import normalize, to_json
from ..engine import Analysis, Row


def row_record(row: Row, pixel_index: bool = False) -> dict:
    """A row with exact values; symbolic ones as formula text. ``pixel_index``: receptive-field
    starts with pixel i's centre at i (TensorFlow's library), not i + 0.5."""
    return {"index": row.index, "name": row.name, "kind": row.kind, "layer": " + ".join((row.label,) + row.folded),
            "shape": [to_json(d) for d in row.shape], "memory": to_json(row.memory),
            "weights": to_json(row.weights), "biases": to_json(row.biases), "params": to_json(row.params),
            "trainable_params": to_json(normalize(row.params - row.frozen)), "macs": to_json(row.macs),
            "connections": to_json(row.connections), "training_only": row.training_only, "folded": list(row.folded),
            "level": row.level, "repeat": row.repeat,
            "reshaped": [to_json(d) for d in row.reshaped] if row.reshaped else None,
            "receptive_field": [{"size": float(f.size), "jump": float(f.jump), "start": float(f.start_index if pixel_index else f.start),
                                 "effective_padding": float(f.effective_padding)} for f in row.rf] if row.rf else None}


def analysis_record(analysis: Analysis, pixel_index: bool = False) -> dict:
    """The JSON contract: model, input, layers (first row the input), totals, depth, notes."""
    totals = analysis.totals
    return {
        "model": analysis.spec.name,
        "title": analysis.spec.title,
        "input": [to_json(d) for d in analysis.spec.input_shape],
        "layers": [row_record(row, pixel_index) for row in analysis.rows],
        **({"rf_start": "pixel index (pixel i's centre at i)"} if pixel_index else {}),
        "totals": {"memory": to_json(totals.memory), "weights": to_json(totals.weights),
                   "biases": to_json(totals.biases), "params": to_json(totals.params),
                   "trainable_params": to_json(totals.trainable_params), "macs": to_json(totals.macs),
                   "training_only_macs": to_json(totals.training_only_macs),
                   "connections": to_json(totals.connections)},
        "depth": {"layers": analysis.depth, "conv_layers": analysis.conv_depth},
        "warnings": list(analysis.warnings),
        "assumptions": list(analysis.assumptions),
        "notes": list(analysis.notes),
    }
