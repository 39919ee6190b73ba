"""The one table model every renderer formats: columns as data, rows of cell values, totals lines."""
from __future__ import annotations

from dataclasses import dataclass

from ..dims import Dim, format_dim, format_shape, normalize, product
from ..engine import Analysis, Row
from ..receptive import number_text
from ..working import times
from .numbers import DTYPE_BYTES, byte_sizes, compact, exact


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    align: str = "left"
    unit: str = ""  # stated in the header where a number has one


@dataclass(frozen=True)
class TableOptions:
    dtype: str = "float32"
    batch: int = 1
    working: bool = False  # show the slide's products (224*224*64 = 3.2M) in the cells
    exact: bool = False  # exact numbers everywhere instead of the slide's compact memory and MACs
    receptive_field: bool = False  # add the RF, jump and start columns
    convention: str = "archcalc"  # how the totals count params and ops (archcalc.counting)
    connections: bool = False  # add LeCun's connections column (MACs plus one per biased output)
    live: bool = False  # add the bytes live while each row runs at inference (archcalc.liveness)
    effective_padding: bool = True  # with receptive_field: Araujo et al.'s effective padding too
    pixel_index: bool = False  # RF start with pixel centres at integer indices (TF's library), not i + 0.5


@dataclass(frozen=True)
class TableModel:
    """What every renderer formats: display cells for the text formats, raw records for CSV, and
    the JSON document; the title and the lines that follow the table."""

    title: str
    columns: tuple[Column, ...]
    rows: tuple[dict[str, str], ...]  # display text per column key
    totals: tuple[str, ...]  # lines after the table
    footnotes: tuple[str, ...]
    records: tuple[dict, ...] = ()  # exact values per row (CSV, DataFrame)
    document: dict | None = None  # the JSON output


COLUMNS = (
    Column("name", "name"),
    Column("layer", "layer"),
    Column("output", "output"),
    Column("memory", "memory", "right", "values, K = 1000"),
    Column("params", "params", "right"),
    Column("macs", "MACs", "right", "K = 1000"),
)
RF_COLUMNS = (Column("rf", "RF", "right"), Column("jump", "jump", "right"), Column("start", "start", "right"))
PADDING_COLUMN = Column("eff_pad", "eff. pad", "right", "effective padding: input pixels the first field spans "
                                                          "before the first input pixel")
CONNECTIONS_COLUMN = Column("connections", "connections", "right")
LIVE_COLUMN = Column("live", "live", "right", "the most bytes live while this row runs at inference")


def shape_text(shape: tuple) -> str:
    """``[224x224x64]`` for a feature map, ``[4096]`` for a vector.

    >>> shape_text((224, 224, 64))
    '[224x224x64]'
    """
    return "[" + format_shape(shape) + "]"


def layer_text(row: Row) -> str:
    """The row's label with the layers folded into it (``CONV3-64 + relu``), indented by its nesting;
    ``x35`` after identical blocks shown as one row."""
    return "  " * row.level + " + ".join((row.label,) + row.folded) + (f" x{row.repeat}" if row.repeat > 1 else "")


def _each(row: Row, value: Dim, text) -> str:
    """A cell of a row of identical blocks: ``35 x 1,117,184``; else the value's text."""
    if row.repeat == 1:
        return text(value)
    each = value // row.repeat if isinstance(value, int) else normalize(value / row.repeat)
    return f"{row.repeat} x {text(each)}"


def build_table(analysis: Analysis, options: TableOptions = TableOptions()) -> TableModel:
    """Turn an analysis into the table model that every text format renders."""
    rows = tuple(_cells(row, options) for row in analysis.rows)
    spec = analysis.spec
    title = (f"{spec.title}: input {shape_text(spec.input_shape)[1:-1]}, {options.dtype}"
             + (f", batch {options.batch}" if options.batch != 1 else ""))
    columns = COLUMNS + ((LIVE_COLUMN,) if options.live else ()) + (
        (CONNECTIONS_COLUMN,) if options.connections else ()) + (RF_COLUMNS if options.receptive_field else ()) + (
        (PADDING_COLUMN,) if options.receptive_field and options.effective_padding else ())
    from .records import analysis_record

    document = analysis_record(analysis, options.pixel_index)
    if options.convention != "archcalc":
        document = {**document, "convention": convention_record(analysis, options.convention)}
    records = tuple(document["layers"])
    totals = totals_lines(analysis, options)
    if options.live:
        rows, records, document, totals = _with_live(analysis, options, rows, records, document, totals)
    captions = (analysis.caption,) if analysis.caption else ()
    return TableModel(title, columns, rows, totals,
                      captions + analysis.warnings + analysis.assumptions + analysis.notes, records, document)


