"""Homework marking that a lecturer can trust: what is asked is scored, what was given is not, and
feedback names the slip. Every expected value is worked by hand in the comments."""
import csv
import json

import pytest
from click.testing import CliRunner

import archcalc
from archcalc.cli import main
from archcalc.marking import check_answers, read_answers


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args])


def sheet_rows(path):
    return list(csv.DictReader(open(path)))


def write_sheet(path, rows):
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(dict.fromkeys(key for row in rows for key in row)))
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture
def lenet_sheets(tmp_path):
    assert run("worksheet", "lenet5", "-o", tmp_path).exit_code == 0
    return tmp_path / "lenet5_worksheet.csv", tmp_path / "lenet5_answers.csv"


# --- marking that means what it says


def test_a_blank_sheet_scores_zero(lenet_sheets):
    blank, _ = lenet_sheets
    result = run("check", "lenet5", blank)
    # LeNet-5 has 7 rows after the input (c1, s2, c3, s4, c5, f6, output); output, memory and params are
    # asked on each: 21 questions, none answered. The sheet's given cells (the input row, the MACs
    # column) are not answers.
    assert result.exit_code == 1
    assert "score 0/21 right (0.0%): 0 follow-through, 0 wrong, 21 unanswered" in result.output


def test_given_cells_are_not_scored_and_altered_ones_are_flagged(lenet_sheets, tmp_path):
    _, key = lenet_sheets
    rows = sheet_rows(key)
    rows[1]["macs"] = "999"  # c1's MACs were given (117,600)
    altered = write_sheet(tmp_path / "altered.csv", rows)
    result = run("check", "lenet5", altered)
    assert result.exit_code == 1
    assert "ALTERED given cell c1 macs: the worksheet gave 117600, the sheet says 999 (not marked)" in result.output
    assert "score 21/21 right" in result.output  # the 21 questions, every one right; the MACs are not among them


def test_rows_are_matched_by_name_and_sheet_problems_reported(lenet_sheets, tmp_path):
    _, key = lenet_sheets
    rows = sheet_rows(key)
    reordered = write_sheet(tmp_path / "reordered.csv", [rows[0]] + rows[:0:-1])
    assert "score 21/21 right" in run("check", "lenet5", reordered).output
    # c5 and f6 left off, a row that is no layer of LeNet-5 added: 6 questions unanswered, the extra not scored
    partial = write_sheet(tmp_path / "partial.csv", [r for r in rows if r["name"] not in ("c5", "f6")]
                          + [{**rows[1], "name": "conv9"}])
    text = run("check", "lenet5", partial).output
    assert "missing from the sheet (their cells unanswered): c5, f6" in text
    assert "not marked: rows that are no layer of lenet5: conv9" in text
    assert "score 15/21 right (71.4%): 0 follow-through, 0 wrong, 6 unanswered" in text


def test_a_sheet_for_another_network_is_reported_not_mis_scored(lenet_sheets):
    _, key = lenet_sheets
    result = run("check", "vgg16", key)
    assert result.exit_code == 1
    assert "this sheet does not look like vgg16's" in result.output
    assert "score 0/63 right" in result.output  # VGG16: 21 rows x 3 questions, none of them on this sheet


def test_gradebook_has_every_count_and_flags_altered_sheets(lenet_sheets, tmp_path):
    blank, key = lenet_sheets
    rows = sheet_rows(key)
    rows[1]["output"] = ""  # one question left
    rows[3]["params"] = "2400"  # c3 without its 16 biases (2,416)
    rows[2]["macs"] = "5"  # a given cell changed
    carol = write_sheet(tmp_path / "carol.csv", rows)
    grades = tmp_path / "grades.csv"
    result = run("check", "lenet5", blank, key, carol, "--gradebook", grades)
    assert result.exit_code == 1
    book = {row["student"]: row for row in csv.DictReader(grades.open())}
    counts = ("right", "follow_through", "wrong", "unanswered", "asked", "score", "altered")
    assert [book["lenet5_worksheet"][c] for c in counts] == ["0", "0", "0", "21", "21", "0.0", ""]
    assert [book["lenet5_answers"][c] for c in counts] == ["21", "0", "0", "0", "21", "100.0", ""]
    assert [book["carol"][c] for c in counts] == ["19", "0", "1", "1", "21", "90.5", "s2 macs"]


