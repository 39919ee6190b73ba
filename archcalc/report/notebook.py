"""How results show in a notebook: a one-line repr, and HTML that carries its own styles (Jupyter
right-aligns every cell of a bare table)."""
from __future__ import annotations

from .numbers import compact, exact
from .render import render_html
from .table import TableModel, shape_text

NOTEBOOK_STYLE = """<style>
.archcalc-nb table.archcalc { border-collapse: collapse; font-variant-numeric: tabular-nums; }
.archcalc-nb table.archcalc caption { text-align: left; font-weight: bold; padding-bottom: 0.3em; }
.archcalc-nb table.archcalc th, .archcalc-nb table.archcalc td { padding: 1px 8px; white-space: pre; }
.archcalc-nb table.archcalc th { border-bottom: 1px solid currentColor; }
.archcalc-nb table.archcalc td.left, .archcalc-nb table.archcalc th.left { text-align: left; }
.archcalc-nb table.archcalc td.right, .archcalc-nb table.archcalc th.right { text-align: right; }
.archcalc-nb ul.totals { list-style: none; padding-left: 0; font-weight: bold; }
</style>"""


def notebook_html(model: TableModel) -> str:
    """The table's HTML inside a block that styles it: text columns left, numbers right."""
    return f'<div class="archcalc-nb">{NOTEBOOK_STYLE}{render_html(model)}</div>'


def result_repr(result) -> str:
    """``Result(vgg16: input 224x224x3, 23 rows, params 138,357,544, MACs 15.5G, float32, batch 1)``."""
    totals = result.totals
    return (f"Result({result.spec.name}: input {shape_text(result.spec.input_shape)[1:-1]}, {len(result.rows)} rows, "
            f"params {exact(totals.params)}, MACs {compact(totals.macs)}, {result.dtype}, batch {result.batch})")
