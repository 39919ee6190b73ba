"""The Python API: the same numbers as the command line, as a DataFrame and in notebook reprs."""
import archcalc


def test_analyze_by_name_with_an_input_size():
    result = archcalc.analyze("vgg16", input="32x32x3")
    assert result.rows[-1].shape == (1000,)
    assert result.rows[1].shape == (32, 32, 64)
    # the fc6 input is 1x1x512 at 32x32 (five 2x2 pools): 512*4096 weights
    assert {row.name: row for row in result.rows}["fc6"].weights == 512 * 4096


def test_to_frame_has_the_exact_values():
    frame = archcalc.analyze("vgg16").to_frame()
    assert list(frame["name"][:2]) == ["input", "conv1_1"]
    assert frame["params"].sum() == 138_357_544
    assert frame.loc[1, "macs"] == 224 * 224 * 64 * 27


def test_notebook_reprs():
    result = archcalc.analyze("lenet5")
    assert "<table" in result._repr_html_() and "61,706" in result._repr_html_()
    assert result._repr_markdown_().startswith("**LeNet-5")


def test_compare_by_name():
    matrix = archcalc.compare(["alexnet", "resnet152"])
    frame = matrix.to_frame()
    assert frame.loc["layers", "alexnet"] == 8 and frame.loc["layers", "resnet152"] == 152
    assert "<table" in matrix._repr_html_()


# --- a thin CLI over a complete library: every option of every command reaches the library


def parity_table():
    """Each command, and the library calls that between them take all of its options."""
    return {
        "table": [archcalc.analyze, archcalc.Result.table, archcalc.Result.render],
        "list": [archcalc.shipped], "layers": [archcalc.kinds],
        "verify": [archcalc.verify, archcalc.Verified.render],
        "export": [archcalc.export],
        "compare": [archcalc.compare, archcalc.ComparisonResult.render],
        "explain": [archcalc.explain, archcalc.Explained.render],
        "sizes": [archcalc.sizes], "solve": [archcalc.solve, archcalc.Solutions.render],
        "worksheet": [archcalc.worksheet, archcalc.Worksheet.write],
        "check": [archcalc.check, archcalc.Marked.render, archcalc.gradebook],
        "conventions": [archcalc.conventions, archcalc.ConventionsResult.render],
        "plot": [archcalc.plot], "handout": [archcalc.handout], "import": [archcalc.import_model],
        "memory": [archcalc.memory, archcalc.MemoryResult.render],
    }


# --output and --force of the commands that print are the library's write_output(path, text, force)
WRITING = {"output": "path", "force": "force"}


def test_every_command_option_is_a_library_parameter():
    import inspect

    from archcalc.cli import main

    table = parity_table()
    assert set(table) == set(main.commands), "a command without a library function (or one too many)"
    missing = []
    for name, command in main.commands.items():
        accepted = {p for call in table[name] for p in inspect.signature(call).parameters}
        writer = set(inspect.signature(archcalc.write_output).parameters)
        for param in command.params:
            reachable = param.name in accepted or (param.name in WRITING and WRITING[param.name] in writer)
            if not reachable:
                missing.append(f"{name} {param.opts[0]} ({param.name})")
    assert not missing, missing


def test_the_library_does_what_the_command_line_does():
    """The same call through both doors gives the same text."""
    from click.testing import CliRunner

    from archcalc.cli import main

    cli = CliRunner().invoke(main, ["table", "alexnet", "--no-bias", "--batch", "8", "--dtype", "float16",
                                    "--convention", "slide", "--working", "-f", "markdown"]).stdout
    library = archcalc.analyze("alexnet", no_bias=True, batch=8, dtype="float16", convention="slide")
    assert cli == library.render("markdown", working=True)
    assert CliRunner().invoke(main, ["solve", "--size", "7", "--target", "14", "--kernel", "4",
                                     "--transposed"]).stdout == archcalc.solve(7, 14, kernel=4, transposed=True).render()


def test_the_cli_offers_every_convention():
    """The CLI lists the conventions itself (to start fast); the list must be the library's."""
    from archcalc.cli import CONVENTIONS
    from archcalc.counting import PROFILES

    assert CONVENTIONS == tuple(PROFILES)


def test_the_cli_offers_every_optimizer():
    from archcalc.cli import OPTIMIZERS
    from archcalc.liveness import OPTIMIZER_STATE

    assert OPTIMIZERS == tuple(OPTIMIZER_STATE)
