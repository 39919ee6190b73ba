"""Exception types and the Location record that says where in a spec a problem is.

The library raises these; only the CLI turns them into messages and exit codes.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where a problem sits, in the user's own terms: the file (and the line of the entry, where it
    is known), the layer as the user counts them (its position in the list it was written in), what
    it was expanded from (a repeat's copy, a block or a branch), its name, and the field.

    >>> str(Location("vgg16.toml", 3, "conv2_1", "kernel"))
    "vgg16.toml: layer 3 (conv2_1), field 'kernel'"
    >>> str(Location("net.toml", 2, "conv3", "kernel", line=7, within="copy 2 of 3"))
    "net.toml:7: layer 2, copy 2 of 3 (conv3), field 'kernel'"
    """

    file: str | None = None
    layer_index: int | None = None
    layer_name: str | None = None
    field: str | None = None
    line: int | None = None  # the line of the user's entry in the file
    within: str | None = None  # "copy 2 of 3", "of block 'bottleneck' in layer 5 (conv2_1)"

    def __str__(self) -> str:
        parts = []
        if self.file:
            parts.append(f"{self.file}:{self.line}" if self.line else self.file)
        where = []
        if self.layer_index is not None:
            within = f", {self.within}" if self.within and self.within.startswith("copy") else (
                f" {self.within}" if self.within else "")
            name = f" ({self.layer_name})" if self.layer_name else ""
            where.append(f"layer {self.layer_index}{within}{name}")
        elif self.layer_name:
            where.append(f"layer {self.layer_name}")
        if self.field:
            where.append(f"field '{self.field}'")
        if where:
            parts.append(", ".join(where))
        return ": ".join(parts)

    def with_field(self, field: str) -> Location:
        # the constructor, not dataclasses.replace: every field of every layer passes here
        return Location(self.file, self.layer_index, self.layer_name, field, self.line, self.within)


class ArchcalcError(Exception):
    """Base of every error archcalc reports to a user (exit code 2 in the CLI)."""

    def __init__(self, message: str, location: Location | None = None, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.location = location
        self.hint = hint

    def __str__(self) -> str:
        where = str(self.location) if self.location else ""
        text = f"{where}: {self.message}" if where else self.message
        return f"{text} ({self.hint})" if self.hint else text


class SpecError(ArchcalcError):
    """The spec text is malformed: TOML syntax, unknown kind or field, wrong type or value."""


class LimitError(SpecError):
    """A spec exceeds a limit on work (layers after expansion): reported at once, not among other errors."""


class ShapeError(ArchcalcError):
    """The spec is well formed but its shapes do not work out (kernel too large, non-integer size under --strict)."""


class InexactSize(ShapeError):
    """Under --strict, an output size that is not a whole number; ``inexact`` says which axis and why."""

    def __init__(self, message: str, location: Location | None = None, hint: str | None = None, inexact=None):
        super().__init__(message, location, hint)
        self.inexact = inexact


class LoweringError(ArchcalcError):
    """The spec cannot be built or run in PyTorch/ONNX (a missing extra, an unsupported case)."""


class SpecErrors(SpecError):
    """Several independent problems in one spec, reported together (one paragraph each)."""

    def __init__(self, errors: list[ArchcalcError]):
        super().__init__(f"{len(errors)} problems", errors[0].location)
        self.errors = errors

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)