def _with_live(analysis: Analysis, options: TableOptions, rows, records, document, totals):
    """The live column: bytes live while each row runs (archcalc.liveness), and the peak under the totals."""
    from ..liveness import inference_memory, row_live_bytes

    memory = inference_memory(analysis, options.batch, options.dtype)
    live = row_live_bytes(analysis, memory.moments)
    rows = tuple({**cells, "live": byte_sizes(live[row.name])[0] if row.name in live else ""}
                 for cells, row in zip(rows, analysis.rows))
    records = tuple({**record, "live_bytes": live.get(row.name)} for record, row in zip(records, analysis.rows))
    document = {**document, "layers": list(records),
                "inference_peak": {"bytes": memory.peak_bytes, "layer": memory.peak.name, "batch": options.batch,
                                   "dtype": options.dtype}}
    totals = totals + (f"INFERENCE peak: {byte_sizes(memory.peak_bytes)[0]} ({byte_sizes(memory.peak_bytes)[1]}) "
                       f"while {memory.peak.name} runs (live: bytes alive at once; archcalc memory tells more)",)
    return rows, records, document, totals


def to_frame(model: TableModel):
    """The model's exact records as a flat pandas DataFrame, one row per table row indexed by its
    position: H, W, C, rf, jump and start as columns of their own (pandas is imported only here)."""
    import pandas

    records = [flat_record(record) for record in model.records]
    frame = pandas.DataFrame.from_records(records, index="row")
    for column in ("H", "W", "C", "rf", "jump", "eff_pad"):  # whole numbers with gaps stay whole numbers
        if all(record[column] is None or isinstance(record[column], int) for record in records):
            frame[column] = pandas.array([record[column] for record in records], dtype="Int64")
    return frame


def flat_record(record: dict) -> dict:
    """A row's record with one value per column: the shape as H, W, C (None where the output has no
    such axis), the receptive field as rf, jump, start (``"7x9"`` where the axes differ).

    >>> flat_record({"index": 1, "name": "conv1", "shape": [55, 55, 96], "folded": ["relu"],
    ...              "receptive_field": [{"size": 11.0, "jump": 4.0, "start": 5.5}] * 2})
    {'row': 1, 'name': 'conv1', 'kind': None, 'layer': None, 'H': 55, 'W': 55, 'C': 96, 'folded': 'relu', 'rf': 11, 'jump': 4, 'start': 5.5, 'eff_pad': None}
    """
    shape = list(record.get("shape", []))
    height, width, channels = ([None] * (3 - len(shape)) + shape)[-3:] if len(shape) <= 3 else (None, None, None)
    flat = {"row": record["index"], "name": record["name"], "kind": record.get("kind"), "layer": record.get("layer"),
            "H": height, "W": width, "C": channels}
    flat.update({key: value for key, value in record.items()
                 if key not in ("index", "name", "kind", "layer", "shape", "folded", "receptive_field")})
    flat["folded"] = ", ".join(record.get("folded", []))
    fields = record.get("receptive_field") or []
    for column, key in (("rf", "size"), ("jump", "jump"), ("start", "start"), ("eff_pad", "effective_padding")):
        values = [_number(field[key]) for field in fields if key in field]
        flat[column] = None if not values else values[0] if len(set(values)) == 1 else "x".join(map(str, values))
    return flat


def _number(value: float):
    return int(value) if float(value).is_integer() else value


def _cells(row: Row, options: TableOptions) -> dict[str, str]:
    memory = _each(row, row.memory, exact if options.exact else lambda value: compact(value, digits=2))
    params = _each(row, row.params, exact)
    macs = _each(row, row.macs, exact if options.exact else compact)
    if row.step is not None and row.step.macs_unknown:
        macs = "?"  # an opaque operator: not known (the total says "at least")
    if options.working and row.kind != "block":  # a block's cells are sums over its layers: no one product
        if row.memory == 0 and row.shape:
            memory = "0 (a view)"
        elif len(row.shape) > 1:
            memory = f"{times(*row.shape).text} = {memory}"
        params = _params_working(row) or params
        if row.step and row.step.macs.text and row.macs:
            macs = f"{row.step.macs.text} = {macs}"
    output = shape_text(row.shape) + (f" -> {shape_text(row.reshaped)}" if row.reshaped else "")
    return {"name": row.name, "layer": layer_text(row), "output": output,
            "memory": memory, "params": params, "macs": macs, "connections": exact(row.connections),
            **(receptive_cells(row, options.pixel_index) if options.receptive_field else {})}


