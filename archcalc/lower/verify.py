"""Run the lowered network and check every row of the analysis against what PyTorch measures.

Per row: output shape (forward hooks), weights and biases (``numel``), MACs
(``torch.utils.flop_counter.FlopCounterMode``, whose FLOPs are 2 x MACs for conv and matmul).
Then ONNX: export, ``onnx.checker``, ``onnx.shape_inference`` shapes per layer, and an
onnxruntime run compared with PyTorch's output. On CUDA, measured latency and peak memory.
"""
from __future__ import annotations

import statistics
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..dims import normalize
from ..engine import Analysis, analysis_of
from ..errors import ArchcalcError
from ..layers import MERGES
from ..spec import ModelSpec
from .build import example_input, materialize, plan, require_torch


@dataclass(frozen=True)
class Check:
    engine: object
    measured: object

    @property
    def ok(self) -> bool:
        return self.engine == self.measured


@dataclass(frozen=True)
class LayerChecks:
    name: str
    checks: dict[str, Check]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks.values())


@dataclass
class VerifyReport:
    model: str
    device: str
    batch: int
    layers: list[LayerChecks]
    onnx: dict = field(default_factory=dict)
    cuda: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return all(layer.ok for layer in self.layers) and self.onnx.get("ok", True)

    def record(self) -> dict:
        return {"model": self.model, "device": self.device, "batch": self.batch, "ok": self.ok,
                "layers": [{"name": layer.name, "ok": layer.ok,
                            "checks": {key: {"engine": c.engine, "measured": c.measured, "ok": c.ok}
                                       for key, c in layer.checks.items()}} for layer in self.layers],
                "onnx": self.onnx, "cuda": self.cuda}


def verify(spec: ModelSpec, device: str = "cpu", batch: int = 2, with_onnx: bool = True,
           analysis: Analysis | None = None) -> VerifyReport:
    """Check every row of ``analysis`` (by default, the engine's) against the lowered network."""
    torch = require_torch()
    if with_onnx:
        from .export import check_onnx_size

        check_onnx_size(spec)  # before minutes of work, not after
    analysis = analysis or analysis_of(spec)
    lowering = plan(spec, analysis)
    _check_batch_fits(analysis, batch)
    network = materialize(lowering).eval().to(device)
    module_of = lowering.paths
    x = example_input(spec, batch, device)
    _run_side_outputs(network, True)  # training-only branches too: every row is checked
    outputs, failure = _capture_shapes(network, module_of, analysis, x)
    flops = _flops_per_row(network, module_of, analysis, x) if failure is None else {}
    _run_side_outputs(network, False)
    layers = [LayerChecks("input", {"shape": Check(list(analysis.rows[0].shape), _hwc(x.shape))})]
    counted: set[int] = set()  # parameters seen in an earlier row (a shared layer's are its owner's)
    for row in analysis.rows[1:]:
        shape = Check(list(row.shape), outputs.get(row.name, failure))
        if row.kind in MERGES:  # the merge module holds its branches: only its output is its own
            layers.append(LayerChecks(row.name, {"shape": shape}))
            continue
        own = _own_parameters(network.get_submodule(module_of[row.name]), counted)
        measured_macs = flops.get(row.name, 0) // (2 * batch)
        layers.append(LayerChecks(row.name, {
            "shape": shape,
            "weights": Check(row.weights, sum(p.numel() for name, p in own if not name.endswith("bias"))),
            "biases": Check(row.biases, sum(p.numel() for name, p in own if name.endswith("bias"))),
            "trainable": Check(normalize(row.params - row.frozen), sum(p.numel() for _, p in own if p.requires_grad)),
            "macs": Check(row.macs, measured_macs if failure is None else "not run"),
        }))
    report = VerifyReport(spec.name, device, batch, layers)
    if failure is not None:
        report.onnx = {"ok": False, "error": f"not exported: the network does not run ({failure})"}
        return report
    with torch.no_grad():
        result = network(x)  # inference: side outputs do not run
    if with_onnx or device != "cpu":
        network.cpu()
        with torch.no_grad():
            reference = network(x.cpu())  # onnxruntime runs on the CPU: compare like with like
        if with_onnx:
            report.onnx = check_onnx(network, x.cpu(), reference, analysis, module_of)
        network.to(device)
    if device.startswith("cuda"):
        report.cuda = measure_cuda(network, x, analysis, batch)
        report.cuda["max_relative_difference_from_cpu"] = _relative_difference(result.cpu(), reference)
    return report


