"""The memory report: per row, the lecture's memory column in bytes beside what is live while the row
runs (and, for a training step, what it keeps for backward); then the peaks, what makes them, and the
largest batch that fits."""
from __future__ import annotations

from ..dims import to_json
from ..engine import Analysis
from ..liveness import Fit, Held, InferenceMemory, TrainingMemory, row_live_bytes
from .numbers import byte_size, byte_sizes
from .table import Column, TableModel, layer_text, shape_text

OPTIMIZER_NAMES = {"sgd": "SGD", "sgd-momentum": "SGD with momentum", "adam": "Adam", "adamw": "AdamW"}


def short_bytes(count: int) -> str:
    """``12.8 MB``: decimal units, for the table's cells."""
    return byte_sizes(count)[0]


def memory_model(analysis: Analysis, inference: InferenceMemory, training: TrainingMemory | None = None,
                 fit: Fit | None = None, measured: dict | None = None) -> TableModel:
    live = row_live_bytes(analysis, inference.moments)
    saved = dict(training.saved) if training else {}
    item = inference.naive_bytes // max(int(analysis.totals.memory), 1) if analysis.totals.memory else 0
    columns = (Column("name", "name"), Column("layer", "layer"), Column("output", "output"),
               Column("memory", "memory", "right", "the lecture's column: this row's output, in bytes"),
               Column("live", "live", "right", "the most bytes live while this row runs (inference)"))
    if training:
        columns += (Column("saved", "saved", "right", "bytes this row keeps for the backward pass"),)
    rows, records = [], []
    for row in analysis.rows:
        kept = sum(saved.get(name, 0) for name in (row.name,) + row.folded_names)
        output_bytes = int(row.memory) * item if row.memory else 0
        rows.append({"name": row.name, "layer": layer_text(row), "output": shape_text(row.shape),
                     "memory": short_bytes(output_bytes) if output_bytes else "0",
                     "live": short_bytes(live[row.name]) if row.name in live else "",
                     "saved": short_bytes(kept) if kept else ""})
        records.append({"name": row.name, "memory_bytes": output_bytes, "live_bytes": live.get(row.name),
                        **({"saved_bytes": kept} if training else {})})
    totals = inference_lines(inference) + (training_lines(training) + rule_lines(inference, training)
                                           if training else ()) + (
        fit_lines(fit, training is not None) if fit else ()) + (measured_lines(measured) if measured else ())
    title = (f"{analysis.spec.title}: memory as PyTorch holds it, input {shape_text(analysis.spec.input_shape)[1:-1]}, "
             f"{inference.dtype}, batch {inference.batch}")
    return TableModel(title, columns, tuple(rows), totals, assumptions(training), tuple(records),
                      memory_document(analysis, inference, training, fit, measured))


def memory_summary(analysis: Analysis, inference_batch: int = 1, training_batch: int = 32) -> tuple[str, ...]:
    """Two paragraphs for a handout: the inference peak beside the lecture's total, and a training
    step with SGD with momentum at ``training_batch``, with the upper-bound formula."""
    from ..dims import is_symbolic
    from ..liveness import inference_memory, training_memory

    if any(is_symbolic(d) for d in analysis.spec.input_shape):
        return ()
    inference = inference_memory(analysis, inference_batch)
    step = training_memory(analysis, training_batch, optimizer="sgd-momentum")
    ratio = inference.peak_bytes / inference.naive_bytes
    return (f"Inference (batch {inference_batch}, float32): the peak is {byte_size(inference.peak_bytes)} while "
            f"{inference.peak.name} runs, {ratio:.0%} of the memory column's total ({byte_size(inference.naive_bytes)}): "
            f"only the tensors still needed are alive at once.",
            f"A training step (batch {training_batch}, float32, SGD with momentum): the peak is "
            f"{byte_size(step.peak_bytes)} in the {step.peak_phase}; all at once, parameters "
            f"{short_bytes(step.param_bytes)} + gradients {short_bytes(step.grad_bytes)} + momentum "
            f"{short_bytes(step.optimizer_bytes)} + kept for backward {short_bytes(step.saved_bytes)} + input "
            f"{short_bytes(step.input_bytes)} would be {byte_size(step.bound_bytes)}.")