def receptive_cells(row: Row, pixel_index: bool = False) -> dict[str, str]:
    """``7`` where both axes agree, ``7x9`` where they differ; blank where sizes are symbolic.
    ``pixel_index``: the start with pixel centres at integer indices (0.5 less)."""
    if not row.rf:
        return {"rf": "", "jump": "", "start": "", "eff_pad": ""}

    def cell(attribute: str) -> str:
        values = [number_text(getattr(field, attribute)) for field in row.rf]
        return values[0] if len(set(values)) == 1 else "x".join(values)

    return {"rf": cell("size"), "jump": cell("jump"), "start": cell("start_index" if pixel_index else "start"),
            "eff_pad": cell("effective_padding")}


def _params_working(row: Row) -> str:
    """``(3*3*3)*64 + 64 = 1,792``, as on the slide (which leaves the biases out)."""
    if not row.step or not row.params or not (row.step.weights.text or row.biases):
        return ""
    bias = f" + {row.step.biases.shown}" if row.biases else ""
    return f"{row.step.weights.shown}{bias} = {exact(row.params)}"


def totals_lines(analysis: Analysis, options: TableOptions) -> tuple[str, ...]:
    """The slide's closing lines: memory in values and bytes, parameters, MACs."""
    totals = analysis.totals
    size = DTYPE_BYTES[options.dtype]
    per = "/ image" if options.batch == 1 else f"for a batch of {options.batch}"
    memory_bytes = normalize(totals.memory * size * options.batch)
    # the slide's training rule: every activation and its gradient; the input has no gradient
    input_bytes = normalize(product(analysis.spec.input_shape) * size * options.batch)
    params_bytes = normalize(totals.params * size)
    macs = normalize(totals.macs * options.batch)
    memory_text, memory_binary = byte_sizes(memory_bytes)
    params_text, params_binary = byte_sizes(params_bytes)
    compact_or_exact = exact if options.exact else compact  # --exact: every digit in the totals too
    trainable = f"; {exact(totals.trainable_params)} trainable" if totals.frozen else ""
    training = (f"; side outputs add {compact(normalize(totals.training_only_macs * options.batch))} in training"
                if totals.training_only_macs else "")
    return (
        f"TOTAL memory: {compact_or_exact(totals.memory)} values x {size} bytes"
        + (f" x {options.batch}" if options.batch != 1 else "")
        + f" = {memory_text} {per} (forward only; {memory_binary}; x2 with the backward pass, the slide's rule, "
        f"the input once: {byte_sizes(normalize(2 * memory_bytes - input_bytes))[0]})",
        f"TOTAL params: {compact_or_exact(totals.params)} ({exact(totals.params)} = {exact(totals.weights)} weights"
        f" + {exact(totals.biases)} biases{trainable}) = {params_text} as {options.dtype} ({params_binary})",
        f"TOTAL MACs: {'at least ' if analysis.macs_unknown else ''}{compact_or_exact(macs)} {per} "
        f"({compact_or_exact(normalize(2 * macs))} FLOPs at 2 per "
        f"multiply-add{training})",
    ) + ((f"TOTAL connections: {exact(totals.connections)} (MACs plus one per biased output unit)",)
         if options.connections else ()) + _convention_line(analysis, options)


def convention_record(analysis: Analysis, convention: str) -> dict:
    """The totals as ``convention`` counts them, for the JSON document."""
    from ..counting import apply
    from ..dims import to_json

    result = apply(analysis, convention)
    return {"name": convention, "params": to_json(result.params), "ops": to_json(result.ops),
            "ops_name": result.profile.ops_name, "kilo": result.profile.kilo, "reason": result.profile.reason}


def _convention_line(analysis: Analysis, options: TableOptions) -> tuple[str, ...]:
    if options.convention == "archcalc":
        return ()
    from ..counting import apply

    result = apply(analysis, options.convention)
    kilo = result.profile.kilo
    return (f"AS {options.convention.upper()} COUNTS: params {compact(result.params, kilo=kilo)} "
            f"({exact(result.params)}), {result.profile.ops_name} {compact(result.ops, kilo=kilo)} "
            f"({exact(result.ops)}): {result.profile.reason}",)
