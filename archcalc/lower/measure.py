"""Measure the memory that PyTorch holds while it runs the lowered network, to check archcalc's model.

A ``TorchDispatchMode`` sees every tensor an operator returns; each new storage (by ``data_ptr``)
counts from then until ``weakref.finalize`` reports it freed. Module hooks say which row of the
table is running, so that the most bytes live while each layer runs can be compared one by one.
Parameters and buffers are not counted at inference; in a training step the parameters, their
gradients and the optimizer's state are.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass

from ..engine import Analysis, analysis_of
from ..spec import ModelSpec
from .build import example_input, materialize, plan, require_torch


@dataclass(frozen=True)
class Measured:
    """What the tracker saw: the peak, where (layer and phase), and the most live per layer."""

    peak_bytes: int
    peak_at: str
    peak_phase: str
    live: dict[str, int]  # layer or merge name -> the most bytes live while it ran
    saved_bytes: int = 0  # training: distinct storages packed for backward (parameters excluded)


def _tracker_class():
    """The dispatch mode, made on first use (torch is imported only here)."""
    torch = require_torch()
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_flatten

    class StorageTracker(TorchDispatchMode):
        def __init__(self, excluded: set[int]):
            super().__init__()
            self.excluded = excluded
            self.live: dict[int, int] = {}
            self.current = self.peak = 0
            self.peak_at, self.phase, self.peak_phase = "", "", ""
            self.running: list[str] = []
            self.most: dict[str, int] = {}

        def register(self, tensor) -> None:
            storage = tensor.untyped_storage()
            pointer = storage.data_ptr()
            if pointer == 0 or pointer in self.excluded or pointer in self.live:
                return
            self.live[pointer] = storage.nbytes()
            self.current += storage.nbytes()
            weakref.finalize(storage, self.free, pointer)

        def free(self, pointer: int) -> None:
            self.current -= self.live.pop(pointer, 0)

        def note(self) -> None:
            where = self.running[-1] if self.running else self.phase
            if where:
                self.most[where] = max(self.most.get(where, 0), self.current)
            if self.current > self.peak:
                self.peak, self.peak_at, self.peak_phase = self.current, where, self.phase

        def enter(self, name: str) -> None:
            self.running.append(name)
            self.note()

        def leave(self) -> None:
            self.running.pop()

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            for item in tree_flatten(out)[0]:
                if isinstance(item, torch.Tensor):
                    self.register(item)
            self.note()
            return out

    return StorageTracker


def _hook_rows(network, lowering, tracker) -> list:
    """Name each row's module as it runs (layers, folded ones included, and merges)."""
    handles = []
    for name, path in lowering.paths.items():
        module = network.get_submodule(path)
        handles.append(module.register_forward_pre_hook(lambda m, args, name=name: tracker.enter(name)))
        handles.append(module.register_forward_hook(lambda m, args, out: tracker.leave()))
    return handles


def measure_inference(spec: ModelSpec, batch: int = 1, analysis: Analysis | None = None) -> Measured:
    """Run the lowered network without gradients and track every storage it makes."""
    torch = require_torch()
    analysis = analysis or analysis_of(spec)
    lowering = plan(spec, analysis)
    network = materialize(lowering).eval()
    x = example_input(spec, batch)
    excluded = {t.untyped_storage().data_ptr() for t in list(network.parameters()) + list(network.buffers())}
    tracker = _tracker_class()(excluded)
    tracker.register(x)
    handles = _hook_rows(network, lowering, tracker)
    tracker.phase = "forward"
    with torch.no_grad(), tracker:
        network(x)
    for handle in handles:
        handle.remove()
    return Measured(tracker.peak, tracker.peak_at, "forward", tracker.most)


def _loss(torch, output):
    """Cross entropy for class scores (as training does), else the mean square."""
    if output.dim() == 2:
        return torch.nn.functional.cross_entropy(output, torch.zeros(output.shape[0], dtype=torch.long))
    return output.pow(2).mean()


def measure_training_step(spec: ModelSpec, batch: int = 2, optimizer: str = "sgd-momentum",
                          analysis: Analysis | None = None) -> Measured:
    """Two training steps (forward, loss with the side outputs' losses, backward, optimizer step);
    the second, steady one is tracked, parameters and optimizer state included. Also counts what
    autograd packs for backward (distinct storages, parameters and buffers excluded)."""
    torch = require_torch()
    analysis = analysis or analysis_of(spec)
    lowering = plan(spec, analysis)
    network = materialize(lowering).train()
    trainable = [p for p in network.parameters() if p.requires_grad]
    make = {"sgd": lambda: torch.optim.SGD(trainable, lr=1e-3),
            "sgd-momentum": lambda: torch.optim.SGD(trainable, lr=1e-3, momentum=0.9),
            "adam": lambda: torch.optim.Adam(trainable, lr=1e-3),
            "adamw": lambda: torch.optim.AdamW(trainable, lr=1e-3)}
    step_with = make[optimizer]()
    x = example_input(spec, batch)

    def one_step(tracker=None):
        def phase(name):
            if tracker is not None:
                tracker.phase = name
        step_with.zero_grad(set_to_none=True)
        phase("forward")
        output = network(x)
        phase("loss")
        loss = _loss(torch, output)
        for side in network.take_side_outputs():
            loss = loss + _loss(torch, side)
        phase("backward")
        loss.backward()
        phase("optimizer step")
        step_with.step()

    one_step()
    buffers = {t.untyped_storage().data_ptr() for t in network.buffers()}
    tracker = _tracker_class()(buffers)
    for tensor in [x] + list(network.parameters()) + [t for state in step_with.state.values() for t in state.values()
                                                       if torch.is_tensor(t) and t.dim()]:
        tracker.register(tensor)
    handles = _hook_rows(network, lowering, tracker)
    with tracker:
        one_step(tracker)
    for handle in handles:
        handle.remove()
    return Measured(tracker.peak, tracker.peak_at, tracker.peak_phase, tracker.most, measure_saved(spec, batch, analysis))


def measure_saved(spec: ModelSpec, batch: int = 1, analysis: Analysis | None = None) -> int:
    """Bytes that autograd packs for the backward pass in one training forward (and the side
    outputs'), as distinct storages; parameters and buffers excluded."""
    torch = require_torch()
    network = materialize(plan(spec, analysis)).train()
    skip = {t.untyped_storage().data_ptr() for t in list(network.parameters()) + list(network.buffers())}
    packed: dict[int, int] = {}

    def pack(tensor):
        storage = tensor.untyped_storage()
        if storage.data_ptr() not in skip:
            packed[storage.data_ptr()] = storage.nbytes()
        return tensor.detach()  # the tensor itself would tie a saved output to its own graph: a leak

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        network(example_input(spec, batch))
    return sum(packed.values())
