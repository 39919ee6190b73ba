"""The modules torch.nn lacks, one per construct the spec language has and PyTorch does not:
the network run as a graph; branches merged by concatenation, a sum or a product; option A's zero-padding
shortcut; channel slices and shuffles; LayerNorm over the channels of a map; layer scale;
stochastic depth; sparse connection tables; per-unit biases; locally connected layers; LeNet-5's
trainable subsampling and its RBF output. Imported only by the lowering (they need torch)."""
import operator
from functools import reduce

import torch
from torch import nn
from torch.nn import functional


class Group(nn.Module):
    """The modules of a block instance, a branch or a side output, by name; run, it runs its steps
    on the network's values (a dict of the graph's values by name), as Network assigned them."""

    RUN_SIDES, SIDE_OUTPUTS = "<run side outputs>", "<side outputs>"  # entries beside the graph's values
    merges = False

    def __init__(self, children: dict):
        super().__init__()
        for name, module in children.items():
            self.add_module(name, module)
        self._steps = []  # [module name, value, inputs, releases, training only, side output]

    def forward(self, values: dict) -> None:
        self.run_steps(values)

    def assign(self, parts: list, node: tuple) -> None:
        """Take a node's step, or enter the group on its path (once for each run of its nodes)."""
        value, inputs, releases, training_only, side = node
        name, last = parts[0], (self._steps[-1] if self._steps else None)
        if len(parts) > 1:
            if last is None or last[0] != name:
                self._steps.append([name, None, (), (), training_only, False])
            else:
                last[4] = last[4] and training_only
            self._modules[name].assign(parts[1:], node)
        elif last is not None and last[0] == name and last[1] is None:  # a merge whose branches ran: now it merges
            last[1:] = [value, inputs, releases, training_only, side]
        else:
            self._steps.append([name, value, inputs, releases, training_only, side])

    def run_steps(self, values: dict) -> None:
        for name, value, inputs, releases, training_only, side in self._steps:
            if training_only and not (self.training or values[self.RUN_SIDES]):
                continue
            module = self._modules[name]
            if value is None:
                module(values)
            elif getattr(module, "merges", False):
                values[value] = module(values, inputs)
            else:
                values[value] = module(*[values[source] for source in inputs])
            if side and self.training:
                values[self.SIDE_OUTPUTS].append(values[value])
            for source in releases:
                values.pop(source, None)


class Network(Group):
    """The network as archcalc's graph runs it: the modules in a tree named after the spec's layers,
    blocks and branches, and the wiring, one entry per layer or merge in the order they run:
    (value, module path, the values it reads, the values let go once it has run, whether it runs
    only in training, whether its value is a side output's result). Each group of modules runs its
    own part, so that a module's path is also where it runs (as PyTorch's tracer and ONNX name it).
    Values are let go where archcalc's memory model says, so that the two agree. A side output runs
    in training, or in eval when ``run_side_outputs`` is set (as the verifier does); in training its
    results are kept in ``side_outputs`` for the loss."""

    def __init__(self, modules: dict, wiring: list, output: str):
        super().__init__(modules)
        self._wiring = [tuple(step) for step in wiring]
        self._result = output
        self.run_side_outputs = False
        self.side_outputs = []
        for value, path, inputs, releases, training_only, side in self._wiring:
            self.assign(path.split("."), (value, tuple(inputs), tuple(releases), bool(training_only), bool(side)))

    def forward(self, x):
        values = {"input": x, self.RUN_SIDES: self.run_side_outputs, self.SIDE_OUTPUTS: self.side_outputs}
        self.run_steps(values)
        return values[self._result]

    def take_side_outputs(self) -> list:
        """The side outputs of the last training forward (for the loss), forgotten here."""
        taken, self.side_outputs = self.side_outputs, []
        return taken


