"""The comparison matrix: one column per network, rows computed from the specs, and every claim a
source makes about a network (``[model.claims]``) checked against what the spec computes."""
from __future__ import annotations

from dataclasses import dataclass

from .engine import Analysis
from .expand import Block, Parallel
from .layers import KINDS, Layer

ROWS = (  # key, title, where the value comes from
    ("year", "year", "meta"),
    ("layers", "layers (weighted, longest path)", "computed"),
    ("conv_layers", "conv layers (longest path)", "computed"),
    ("fc_layers", "fc layers (widths)", "computed"),
    ("kernel_sizes", "conv kernel sizes", "computed"),
    ("lrn", "LRN", "computed"),
    ("batchnorm", "batch norm", "computed"),
    ("dropout", "dropout", "computed"),
    ("inception", "inception (concatenated branches)", "computed"),
    ("residual", "residual (added branches)", "computed"),
    ("params", "params", "computed"),
    ("macs", "MACs", "computed"),
    ("memory", "memory (values / image)", "computed"),
    ("top5_error", "top-5 error (%)", "meta"),
    ("data_augmentation", "data augmentation", "meta"),
)


@dataclass(frozen=True)
class MatrixRow:
    key: str
    title: str
    values: tuple  # one per model
    claims: tuple  # one per model: the claimed value, or None where nothing is claimed

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

    def footnotes(self) -> list[str]:
        """Where a claim and the spec disagree: computed vs claimed, and who claimed it."""
        notes = []
        for row in self.rows:
            for model, value, claim, disputed, source in zip(self.models, row.values, row.claims, row.disputed,
                                                             self.claim_sources):
                if disputed:
                    kind = "the spec says" if dict((k, o) for k, _, o in ROWS)[row.key] == "meta" else "computed"
                    notes.append(f"{model} {row.title}: {kind} {format_value(value)}, claimed "
                                 f"{format_value(claim)} ({source or 'unnamed source'})")
        return notes


def features(analysis: Analysis) -> dict:
    """The matrix's values for one analysed network.

    >>> from archcalc import analyze, load_spec
    >>> features(analyze(load_spec("alexnet")))["kernel_sizes"]
    [11, 5, 3]
    """
    main = _main_path_layers(analysis.spec.layers)
    merges = _merges(analysis.spec.layers)
    meta = analysis.spec.meta
    return {
        "year": meta.get("year"),
        "layers": analysis.depth,
        "conv_layers": analysis.conv_depth,
        "fc_layers": [layer["units"] for layer in main if layer.kind == "fc"],
        "kernel_sizes": _kernel_sizes(main, analysis),
        "lrn": any(layer.kind == "lrn" for layer in main),
        "batchnorm": any(layer.kind == "batchnorm" or layer.params.get("batchnorm") is True for layer in main),
        "dropout": any(layer.kind == "dropout" for layer in main),
        "inception": "concat" in merges,
        "residual": "add" in merges,
        "params": analysis.totals.params,
        "macs": analysis.totals.macs,
        "memory": analysis.totals.memory,
        "top5_error": meta.get("top5_error"),
        "data_augmentation": meta.get("data_augmentation"),
    }


def _main_path_layers(nodes) -> list[Layer]:
    """Every layer except those in side outputs (auxiliary classifiers are not the network's depth)."""
    found = []
    for node in nodes:
        if isinstance(node, Layer):
            found.append(node)
        elif isinstance(node, Parallel):
            if node.merge != "side":
                for branch in node.branches:
                    found.extend(_main_path_layers(branch))
        else:
            found.extend(_main_path_layers(node.body))
    return found


def _merges(nodes) -> set[str]:
    found = set()
    for node in nodes:
        if isinstance(node, Parallel):
            found.add(node.merge)
            for branch in node.branches:
                found |= _merges(branch)
        elif isinstance(node, Block):
            found |= _merges(node.body)
    return found


def _kernel_sizes(layers: list[Layer], analysis: Analysis) -> list:
    """Distinct conv kernel sizes in order of first use (``7x1`` where not square); projections are 1."""
    sizes = []
    for layer in layers:
        if layer.kind == "conv":
            kh, kw = layer["kernel"]
            size = kh if kh == kw else f"{kh}x{kw}"
        elif layer.kind == "shortcut" and KINDS["shortcut"].weighted_layers(layer, analysis.inputs[layer.name]):
            size = 1
        else:
            continue
        if size not in sizes:
            sizes.append(size)
    return sizes


def compare(analyses: list[Analysis]) -> Comparison:
    """Build the matrix; claims come from each spec's ``[model.claims]``."""
    table = [features(analysis) for analysis in analyses]
    claims = [analysis.spec.meta.get("claims", {}) for analysis in analyses]
    rows = tuple(MatrixRow(key, title, tuple(f[key] for f in table), tuple(c.get(key) for c in claims))
                 for key, title, _ in ROWS)
    return Comparison(tuple(a.spec.name for a in analyses), tuple(a.spec.title for a in analyses), rows,
                      tuple(c.get("source") for c in claims))


def format_value(value) -> str:
    """``+``/``-`` for yes/no, ``3: 4096, 4096, 1000`` for fc widths, lists joined by commas."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "+" if value else "-"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)
