"""The lecture's two questions, answered for a handout with figures computed from the specs
(archcalc.questions) and the comparison matrix; each answer is a table and sentences of evidence."""
from __future__ import annotations

from dataclasses import dataclass

from ..comparison import all_traits, build_comparison, format_value
from ..engine import Analysis
from ..layers import KINDS
from ..questions import fc_params, fc_share, how_much_bigger, pointwise_savings
from .numbers import compact, exact
from .table import Column, TableModel

# The lecture note's two questions, with the handout's networks named in them.
QUESTION_1 = ("How do {big} and LeCun et al.'s 1989 network differ, and agree, in architecture and training? "
              "Why was the leap in accuracy so large?")
QUESTION_2 = ("What did {later} each change from the network before? Why could accuracy keep rising while the "
              "number of parameters and the prediction time fell?")
LECUN_1989 = "lecun1989"
# What the specs cannot compute, with its source.
TRAINING_FACTS = ("Training data: 7,291 zip-code digits for LeCun et al. 1989 (Section 2 of the paper), "
                  "1.2 million ImageNet images for AlexNet (Section 2), enlarged by crops and flips "
                  "(Section 4.1); AlexNet trained for five to six days on two GTX 580 GPUs (Section 1).")


@dataclass(frozen=True)
class Answer:
    number: int
    question: str
    table: TableModel
    evidence: tuple[str, ...]


def lecture_answers(networks: list[Analysis], lecun: Analysis | None) -> list[Answer]:
    """Both answers for ``networks`` (the lecture's matrix: AlexNet, VGG, GoogLeNet, ResNet), with
    ``lecun`` for the first question (left out where None or where no other network is given)."""
    by_year = sorted((a for a in networks if a.spec.name != LECUN_1989), key=lambda a: a.spec.meta.get("year") or 0)
    answers = []
    if lecun is not None and by_year:
        answers.append(_first(lecun, by_year[0]))
    if len(by_year) > 1:
        answers.append(_second(by_year))
    return answers


def _times(ratio: float | None) -> str:
    """``6,246x``, ``2.36x``, or ``0.049x (1/20.5)`` where it fell; nothing where there is no ratio."""
    if ratio is None:
        return ""
    if ratio >= 100:
        return f"{ratio:,.0f}x"
    return f"{ratio:.3g}x" if ratio >= 1 else f"{ratio:.2g}x (1/{1 / ratio:.3g})"


def _first(small: Analysis, big: Analysis) -> Answer:
    bigger = how_much_bigger(small, big)
    columns = (Column("quantity", "quantity"), Column("small", _short(small), "right"),
               Column("big", _short(big), "right"), Column("ratio", "how much bigger", "right"))
    rows = tuple({"quantity": key, "small": exact(a), "big": exact(b), "ratio": _times(r)}
                 for key, (a, b, r) in bigger.quantities.items())
    table = TableModel(f"{_short(big)} against {_short(small)}: the same kinds of layer, at a new scale",
                       columns, rows, (), ())
    changed = _changed_rows([small, big])
    params, macs = bigger.quantities["parameters"][2], bigger.quantities["MACs"][2]
    evidence = (
        f"Alike: both are convolutions, subsampling and fully connected layers trained end to end by "
        f"backpropagation; {_short(small)} already shares weights across positions, as every conv layer does.",
        f"Different in scale: {_times(params)} the parameters and {_times(macs)} the multiply-adds "
        f"({exact(bigger.quantities['MACs'][1])} against {exact(bigger.quantities['MACs'][0])}), on "
        f"{_times(bigger.quantities['input values'][2])} the input values; {bigger.quantities['weighted layers'][1]} "
        f"weighted layers against {bigger.quantities['weighted layers'][0]}.",
        *([f"Different in the layers: {'; '.join(changed)}."] if changed else []),
        TRAINING_FACTS,
        "Why the leap: a network this size is only trainable with much more data (and augmentation against "
        f"overfitting), fast hardware, ReLUs that keep gradients alive and dropout in the {compact(fc_params(big))}"
        "-parameter fc layers; the figures above say how much more of each was needed.",
    )
    return Answer(1, QUESTION_1.format(big=_short(big)), table, evidence)