class Branches(Group):
    """A merge: "cat" concatenates its inputs' channels, "sum" adds them, "mul" multiplies them (a
    gate of 1 x 1 x C broadcasts over the map). It holds the branches it merges and runs them first
    (none where the spec names the values it joins)."""

    COMBINE = ("cat", "sum", "mul")
    merges = True

    def __init__(self, combine: str, branches: dict):
        super().__init__(branches)
        if combine not in self.COMBINE:
            raise ValueError(f"unknown merge {combine!r}: one of {', '.join(self.COMBINE)}")
        self.combine = combine

    def forward(self, values: dict, inputs: tuple):
        self.run_steps(values)
        merged = [values[name] for name in inputs]
        if self.combine == "cat":
            return torch.cat(merged, dim=1)
        # Python's operators, as torchvision's models write them (ptflops counts torch.add, not +)
        return reduce(operator.mul if self.combine == "mul" else operator.add, merged)

    def extra_repr(self) -> str:
        return f"combine={self.combine!r}"


class ZeroPadShortcut(nn.Module):
    """Option A: subsample by the stride and append zero channels; no parameters."""

    def __init__(self, stride: int, extra_channels: int):
        super().__init__()
        self.stride, self.extra_channels = stride, extra_channels

    def forward(self, x):
        x = x[:, :, ::self.stride, ::self.stride]
        return nn.functional.pad(x, (0, 0, 0, 0, 0, self.extra_channels))


class Interpolate(nn.Module):
    """``F.interpolate`` called in a model's forward, as many models resize (not ``nn.Upsample``):
    the same output, but counting tools that hook modules see no module of theirs."""

    def __init__(self, scale_factor: tuple, mode: str, align_corners: bool | None = None):
        super().__init__()
        self.scale_factor, self.mode, self.align_corners = scale_factor, mode, align_corners

    def forward(self, x):
        return functional.interpolate(x, scale_factor=self.scale_factor, mode=self.mode,
                                      align_corners=self.align_corners)


class ChannelSlice(nn.Module):
    """Channels ``start`` to ``start + count`` (a view: ShuffleNet v2's channel split)."""

    def __init__(self, start: int, count: int):
        super().__init__()
        self.start, self.count = start, count

    def forward(self, x):
        return x[:, self.start:self.start + self.count]


class ChannelShuffle(nn.Module):
    """ShuffleNet's channel shuffle: (groups, C/groups) -> (C/groups, groups), as torchvision writes it."""

    def __init__(self, groups: int):
        super().__init__()
        self.groups = groups

    def forward(self, x):
        batch, channels = x.shape[:2]
        x = x.view(batch, self.groups, channels // self.groups, *x.shape[2:]).transpose(1, 2).contiguous()
        return x.view(batch, channels, *x.shape[3:])


class ChannelLayerNorm(nn.LayerNorm):
    """LayerNorm over the channels at each position (ConvNeXt's LayerNorm2d): channels moved last,
    normalised, moved back."""

    def forward(self, x):
        last = x.dim() - 1  # positive dimensions: ONNX export refuses a permutation with -1
        channels_last = functional.layer_norm(x.permute(0, *range(2, x.dim()), 1), self.normalized_shape, self.weight,
                                              self.bias, self.eps)
        return channels_last.permute(0, last, *range(1, last))


class LayerScale(nn.Module):
    """ConvNeXt's layer scale: a learned factor per channel, initialised small."""

    def __init__(self, channels: int, spatial_dims: int, init: float):
        super().__init__()
        self.weight = nn.Parameter(torch.full((channels,) + (1,) * spatial_dims, float(init)))

    def forward(self, x):
        return self.weight * x


class StochasticDepth(nn.Module):
    """Drops a whole residual branch per sample ("row") or per batch with probability ``p`` in
    training, scaling what survives by 1/(1-p); the identity at inference (Huang et al. 2016)."""

    def __init__(self, p: float, mode: str):
        super().__init__()
        self.p, self.mode = p, mode

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        shape = (x.shape[0],) + (1,) * (x.dim() - 1) if self.mode == "row" else (1,) * x.dim()
        noise = torch.empty(shape, dtype=x.dtype, device=x.device).bernoulli_(1 - self.p).div_(1 - self.p)
        return x * noise


class UnitBias(nn.Module):
    """One bias per output unit (every position of every map), as LeCun et al. 1989 have it."""

    def __init__(self, shape: tuple):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(shape))

    def forward(self, x):
        return x + self.bias