MAX_VERIFY_BYTES = int(os.environ.get("ARCHCALC_MAX_VERIFY_BYTES", 8 << 30))


def _check_batch_fits(analysis: Analysis, batch: int) -> None:
    """Refuse a batch whose activations alone would not fit, before PyTorch tries to allocate them."""
    from ..errors import LimitError
    from ..liveness import inference_memory

    peak = inference_memory(analysis, batch).peak_bytes
    if peak > MAX_VERIFY_BYTES:
        raise LimitError(f"a batch of {batch:,} holds {peak / 2**30:,.1f} GiB of activations at its peak; verify runs "
                         f"at most {MAX_VERIFY_BYTES / 2**30:,.0f} GiB",
                         hint="a smaller `batch`, or raise the environment variable ARCHCALC_MAX_VERIFY_BYTES")


def _relative_difference(a, b) -> float:
    """max |a - b| / max |b|: how far a GPU result (TF32 convolutions by default) is from the CPU's."""
    scale = float(b.abs().max()) or 1.0
    return float((a - b).abs().max()) / scale


def _hwc(shape) -> list[int]:
    """PyTorch's N x C x H x W, N x C x L or N x F as archcalc's [H, W, C], [L, C] or [F]."""
    dims = list(shape)[1:]
    return dims[1:] + dims[:1] if len(dims) > 1 else dims


def _own_parameters(module, counted: set[int]) -> list:
    """The module's parameters not already counted for an earlier row (named, in order)."""
    own = [(name, p) for name, p in module.named_parameters() if id(p) not in counted]
    counted.update(id(p) for _, p in own)
    return own


def _run_side_outputs(network, run: bool) -> None:
    """Side outputs run only in training; the verifier runs them in eval mode too, to check their rows."""
    network.run_side_outputs = run


def _flops_per_row(network, module_of: dict, analysis: Analysis, x) -> dict[str, int]:
    """The FLOPs that PyTorch's own counter (torch.utils.flop_counter) sees while each layer row's
    module runs (merges hold no operations of their own that the counter knows)."""
    torch = require_torch()
    from torch.utils.flop_counter import FlopCounterMode

    found: dict[str, int] = {}
    handles = []
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        for row in analysis.rows[1:]:
            if row.kind in MERGES:
                continue
            module = network.get_submodule(module_of[row.name])

            def before(module, args, name=row.name):
                found[name] = -counter.get_total_flops()

            def after(module, args, output, name=row.name):
                found[name] += counter.get_total_flops()
            handles += [module.register_forward_pre_hook(before), module.register_forward_hook(after)]
        try:
            network(x)
        finally:
            for handle in handles:
                handle.remove()
    return found


def _capture_shapes(network, module_of: dict, analysis: Analysis, x) -> tuple[dict[str, list[int]], str | None]:
    """Output shapes per row from forward hooks; and, if the network fails part way, why."""
    torch = require_torch()
    shapes: dict[str, list[int]] = {}
    handles = []
    for row in analysis.rows[1:]:
        def hook(module, inputs, output, name=row.name):
            shapes[name] = _hwc(output.shape)
        handles.append(network.get_submodule(module_of[row.name]).register_forward_hook(hook))
    failure = None
    try:
        with torch.no_grad():
            network(x)
    except RuntimeError as error:  # the engine's sizes built modules that do not fit together
        failure = f"fails to run: {str(error).splitlines()[0]}"
    finally:
        for handle in handles:
            handle.remove()
    return shapes, failure


