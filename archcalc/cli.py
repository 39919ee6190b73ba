"""The command line: a thin click layer over the library. The only module that imports click."""
from __future__ import annotations

import functools
import sys

import click

from .errors import ArchcalcError

DTYPES = ("float32", "float16", "bfloat16", "float64", "int8", "uint8")
FORMATS = ("text", "markdown", "csv", "json")


def reports_errors(command):
    """Turn library errors into one clean paragraph on stderr and exit code 2 (``--debug`` re-raises)."""
    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except ArchcalcError as error:
            if click.get_current_context().find_root().params.get("debug"):
                raise
            click.echo(f"error: {error}", err=True)
            sys.exit(2)

    return wrapper


def format_option(command):
    """The shared ``--format`` and ``--output`` options."""
    command = click.option("--format", "-f", "fmt", type=click.Choice(FORMATS), default="text",
                           show_default=True, help="Output format.")(command)
    command = click.option("--output", "-o", type=click.Path(dir_okay=False),
                           help="Write to this file (atomically) instead of stdout.")(command)
    return click.option("--force", is_flag=True, help="Overwrite an existing --output file.")(command)


def emit(text: str, output: str | None, force: bool) -> None:
    if output:
        from .files import write_atomically

        write_atomically(output, text, force)
    else:
        click.echo(text, nl=False)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--debug", is_flag=True, help="Show tracebacks (for developers).")
@click.version_option(package_name="archcalc")
def main(debug: bool) -> None:
    """archcalc: output shapes, memory, parameters and MACs of CNN architectures.

    \b
    Example:
      archcalc table vgg16
    """


@main.command()
@click.argument("spec")
@click.option("--input", "input_shape", metavar="HxWxC", help="Input size, e.g. 256x256x3 or HxWx3 (symbols).")
@click.option("--batch", type=click.IntRange(1, 1_000_000), default=1, show_default=True,
              help="Images per batch (scales memory bytes and MACs in the totals).")
@click.option("--dtype", type=click.Choice(DTYPES), default="float32", show_default=True,
              help="Element type for the byte counts.")
@click.option("--no-bias", is_flag=True, help="Leave biases out, as the lecture slide does.")
@click.option("--strict", is_flag=True, help="A non-integer output size is an error, not a floor.")
@click.option("--working", is_flag=True, help="Show the products behind each cell (224*224*64 = 3.2M).")
@click.option("--exact", is_flag=True, help="Exact numbers instead of compact ones (3,211,264 not 3.2M).")
@format_option
@reports_errors
def table(spec, input_shape, batch, dtype, no_bias, strict, working, exact, fmt, output, force):
    """Print the per-layer table of SPEC (a shipped name or a .toml file; - reads stdin).

    \b
    Examples:
      archcalc table vgg16
      archcalc table alexnet_simplified --no-bias --format markdown
      archcalc table my_net.toml --input 256x256x3 --batch 32 --dtype float16
    """
    from .engine import analyze
    from .errors import Location
    from .report.render import render
    from .report.table import TableOptions, build_table
    from .spec import load_spec, parse_shape, with_input, without_bias

    model = load_spec(spec)
    if input_shape:
        model = with_input(model, parse_shape(input_shape, Location("--input")))
    if no_bias:
        model = without_bias(model)
    analysis = analyze(model, strict=strict)
    for warning in analysis.warnings:
        click.echo(f"warning: {warning}", err=True)
    options = TableOptions(dtype=dtype, batch=batch, working=working, exact=exact)
    emit(render(analysis, build_table(analysis, options), fmt), output, force)


@main.command(name="list")
@reports_errors
def list_specs():
    """List the shipped specs, one line each.

    \b
    Example:
      archcalc list
    """
    from .spec import load_spec, shipped_spec_names

    for name in shipped_spec_names():
        spec = load_spec(name)
        year = spec.meta.get("year", "")
        click.echo(f"{name:<22} {year!s:<5} {spec.title}")


@main.command()
def layers():
    """List the layer kinds and their fields.

    \b
    Example:
      archcalc layers
    """
    from .layers import KINDS

    for name in sorted(KINDS):
        kind = KINDS[name]
        click.echo(f"{name:<16} {kind.summary}")
        for spec_field in kind.fields:
            default = "required" if spec_field.required else f"default {spec_field.default!r}"
            click.echo(f"{'':<18}{spec_field.name}: {spec_field.help} ({default})")
