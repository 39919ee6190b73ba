"""The few modules torch.nn lacks: branches merged by concatenation or a sum, a side output, and the
parameter-free zero-padding shortcut (option A of He et al.). Imported only by the lowering."""
import torch
from torch import nn


class Branches(nn.Module):
    """Runs every branch on the same input and combines their outputs: "cat" concatenates the
    channels, "sum" adds them."""

    def __init__(self, combine: str, branches: dict):
        super().__init__()
        self.combine = combine
        for name, branch in branches.items():
            self.add_module(name, branch)

    def forward(self, x):
        outputs = [branch(x) for branch in self.children()]
        if self.combine == "cat":
            return torch.cat(outputs, dim=1)
        return torch.stack(outputs).sum(dim=0)

    def extra_repr(self) -> str:
        return f"combine={self.combine!r}"


class SideOutput(nn.Sequential):
    """An extra output (an auxiliary classifier): computed, then the input passes on unchanged."""

    def forward(self, x):
        super().forward(x)
        return x


class ZeroPadShortcut(nn.Module):
    """Option A: subsample by the stride and append zero channels; no parameters."""

    def __init__(self, stride: int, extra_channels: int):
        super().__init__()
        self.stride, self.extra_channels = stride, extra_channels

    def forward(self, x):
        x = x[:, :, ::self.stride, ::self.stride]
        return nn.functional.pad(x, (0, 0, 0, 0, 0, self.extra_channels))