def check_onnx(network, x, expected, analysis: Analysis, module_of: dict) -> dict:
    """Export to ONNX, check the model, infer shapes per layer, and run it in onnxruntime."""
    import warnings

    torch = require_torch()
    try:
        import onnx
        import onnxruntime
    except ImportError:
        return {"ok": False, "error": "onnx and onnxruntime are needed: pip install 'archcalc[verify]'"}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(network, (x,), str(path), dynamo=False, input_names=["input"],
                              output_names=["output"])
        model = onnx.load(str(path))
        onnx.checker.check_model(model)
        shapes = _onnx_shapes(onnx.shape_inference.infer_shapes(model))
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        produced = session.run(None, {"input": x.numpy()})[0]
    import numpy

    differ, checked = [], 0
    for row in analysis.rows[1:]:
        prefix = "/" + module_of[row.name].replace(".", "/") + "/"
        rank = len(row.shape) + 1  # with the batch; skips a Pad node's 1-D pads and other constants
        found = [(name, shape) for name, shape in shapes.items() if name.startswith(prefix) and len(shape) == rank]
        own = [shape for name, shape in found if "/" not in name[len(prefix):]]  # not a node of a nested module
        if row.kind in MERGES:  # a merge's own node only (the exporter folds a concat nested in a concat)
            found = []
        measured = _hwc(own[-1]) if own else _hwc(found[-1][1]) if found else None
        if row is analysis.rows[-1] and not row.folded:  # the graph's output: what onnxruntime produced
            measured = _hwc(produced.shape)
        checked += measured is not None
        if measured is not None and measured != list(row.shape):
            differ.append({"name": row.name, "engine": list(row.shape), "onnx": measured})
    close = bool(numpy.allclose(produced, expected.numpy(), rtol=1e-3, atol=1e-5))
    scale = float(numpy.abs(expected.numpy()).max()) or 1.0
    return {"ok": not differ and close, "checker": "passed", "layers_checked": checked, "shape_differences": differ,
            "onnxruntime_matches_torch": close,
            "max_relative_difference": float(numpy.abs(produced - expected.numpy()).max()) / scale, "opset": model.opset_import[0].version,
            "nodes": len(model.graph.node)}


def _onnx_shapes(model) -> dict[str, list[int]]:
    shapes = {}
    for info in list(model.graph.value_info) + list(model.graph.output):
        dims = [d.dim_value for d in info.type.tensor_type.shape.dim]
        if dims and all(dims):
            shapes[info.name] = dims
    return shapes


def measure_cuda(network, x, analysis: Analysis, batch: int, runs: int = 30) -> dict:
    """Median forward latency, and torch.cuda.max_memory_allocated for inference and for a steady
    training step (SGD with momentum, the second step), beside archcalc's model of each (the
    parameters, resident on the GPU, added to the inference peak). The network is left in eval mode."""
    torch = require_torch()
    from ..liveness import inference_memory, training_memory

    params_bytes = sum(t.numel() * t.element_size() for t in network.parameters())
    with torch.no_grad():
        for _ in range(5):
            network(x)
        torch.cuda.synchronize()
        timings = []
        for _ in range(runs):
            start = time.perf_counter()
            network(x)
            torch.cuda.synchronize()
            timings.append((time.perf_counter() - start) * 1000)
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        network(x)
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated()
    training_peak = _cuda_training_peak(torch, network, x)
    return {
        "gpu": torch.cuda.get_device_name(),
        "latency_ms_median": round(statistics.median(timings), 3),
        "latency_ms_min": round(min(timings), 3),
        "peak_memory_bytes": peak,
        "archcalc_inference_peak_bytes": inference_memory(analysis, batch).peak_bytes + params_bytes,
        "training_peak_memory_bytes": training_peak,
        "archcalc_training_peak_bytes": training_memory(analysis, batch, optimizer="sgd-momentum",
                                                        device="cuda").peak_bytes,
        "naive_total_bytes": params_bytes + analysis.totals.memory * batch * 4,
    }