def _second(networks: list[Analysis]) -> Answer:
    columns = (Column("network", "network"), Column("year", "year", "right"), Column("layers", "layers", "right"),
               Column("top5", "top-5 error (%)", "right"), Column("params", "params", "right"),
               Column("macs", "MACs", "right"), Column("fc_share", "params in fc (%)", "right"),
               Column("per_layer", "params / layer", "right"))
    rows = tuple({"network": _short(a), "year": str(a.spec.meta.get("year", "")), "layers": str(a.depth),
                  "top5": format_value(a.spec.meta.get("top5_error")), "params": compact(a.totals.params),
                  "macs": compact(a.totals.macs), "fc_share": format_value(fc_share(a)),
                  "per_layer": compact(round(a.totals.params / a.depth)) if a.depth else ""} for a in networks)
    table = TableModel(f"From {_short(networks[0])} to {_short(networks[-1])}: accuracy, size and where the "
                       "parameters sit", columns, rows, (), ())
    evidence = [_step(before, after) for before, after in zip(networks, networks[1:])]
    evidence.append(_premise(networks))
    shares = ", ".join(f"{_short(a)} {format_value(fc_share(a))}%" for a in networks)
    evidence.append(f"Parameters in the fully connected layers: {shares}. Global average pooling before one "
                    "small classifier removes the largest layers of all.")
    for network in networks:
        saving = pointwise_savings(network)
        if saving:
            example = saving.example
            shape = "x".join(map(str, example.input_shape))
            evidence.append(
                f"{_short(network)}, 1x1 reductions: {example.block} (input {shape}) holds "
                f"{exact(example.with_weights)} weights and {compact(example.with_macs)} MACs; without its 1x1 "
                f"reductions, {exact(example.without_weights)} and {compact(example.without_macs)} "
                f"({example.ratio:.1f}x). Over all {saving.blocks} such blocks: {compact(saving.with_weights)} "
                f"weights against {compact(saving.without_weights)} "
                f"({saving.without_weights / saving.with_weights:.1f}x).")
    evidence.append("Depth without the parameters: params per weighted layer falls from "
                    f"{compact(round(networks[0].totals.params / networks[0].depth))} ({_short(networks[0])}) to "
                    f"{compact(round(networks[-1].totals.params / networks[-1].depth))} ({_short(networks[-1])}): "
                    "stacks of 3x3 convolutions, 1x1 reductions and bottlenecks; batch norm and residual "
                    "connections are what make 150 layers trainable.")
    later = [_short(a) for a in networks[1:]]
    listed = later[0] if len(later) == 1 else ", ".join(later[:-1]) + " and " + later[-1]
    return Answer(2, QUESTION_2.format(later=listed), table, tuple(evidence))


def _step(before: Analysis, after: Analysis) -> str:
    """One network against the one before: parameters, MACs, error and what changed in its layers."""
    error = (f"top-5 error {format_value(before.spec.meta.get('top5_error'))}% -> "
             f"{format_value(after.spec.meta.get('top5_error'))}%; ")
    changed = _changed_rows([before, after])
    return (f"{_short(after)} against {_short(before)}: {error}"
            f"params {_times(after.totals.params / before.totals.params)}, "
            f"MACs {_times(after.totals.macs / before.totals.macs)}" + (f"; {'; '.join(changed)}" if changed else "") + ".")


def _premise(networks: list[Analysis]) -> str:
    """Whether parameters and time fell at every step, as the question assumes, and what did fall."""
    pairs = list(zip(networks, networks[1:]))
    rose = [f"from {_short(b)} to {_short(a)}" for b, a in pairs if a.totals.params > b.totals.params]
    slower = [f"from {_short(b)} to {_short(a)}" for b, a in pairs if a.totals.macs > b.totals.macs]
    parts = ([f"parameters rose {' and '.join(rose)}"] if rose else []) + (
        [f"MACs (prediction time) rose {' and '.join(slower)}"] if slower else [])
    measures = {"top-5 error": lambda a: a.spec.meta.get("top5_error"), "the share of parameters in fc layers": fc_share,
                "parameters per weighted layer": lambda a: a.totals.params / a.depth if a.depth else None}
    falling = [name for name, measure in measures.items() if _falls([measure(a) for a in networks])]
    fell = f" What fell at every step: {', '.join(falling)}." if falling else ""
    if not parts:
        return "As the question says, parameters and MACs fell at every step." + fell
    return "The question's premise holds only in part: " + "; ".join(parts) + "." + fell


def _falls(values: list) -> bool:
    return all(v is not None for v in values) and all(a > b for a, b in zip(values, values[1:]))


def _changed_rows(networks: list[Analysis]) -> list[str]:
    """The comparison rows about layers whose values differ: ``LRN + -> -``."""
    comparison = build_comparison(networks)
    keep = {trait.key for trait in all_traits()} | {"data_augmentation"}
    changed = [f"{row.title}: {' -> '.join(_said(v) for v in row.values)}"
               for row in comparison.rows if row.key in keep and len({format_value(v) for v in row.values}) > 1]
    activations = [", ".join(activations_of(network)) or "none" for network in networks]
    if len(set(activations)) > 1:
        changed.insert(0, f"activations: {' -> '.join(activations)}")
    return changed


def _said(value) -> str:
    """``yes``/``no`` for a trait, ``[11, 5, 3]`` for a list, ``not stated`` for nothing."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "[" + format_value(value) + "]"
    return format_value(value) or "not stated"


def activations_of(analysis: Analysis) -> list[str]:
    """The activation kinds a network uses, in order of first use."""
    return list(dict.fromkeys(layer.kind for layer in analysis.layers.values() if KINDS[layer.kind].activation))


def _short(analysis: Analysis) -> str:
    """``VGG16`` for "VGG16 (configuration D)", ``AlexNet`` for "AlexNet, simplified single tower"."""
    return short_title(analysis.spec.title)


def short_title(title: str) -> str:
    for separator in (" (", ","):
        title = title.split(separator)[0]
    return title.strip()
