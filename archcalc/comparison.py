"""The comparison matrix: one column per network, rows computed from the specs, and every claim a
source makes about a network (``[model.claims]``) checked against what the spec computes.

Besides a few rows of its own (year, depth, totals, what the spec says of accuracy), the matrix
has one row per trait that a layer kind or a merge reports about itself (kernel sizes, LRN, batch
norm, dropout, inception, residual, ... and whatever plugin kinds add), in the traits' order.
"""
from __future__ import annotations

from dataclasses import dataclass

from .engine import Analysis
from .expand import Block, Parallel
from .layers import KINDS, MERGES, Layer, Trait

HEAD = (("year", "year", "meta"), ("input", "input", "computed"),
        ("layers", "layers (weighted, longest path)", "computed"), ("conv_layers", "conv layers (longest path)", "computed"))
TAIL = (("params", "params", "computed"), ("macs", "MACs", "computed"),
        ("connections", "connections (MACs + biased outputs)", "computed"),
        ("memory", "memory (values / image)", "computed"),
        ("inference_peak", "inference peak (bytes, batch 1, float32)", "computed"),
        ("training_peak", "training step peak (bytes, batch 32, float32, SGD with momentum)", "computed"),
        ("width_multiplier", "width multiplier", "meta"),
        ("top5_error", "top-5 error (%)", "meta"), ("data_augmentation", "data augmentation", "meta"),
        # the lecture's second question: how parameters fell while accuracy rose (archcalc.questions)
        ("fc_share", "params in fc layers (%)", "computed"),
        ("params_per_layer", "params per weighted layer", "computed"),
        ("pointwise_saving", "weights without the 1x1 reductions / with them", "computed"),
        ("params_per_error", "params per point of top-5 error", "computed"),
        ("macs_per_error", "MACs per point of top-5 error", "computed"))


@dataclass(frozen=True)
class MatrixRow:
    key: str
    title: str
    values: tuple  # one per model
    claims: tuple  # one per model: the claimed value, or None where nothing is claimed
    source: str = "computed"  # or "meta": what the spec says, not what it computes

    @property
    def disputed(self) -> tuple[bool, ...]:
        return tuple(claim is not None and not agrees(value, claim) for value, claim in zip(self.values, self.claims))


def agrees(value, claim) -> bool:
    """A claim agrees when it equals the value, or is the value rounded to the claim's own precision.

    >>> agrees(6.67, 6.7), agrees(3.57, 3.75), agrees([7, 1, 3], [7, 1, 3, 5])
    (True, False, False)
    """
    if isinstance(claim, float) and isinstance(value, (int, float)) and not isinstance(value, bool):
        decimals = len(repr(claim).split(".")[1]) if "." in repr(claim) else 0
        return round(value, decimals) == claim
    return value == claim


@dataclass(frozen=True)
class Comparison:
    models: tuple[str, ...]
    titles: tuple[str, ...]
    rows: tuple[MatrixRow, ...]
    claim_sources: tuple[str | None, ...]
    top5_sources: tuple[str | None, ...] = ()

    def row(self, key: str) -> MatrixRow | None:
        return next((row for row in self.rows if row.key == key), None)

    def sources(self) -> list[str]:
        """Where each network's accuracy figure comes from (nothing where the matrix has no error row)."""
        errors = self.row("top5_error")
        if errors is None:
            return []
        return [f"{model}: {error}%, {source}" for model, error, source
                in zip(self.models, errors.values, self.top5_sources) if error is not None and source]

    def footnotes(self) -> list[str]:
        """Where a claim and the spec disagree: computed vs claimed, and who claimed it."""
        notes = []
        for row in self.rows:
            for model, value, claim, disputed, source in zip(self.models, row.values, row.claims, row.disputed,
                                                             self.claim_sources):
                if disputed:
                    kind = "the spec says" if row.source == "meta" else "computed"
                    notes.append(f"{model} {row.title}: {kind} {format_value(value)}, claimed "
                                 f"{format_value(claim)} ({source or 'unnamed source'})")
        return notes


def all_traits() -> list[Trait]:
    """Every trait the kinds and merges report, in the matrix's order."""
    declared = [trait for kind in KINDS.values() for trait in kind.reports]
    declared += [trait for merge in MERGES.values() for trait in merge.reports]
    return sorted({trait.key: trait for trait in declared}.values(), key=lambda trait: (trait.rank, trait.key))