def inference_lines(memory: InferenceMemory) -> tuple[str, ...]:
    ratio = memory.peak_bytes / memory.naive_bytes if memory.naive_bytes else 0
    held = "; ".join(f"{h.what} {short_bytes(h.bytes)}" for h in memory.live_at_peak)
    return (f"INFERENCE peak: {byte_size(memory.peak_bytes)} while {memory.peak.name} runs: {ratio:.1%} of the "
            f"lecture's memory total, {byte_size(memory.naive_bytes)}, as only the tensors still needed are alive at once",
            f"  live then: {held}",
            f"TEXTBOOK minimum (as exercises ask: one layer's input and output alive at a time, plus the parameters): "
            f"activations {short_bytes(memory.textbook_activation_bytes)} at {memory.textbook_layer} + parameters "
            f"{short_bytes(memory.param_bytes)} = {byte_size(memory.textbook_bytes)}; the peak above is PyTorch's, "
            f"without the parameters, with the caller's input and whatever a later layer still needs")


def training_lines(memory: TrainingMemory) -> tuple[str, ...]:
    optimizer = OPTIMIZER_NAMES[memory.optimizer]
    precision = f"mixed precision ({memory.dtype} activations, float32 weights)" if memory.mixed else memory.dtype
    parts = "; ".join(f"{label} {short_bytes(count)}" for label, count in group_held(memory.live_at_peak))
    return (f"TRAINING STEP ({optimizer}, {precision}, steady state): peak {byte_size(memory.peak_bytes)} in the "
            f"{memory.peak_phase}" + (f" at {memory.peak.name}" if memory.peak.name not in
                                      ("loss", "optimizer step") else ""),
            f"  made of: {parts}",
            f"  upper-bound formula (all at once): parameters {short_bytes(memory.param_bytes)} + gradients "
            f"{short_bytes(memory.grad_bytes)} + optimizer state {short_bytes(memory.optimizer_bytes)}"
            + (f" + weights cast {short_bytes(memory.weight_copy_bytes)}" if memory.weight_copy_bytes else "")
            + f" + kept for backward {short_bytes(memory.saved_bytes)} + input {short_bytes(memory.input_bytes)}"
            f" = {byte_size(memory.bound_bytes)}; " + bound_relation(memory))


def rule_lines(inference: InferenceMemory, training: TrainingMemory) -> tuple[str, ...]:
    """The lecture's rule of thumb beside the model: the forward memory, twice (activations and
    their gradients), as CS231n's VGG slide says ("only forward! ~*2 for bwd")."""
    rule = inference.lecture_rule_bytes
    return (f"THE LECTURE'S RULE (forward memory x 2 for the backward pass, CS231n's VGG slide; the input has no "
            f"gradient, so it counts once): 2 x {short_bytes(inference.naive_bytes)} - "
            f"{short_bytes(inference.input_bytes)} = {byte_size(rule)}; the step's peak is "
            f"{training.peak_bytes / rule:.1f}x that: the rule counts the activations and their gradients, not the "
            "parameters, their gradients or the optimizer's state",)


def bound_relation(memory: TrainingMemory) -> str:
    """Why the peak is below the formula (or, for small activations, above it)."""
    if memory.peak_bytes <= memory.bound_bytes:
        return (f"the peak is {memory.peak_bytes / memory.bound_bytes:.0%} of it: backward frees what each layer "
                f"kept before the gradients of the layers below it exist")
    return ("the peak exceeds it by the activation gradients in flight, which the formula leaves out (they matter "
            "where activations are small beside them)")


def fit_lines(fit: Fit, training: bool) -> tuple[str, ...]:
    what = "a training step" if training else "inference"
    if fit.batch == 0:
        return (f"FIT: not even a batch of 1 fits {what} in {byte_size(fit.limit_bytes)}: it needs "
                f"{byte_size(fit.peak_at_next)} ({fit.peak_at_next:,} bytes)",)
    return (f"FIT: the largest batch for {what} in {byte_size(fit.limit_bytes)} is {fit.batch}: its peak is "
            f"{fit.peak_bytes:,} bytes; {fit.batch + 1} would need {fit.peak_at_next:,} (limit {fit.limit_bytes:,})",)