# --- follow-through


@pytest.fixture
def small_net(tmp_path):
    spec = tmp_path / "net.toml"
    spec.write_text('input = [32, 32, 3]\n'
                    'layers = ["conv1: conv 8 3x3 p1 relu", "conv2: conv 8 3x3", "pool: maxpool 2", "fc: fc 10"]\n')
    return spec


def mark(spec, tmp_path, rows, *options):
    sheet = tmp_path / "sheet.csv"
    write_sheet(sheet, rows)
    return run("check", spec, sheet, "--blank", "output,memory,params,macs", *options)


def test_follow_through_from_the_previous_layers_output(small_net, tmp_path):
    # conv1 keeps 32x32 with its padding; a student who drops it writes (32 - 3)/1 + 1 = 30, and then
    # conv2 on 30x30x8: (30 - 3)/1 + 1 = 28 -> 28x28x8 (the truth is 30x30x8); memory 28*28*8 = 6,272;
    # conv2's MACs 6,272 x 3*3*8 = 451,584; pool 14x14x8; fc reads 14*14*8 = 1,568: 15,690 params
    rows = [{"name": "conv1", "output": "30x30x8"}, {"name": "conv2", "output": "28x28x8", "memory": "6272",
                                                     "macs": "451584"},
            {"name": "pool", "output": "14x14x8"}, {"name": "fc", "params": "15690"}]
    text = mark(small_net, tmp_path, rows).output
    assert "WRONG conv1 output: you wrote 30x30x8, expected 32x32x8; that is the size without the padding (p1)" in text
    assert "FOLLOW-THROUGH conv2 output: you wrote 28x28x8, expected 30x30x8; follows from your conv1 30x30x8" in text
    for cell in ("conv2 memory", "conv2 macs", "pool output", "fc params"):
        assert f"FOLLOW-THROUGH {cell}:" in text
    assert "5 follow-through, 1 wrong" in text


def test_follow_through_from_the_students_own_output_and_channels(small_net, tmp_path):
    # conv1 written with 16 channels: its memory 32*32*16 = 16,384 follows from that output; conv2's
    # parameters on 16 input channels, 3*3*16*8 + 8 = 1,160, follow from it too (the truth: 584)
    rows = [{"name": "conv1", "output": "32x32x16", "memory": "16384"}, {"name": "conv2", "params": "1160"}]
    text = mark(small_net, tmp_path, rows).output
    assert "FOLLOW-THROUGH conv1 memory: you wrote 16384, expected 8,192; follows from your output 32x32x16" in text
    assert "FOLLOW-THROUGH conv2 params: you wrote 1160, expected 584; follows from your conv1 32x32x16" in text


def test_follow_through_across_branches():
    # GoogLeNet's inception 3a: branches of 64, 128, 32 and 32 channels concatenated, 256. A student who
    # gives the 3x3 branch the 96 channels of its 1x1 reduction gets 64 + 96 + 32 + 32 = 224 for the concat
    analysis = archcalc.analyze("googlenet")
    answers = [{"name": "inception3a/b2/3x3", "output": "28x28x96"}, {"name": "inception3a/concat", "output": "28x28x224"}]
    marks = {(m.row, m.column): m for m in check_answers(analysis, answers).marks}
    branch, concat = marks["inception3a/b2/3x3", "output"], marks["inception3a/concat", "output"]
    assert branch.state == "wrong" and "the channels of inception3a/b2/3x3_reduce" in branch.feedback
    assert concat.state == "follow-through" and "inception3a/b2/3x3 28x28x96" in concat.feedback


# --- symbolic worksheets