def _cuda_training_peak(torch, network, x) -> int:
    """The peak of a second training step (zero_grad, forward, cross entropy, backward, SGD with
    momentum), everything resident included."""
    network.train()
    optimizer = torch.optim.SGD([p for p in network.parameters() if p.requires_grad], lr=1e-3, momentum=0.9)

    def loss_of(output):
        if output.dim() == 2:
            return torch.nn.functional.cross_entropy(output, torch.zeros(output.shape[0], dtype=torch.long,
                                                                         device=output.device))
        return output.pow(2).mean()

    def step():
        optimizer.zero_grad(set_to_none=True)
        loss = loss_of(network(x))
        for side in network.take_side_outputs():
            loss = loss + loss_of(side)
        loss.backward()
        optimizer.step()

    step()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    step()
    torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated()
    optimizer.zero_grad(set_to_none=True)
    network.eval()
    return peak


def render_report(report: VerifyReport) -> str:
    """One line per layer: the checks and, where one differs, both values."""
    lines = [f"{report.model} on {report.device} (batch {report.batch}): "
             f"{'all checks agree' if report.ok else 'DIFFERENCES FOUND'}"]
    for layer in report.layers:
        parts = []
        for key, check in layer.checks.items():
            parts.append(f"{key} agree" if check.ok else f"{key} DIFFER: engine {check.engine}, torch {check.measured}")
        lines.append(f"  {'ok ' if layer.ok else 'BAD'} {layer.name:<14} " + "; ".join(parts))
    if report.onnx:
        onnx = report.onnx
        if "error" in onnx:
            lines.append(f"  onnx: {onnx['error']}")
        else:
            lines.append(f"  onnx: checker {onnx['checker']}, opset {onnx['opset']}, {onnx['nodes']} nodes, "
                         f"shapes of {onnx['layers_checked']} layers {'agree' if not onnx['shape_differences'] else onnx['shape_differences']}, "
                         f"onnxruntime {'matches' if onnx['onnxruntime_matches_torch'] else 'DIFFERS FROM'} torch")
    if report.cuda:
        cuda = report.cuda
        lines.append(f"  cuda ({cuda['gpu']}): latency median {cuda['latency_ms_median']} ms; inference peak "
                     f"{cuda['peak_memory_bytes']:,} bytes (archcalc memory, parameters included: "
                     f"{cuda['archcalc_inference_peak_bytes']:,}); training step peak "
                     f"{cuda['training_peak_memory_bytes']:,} (archcalc: {cuda['archcalc_training_peak_bytes']:,})")
    return "\n".join(lines) + "\n"


def render_reports(reports: list[VerifyReport], fmt: str = "text") -> str:
    """Several reports as text (one block each) or JSON (one record, or a list of them)."""
    if fmt == "json":
        import json

        records = [report.record() for report in reports]
        return json.dumps(records[0] if len(records) == 1 else records, indent=2) + "\n"
    text = "".join(render_report(report) for report in reports)
    differ = [report.model for report in reports if not report.ok]
    if len(reports) > 1:
        text += (f"{len(reports) - len(differ)} of {len(reports)} networks agree with PyTorch"
                 + (" and onnxruntime" if any(report.onnx for report in reports) else "")
                 + (f"; {len(differ)} differ: {', '.join(differ)}" if differ else "") + "\n")
    return text


def check_device(device: str) -> None:
    """A device PyTorch cannot use here is an error before any work: ``cuda:99`` on a one-GPU
    machine, ``cuda`` with a CPU build."""
    torch = require_torch()
    kind, _, index = device.partition(":")
    if kind == "cpu":
        return
    backend = {"cuda": torch.cuda, "xpu": getattr(torch, "xpu", None), "mps": getattr(torch.backends, "mps", None)}[kind]
    if backend is None or not backend.is_available():
        raise ArchcalcError(f"`device` {device}: PyTorch sees no {kind.upper()} device here "
                            f"(torch {torch.__version__})", hint="use `device` cpu")
    count = backend.device_count() if hasattr(backend, "device_count") else 1
    if index and int(index) >= count:
        raise ArchcalcError(f"`device` {device}: PyTorch sees {count} {kind.upper()} device(s) here, "
                            f"{kind}:0 to {kind}:{count - 1}")
