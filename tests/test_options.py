"""One options object, checked in one place; one range per option in every command; library
messages name options as Python does, the CLI as flags."""
import click
import pytest
from click.testing import CliRunner

import archcalc
from archcalc.cli import main
from archcalc.errors import ArchcalcError
from archcalc.options import BATCH_RANGE, DEPTH_RANGE, DTYPES, Options


@pytest.mark.parametrize("settings, wrong", [({"batch": 0}, "batch"), ({"batch": 10**7}, "batch"),
                                             ({"depth": -1}, "depth"), ({"dtype": "float8"}, "dtype"),
                                             ({"convention": "paper"}, "convention"), ({"strict": "yes"}, "strict")])
def test_options_are_checked_in_one_place(settings, wrong):
    with pytest.raises(ArchcalcError, match=wrong):
        Options(**settings)
    with pytest.raises(ArchcalcError, match=wrong):
        archcalc.analyze("lenet5", **settings)


def test_every_command_gives_an_option_the_same_range():
    ranges: dict[str, set] = {}
    for command in main.commands.values():
        for parameter in command.params:
            if isinstance(parameter.type, click.IntRange) and parameter.name in ("batch", "depth"):
                ranges.setdefault(parameter.name, set()).add((parameter.type.min, parameter.type.max))
    assert ranges == {"batch": {BATCH_RANGE}, "depth": {DEPTH_RANGE}}


def test_the_dtypes_are_the_ones_bytes_are_known_for():
    from archcalc.dtypes import DTYPE_BYTES

    assert set(DTYPES) == set(DTYPE_BYTES)


def test_library_errors_name_parameters_and_the_cli_names_flags():
    with pytest.raises(ArchcalcError) as error:
        archcalc.load(layers="conv 4 3x3")
    assert "--" not in str(error.value) and "`input`" in str(error.value)
    result = CliRunner().invoke(main, ["table", "--layers", "conv 4 3x3"])
    assert result.exit_code == 2 and "--layers needs --input" in result.output and "`" not in result.output


def test_verify_refuses_a_batch_that_cannot_fit():
    pytest.importorskip("torch")
    result = CliRunner().invoke(main, ["verify", "vgg16", "--batch", "1000000", "--no-onnx"])
    assert result.exit_code == 2 and "GiB of activations" in result.output and "--batch" in result.output