def test_a_symbolic_worksheet_is_marked_as_formulas(tmp_path):
    assert run("worksheet", "lenet5", "--input", "HxWx1", "-o", tmp_path).exit_code == 0
    key = tmp_path / "lenet5_answers.csv"
    assert run("check", "lenet5", "--input", "HxWx1", key).exit_code == 0  # the key passes
    # c1: (H - 5)/1 + 1 = H - 4; s2 halves it: floor((H - 4)/2), which a student may write without the
    # floor where H - 4 is even; memory 6*(H - 4)*(W - 4); a wrong formula is wrong
    sheet = tmp_path / "s.csv"
    sheet.write_text("name,output,memory\n"
                     "c1,(H-4)x(W-4)x6,6*(H - 4)*(W - 4)\n"
                     "s2,\"(H - 4)/2, (W - 4)/2, 6\",\n"
                     "c3,(H-4) x (W-4) x 16,\n")
    result = run("check", "lenet5", "--input", "HxWx1", sheet, "-f", "json")
    marks = {(m["row"], m["column"]): m for m in json.loads(result.output)["marks"]}
    assert marks["c1", "output"]["state"] == marks["c1", "memory"]["state"] == "right"
    assert marks["s2", "output"]["state"] == "right" and "where the division is exact" in marks["s2", "output"]["feedback"]
    assert marks["c3", "output"]["state"] == "wrong"


# --- feedback a tutor would give


SLIPS = [  # (layers on 32x32x3, the row, the column, the answer, the slip named)
    ("conv 16 5x5 p2", "conv1", "output", "28x28x16", "without the padding"),  # (32 - 5)/1 + 1 = 28
    ("conv 16 5x5 p2", "conv1", "output", "30x30x16", "pads one side only"),  # (32 - 5 + 2)/1 + 1 = 30
    ("conv 16 3x3 s2", "conv1", "output", "30x30x16", "ignores the stride"),
    ("conv 16 5x5", "conv1", "output", "32x32x16", "this layer has no padding"),  # (32 - 5 + 2*2)/1 + 1  # (32 - 3)/1 + 1 = 30, not 15
    ("conv 16 3x3", "conv1", "params", "432", "without biases"),  # 3*3*3*16 = 432, + 16 = 448
    ("conv 16 3x3 nobias", "conv1", "params", "448", "this layer has none"),
    ("conv 16 3x3", "conv1", "macs", "777600", "that is FLOPs"),  # 30*30*16 outputs x 27 terms = 388,800 MACs
    ("conv 16 3x3", "conv1", "memory", "57600", "that is bytes"),  # 30*30*16 = 14,400 values, 57,600 bytes
    ("conv 16 3x3", "conv1", "memory", "14.1K", "reads K as 1024"),  # 14,400 / 1024 = 14.06
    ("conv 16 3x3", "conv1", "output", "30x30x3", "the channels of input"),
]


@pytest.mark.parametrize("layers, row, column, answer, slip", SLIPS)
def test_the_slip_is_named(layers, row, column, answer, slip):
    analysis = archcalc.analyze(input="32x32x3", layers=layers)
    result = check_answers(analysis, [{"name": row, column: answer}], blank=(column,))
    cell = next(m for m in result.marks if m.row == row)
    assert cell.state == "wrong" and slip in cell.feedback, cell


def test_the_working_only_on_request(small_net, tmp_path):
    rows = [{"name": "conv1", "output": "30x30x8"}]
    assert "working:" not in mark(small_net, tmp_path, rows).output
    explained = mark(small_net, tmp_path, rows, "--explain").output
    assert "      working: (32 - 3 + 2*1)/1 + 1 = 32 -> 32x32x8" in explained


def test_json_for_a_course_platform(small_net, tmp_path):
    rows = [{"name": "conv1", "output": "32x32x8"}, {"name": "conv2", "output": "31x31x8"}]
    document = json.loads(mark(small_net, tmp_path, rows, "-f", "json").output)
    # 4 rows x 4 questions: 1 right, 1 wrong, 14 unanswered
    assert (document["right"], document["wrong"], document["unanswered"], document["asked"]) == (1, 1, 14, 16)
    assert {"row", "column", "given", "expected", "state", "feedback", "working"} <= set(document["marks"][0])


def test_a_class_in_json(lenet_sheets):
    blank, key = lenet_sheets
    result = run("check", "lenet5", blank, key, "-f", "json")
    assert result.exit_code == 1
    marked = {sheet["student"]: sheet for sheet in json.loads(result.output)}
    assert (marked["lenet5_worksheet"]["unanswered"], marked["lenet5_answers"]["right"]) == (21, 21)