class ConnectionTable(nn.Module):
    """A convolution whose output maps each see only some input maps (LeNet-5's C3): one small
    convolution per output map over its own inputs, so that parameters and MACs follow the table."""

    def __init__(self, table: list, kernel_size, stride, padding, bias: bool):
        super().__init__()
        self.table = [list(inputs) for inputs in table]
        self.maps = nn.ModuleList(nn.Conv2d(len(inputs), 1, kernel_size, stride, padding, bias=bias)
                                  for inputs in self.table)

    def forward(self, x):
        return torch.cat([conv(x[:, inputs]) for conv, inputs in zip(self.maps, self.table)], dim=1)


class LocallyConnected2d(nn.Module):
    """A convolution without weight sharing: every output position has its own filters."""

    def __init__(self, in_channels: int, out_channels: int, output_size: tuple, kernel_size: tuple, stride: tuple,
                 padding: tuple, bias):
        super().__init__()
        self.kernel_size, self.stride, self.padding, self.output_size = kernel_size, stride, padding, output_size
        positions, patch = output_size[0] * output_size[1], in_channels * kernel_size[0] * kernel_size[1]
        self.weight = nn.Parameter(torch.randn(positions, patch, out_channels) / patch ** 0.5)
        bias_shape = (out_channels, *output_size) if bias == "unit" else (out_channels, 1, 1)
        self.bias = nn.Parameter(torch.zeros(bias_shape)) if bias else None

    def forward(self, x):
        patches = functional.unfold(x, self.kernel_size, padding=self.padding, stride=self.stride)  # N, patch, L
        out = torch.bmm(patches.permute(2, 0, 1), self.weight)  # L, N, out
        out = out.permute(1, 2, 0).contiguous().view(x.shape[0], -1, *self.output_size)
        return out if self.bias is None else out + self.bias


class Subsampling(nn.Module):
    """LeNet-5's S layers: the sum over each window, times a learned coefficient per map, plus a
    learned bias per map."""

    def __init__(self, channels: int, kernel_size: tuple, stride: tuple):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        window = self.kernel_size[0] * self.kernel_size[1]
        pooled = functional.avg_pool2d(x, self.kernel_size, self.stride) * window
        return pooled * self.weight[:, None, None] + self.bias[:, None, None]


class RBF(nn.Module):
    """Euclidean radial basis units (LeNet-5's output): y_i = sum_j (x_j - w_ij)^2, written as
    |x|^2 - 2 x.w_i + |w_i|^2 so that its multiply-accumulates are one matrix product."""

    def __init__(self, in_features: int, out_features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(out_features, in_features))

    def forward(self, x):
        return (x * x).sum(1, keepdim=True) - 2 * (x @ self.weight.t()) + (self.weight * self.weight).sum(1)


class OnnxLocalResponseNorm(nn.LocalResponseNorm):
    """nn.LocalResponseNorm that the ONNX exporter writes as ONNX's own LRN operator (PyTorch's exporter
    spells it out in 25 elementary operators otherwise). The two agree for an odd window, centred on
    the channel; for an even one PyTorch's window sits one channel earlier, and the plain export is kept."""

    class AsOnnxOperator(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, size, alpha, beta, k):
            return functional.local_response_norm(x, size, alpha, beta, k)

        @staticmethod
        def symbolic(g, x, size, alpha, beta, k):
            return g.op("onnx::LRN", x, size_i=size, alpha_f=alpha, beta_f=beta, bias_f=k)

    def forward(self, x):
        if torch.onnx.is_in_onnx_export() and self.size % 2:
            return self.AsOnnxOperator.apply(x, self.size, self.alpha, self.beta, self.k)
        return super().forward(x)