def features(analysis: Analysis) -> dict:
    """The matrix's values for one analysed network.

    >>> from archcalc import analyze
    >>> features(analyze("alexnet"))["kernel_sizes"]
    [11, 5, 3]
    """
    meta, totals = analysis.spec.meta, analysis.totals
    values = {"year": meta.get("year"), "input": "x".join(map(str, analysis.spec.input_shape)),
              "layers": analysis.depth, "conv_layers": analysis.conv_depth}
    values.update(trait_values(analysis))
    values.update({"params": totals.params, "macs": totals.macs, "connections": totals.connections,
                   "memory": totals.memory, **execution_memory(analysis),
                   "width_multiplier": meta.get("width_multiplier"),
                   "top5_error": meta.get("top5_error"), "data_augmentation": meta.get("data_augmentation")})
    values.update(question_values(analysis))
    return values


def question_values(analysis: Analysis) -> dict:
    """The rows that answer the lecture's second question (archcalc.questions)."""
    from .dims import is_symbolic
    from .questions import fc_share, per_error_point, pointwise_savings

    params = analysis.totals.params
    saving = pointwise_savings(analysis)
    per_error = per_error_point(analysis)
    return {"fc_share": fc_share(analysis),
            "params_per_layer": None if is_symbolic(params) or not analysis.depth
            else round(params / analysis.depth),
            "pointwise_saving": round(saving.without_weights / saving.with_weights, 1) if saving else None,
            "params_per_error": per_error[0] if per_error else None,
            "macs_per_error": per_error[1] if per_error else None}


INFERENCE_BATCH, TRAINING_BATCH = 1, 32  # the batches the matrix states its memory rows at


def execution_memory(analysis: Analysis) -> dict:
    """The inference peak and a training step's peak (archcalc.liveness), where sizes are concrete."""
    from .dims import is_symbolic
    from .liveness import inference_memory, training_memory

    if any(is_symbolic(d) for d in analysis.spec.input_shape):
        return {"inference_peak": None, "training_peak": None}
    return {"inference_peak": inference_memory(analysis, INFERENCE_BATCH).peak_bytes,
            "training_peak": training_memory(analysis, TRAINING_BATCH, optimizer="sgd-momentum").peak_bytes}


def trait_values(analysis: Analysis) -> dict:
    """Each trait's value over the network's main path (side outputs such as auxiliary classifiers
    are not the network's architecture)."""
    reported: dict[Trait, list] = {trait: [] for trait in all_traits()}
    for node in _main_path(analysis.spec.layers):
        if isinstance(node, Layer):
            found = KINDS[node.kind].traits(node, analysis.inputs[node.name])
        else:
            found = MERGES[node.merge].traits(node.branches)
        for trait, value in found.items():
            reported.setdefault(trait, []).extend(value if isinstance(value, tuple) else (value,))
    return {trait.key: _combine(trait, values) for trait, values in reported.items()}


def _combine(trait: Trait, values: list):
    if trait.combine == "any":
        return any(values)
    if trait.combine == "distinct":
        return list(dict.fromkeys(values))
    return values


def _main_path(nodes):
    """Every layer and merge, except those in side outputs."""
    for node in nodes:
        if isinstance(node, Layer):
            yield node
        elif isinstance(node, Parallel):
            if not MERGES[node.merge].passes_input:
                for branch in node.branches:
                    yield from _main_path(branch)
                yield node
        elif isinstance(node, Block):
            yield from _main_path(node.body)


def build_comparison(analyses: list[Analysis]) -> Comparison:
    """Build the matrix; claims come from each spec's ``[model.claims]``."""
    table = [features(analysis) for analysis in analyses]
    claims = [analysis.spec.meta.get("claims", {}) for analysis in analyses]
    layout = HEAD + tuple((trait.key, trait.title, "computed") for trait in all_traits()) + TAIL
    rows = tuple(MatrixRow(key, title, tuple(f[key] for f in table), tuple(c.get(key) for c in claims), source)
                 for key, title, source in layout)
    return Comparison(tuple(a.spec.name for a in analyses), tuple(a.spec.title for a in analyses), rows,
                      tuple(c.get("source") for c in claims), tuple(a.spec.meta.get("top5_source") for a in analyses))


def select(comparison: Comparison, keys: list[str]) -> Comparison:
    """The matrix with only the rows ``keys``, in that order; an unknown key lists the known ones."""
    from dataclasses import replace

    from .errors import ArchcalcError
    from .layers.base import nearest

    known = [row.key for row in comparison.rows]
    unknown = [key for key in keys if key not in known]
    if unknown:
        hint = nearest(unknown[0], known)
        raise ArchcalcError(f"`keys`: no row {unknown[0]!r}" + (f"; {hint}" if hint else "")
                            + f" (rows: {', '.join(known)})")
    return replace(comparison, rows=tuple(comparison.row(key) for key in keys))


def format_value(value) -> str:
    """``+``/``-`` for yes/no, ``3: 4096, 4096, 1000`` for fc widths, lists joined by commas."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "+" if value else "-"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