def measured_lines(measured: dict) -> tuple[str, ...]:
    lines = [f"MEASURED by running the lowered network on the CPU (PyTorch {measured['torch']}): inference peak "
             f"{measured['inference_peak_bytes']:,} bytes at {measured['inference_peak_layer']}"]
    if "training_peak_bytes" in measured:
        lines.append(f"  training step peak {measured['training_peak_bytes']:,} bytes in the "
                     f"{measured['training_peak_phase']}; kept for backward {measured['saved_bytes']:,} bytes")
    return tuple(lines)


def group_held(held: tuple[Held, ...]) -> list[tuple[str, int]]:
    """What is live at a training peak, in a few groups."""
    groups: dict[str, int] = {}
    for h in held:
        if h.what.endswith("parameter gradients"):
            label = "parameter gradients"
        elif "gradient" in h.what:
            label = "activation gradients"
        elif h.what in ("parameters", "input", "weights cast for autocast") or h.what.startswith("optimizer state"):
            label = h.what
        else:
            label = "activations (kept for backward, or in use)"
        groups[label] = groups.get(label, 0) + h.bytes
    return list(groups.items())


def assumptions(training: TrainingMemory | None) -> tuple[str, ...]:
    notes = ["activations after a fresh output run in place, as torchvision's ReLU(inplace=True); views and the "
             "identity make nothing; parameters and buffers are not counted at inference",
             "allocations inside an operator (im2col buffers, cuDNN workspaces) are not counted, nor the CUDA "
             "caching allocator's rounding"]
    if training:
        notes.append("a training step: optimizer.zero_grad(set_to_none=True) (PyTorch's default), so gradients do "
                     "not exist during the forward pass; cross entropy as the loss")
        notes.append("on the CPU dropout keeps a mask of the activations' type and Adam makes its denominators one "
                     "tensor at a time" if training.device == "cpu" else
                     "on CUDA dropout keeps a mask of bytes and Adam makes its denominators for all tensors at once")
    return tuple(notes)


def memory_document(analysis: Analysis, inference: InferenceMemory, training: TrainingMemory | None,
                    fit: Fit | None, measured: dict | None) -> dict:
    """The JSON contract of ``archcalc memory``."""
    document = {
        "model": analysis.spec.name, "input": [to_json(d) for d in analysis.spec.input_shape],
        "batch": inference.batch, "dtype": inference.dtype,
        "inference": {"peak_bytes": inference.peak_bytes, "peak_layer": inference.peak.name,
                      "naive_bytes": inference.naive_bytes, "input_bytes": inference.input_bytes,
                      "textbook_bytes": inference.textbook_bytes, "textbook_layer": inference.textbook_layer,
                      "textbook_activation_bytes": inference.textbook_activation_bytes,
                      "param_bytes": inference.param_bytes,
                      "live_at_peak": [{"what": h.what, "bytes": h.bytes} for h in inference.live_at_peak],
                      "layers": [{"name": m.name, "live_bytes": m.live_bytes} for m in inference.moments]},
    }
    if training:
        document["training"] = {
            "optimizer": training.optimizer, "mixed_precision": training.mixed, "device": training.device,
            "saved_bytes": training.saved_bytes, "param_bytes": training.param_bytes,
            "grad_bytes": training.grad_bytes, "optimizer_bytes": training.optimizer_bytes,
            "weight_copy_bytes": training.weight_copy_bytes, "input_bytes": training.input_bytes,
            "peak_bytes": training.peak_bytes, "peak_phase": training.peak_phase, "peak_layer": training.peak.name,
            "bound_bytes": training.bound_bytes, "lecture_rule_bytes": inference.lecture_rule_bytes,
            "live_at_peak": [{"what": label, "bytes": count} for label, count in group_held(training.live_at_peak)],
            "layers": [{"name": name, "saved_bytes": count} for name, count in training.saved]}
    if fit:
        document["fit"] = {"limit_bytes": fit.limit_bytes, "batch": fit.batch, "peak_bytes": fit.peak_bytes,
                           "next_peak_bytes": fit.peak_at_next, "for": "training" if training else "inference"}
    if measured:
        document["measured"] = measured
    return document


__all__ = ["memory_model", "memory_summary"]
