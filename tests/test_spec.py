"""Spec parsing: the compact syntax, and clear errors that say file, layer and field."""
import pytest

from archcalc import analyze, load_spec, parse_spec
from archcalc.errors import SpecError
from archcalc.expand import parse_compact
from archcalc.errors import Location


def error_of(text, file="net.toml"):
    with pytest.raises(SpecError) as caught:
        analyze(parse_spec(text, file))
    return str(caught.value)


def test_compact_and_long_forms_agree():
    compact = parse_spec('input = [227, 227, 3]\nlayers = ["conv1: conv 96 11x11 s4 p0 relu", "maxpool 3 s2"]')
    long = parse_spec('''
[input]
shape = [227, 227, 3]

[[layers]]
kind = "conv"
name = "conv1"
filters = 96
kernel = 11
stride = 4
pad = 0
activation = "relu"

[[layers]]
kind = "maxpool"
kernel = [3, 3]
stride = 2
''')
    assert compact.layers == long.layers


def test_repeat_names_copies_and_activation_follows_each():
    spec = parse_spec('input = [8, 8, 3]\nlayers = ["conv1: conv 4 3x3 p1 relu x2"]')
    assert [layer.name for layer in spec.layers] == ["conv1_1", "conv1_1_relu", "conv1_2", "conv1_2_relu"]


def test_compact_tokens():
    table = parse_compact("pool: maxpool 3x3 s2 p1 ceil", Location())
    assert table == {"name": "pool", "kind": "maxpool", "kernel": [3, 3], "stride": 2, "pad": 1, "ceil": True}
    assert parse_compact("dropout 0.4", Location()) == {"kind": "dropout", "p": 0.4}
    assert parse_compact("adaptiveavgpool 6x6", Location()) == {"kind": "adaptiveavgpool", "output": [6, 6]}


@pytest.mark.parametrize("text, fragments", [
    ('input = [8, 8, 3]\nlayers = ["conv 4 3x3", "maxpol 2"]',
     ["net.toml:2: layer 2", "field 'kind'", "unknown layer kind 'maxpol'", "did you mean 'maxpool'?"]),
    ('input = [8, 8, 3]\n[[layers]]\nkind = "conv"\nfilters = 4\nkernal = 3',
     ["layer 1", "field 'kernal'", "conv has no field 'kernal'", "did you mean 'kernel'?"]),
    ('input = [8, 8, 3]\n[[layers]]\nkind = "conv"\nkernel = 3',
     ["layer 1", "field 'filters'", "conv needs the field 'filters'"]),
    ('input = [8, 8, 3]\n[[layers]]\nkind = "conv"\nfilters = "many"\nkernel = 3',
     ["field 'filters'", "unknown name 'many'"]),
    ('input = [8, 8, 3]\n[[layers]]\nkind = "conv"\nfilters = 4\nkernel = 3\nstride = 0',
     ["field 'stride'", "expected a whole number >= 1, found 0"]),
    ('input = [8, 8, 3]\n[[layers]]\nkind = "conv"\nfilters = 4\nkernel = 3\nbias = "yes"',
     ["field 'bias'", "expected true, false or \"unit\""]),
    ('input = [8, 8, 3]\n[[layers]]\nkind = "conv"\nfilters = 4\nkernel = 99999999999',
     ["field 'kernel'", "larger than the limit"]),
    ('input = [8, 8, 3]\nlayers = ["conv 4 3x3 wobble"]', ["layer 1", "cannot read 'wobble'"]),
    ('input = [8, 8, 3]\nlayers = []', ["net.toml", "no layers"]),
    ('layers = ["conv 4 3x3"]', ["net.toml", "field 'input.shape'", "missing [input]"]),
    ('input = [8, 8, 3]\nlayers = ["a_1: conv 4 3x3", "a: conv 4 3x3 p1 x2"]', ["layer 2, copy 1 of 2 (a_1)", "already used by layer 1"]),
    ('input = [8, 8, 3]\nlayers = ["conv 4 3x3"]\nlayres = 1', ["unknown top-level key 'layres'"]),
    ('input = [8, 8, 3]\nlayers = [\n"conv 4 3x3" "relu"]\n', ["net.toml", "TOML syntax error", "line 3"]),
    ('input = [8, 8, 3]\nlayers = ["conv 4 3x3 x0"]', ["field 'repeat'", "repeat must be"]),
    ('input = [8, 8, 3]\nlayers = ["maxpool 3 relu"]', ["field 'activation'", "does not take"]),
    ('input = [8, 8, 3]\nlayers = ["conv 4 3x3 activation=conv"]', ["field 'activation'"]),
    ('input = [8, 8, 3]\nlayers = ["conv 4 3x3 pad=\\"__import__(\'os\')\\""]', ["field 'pad'"]),
    ('input = [0, 8, 3]\nlayers = ["conv 4 3x3"]', ["input size 0 is outside"]),
])
def test_bad_specs_name_file_layer_and_field(text, fragments):
    message = error_of(text)
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_unknown_spec_name_suggests_the_nearest():
    with pytest.raises(SpecError, match="did you mean 'vgg16'"):
        load_spec("vgg116")


def test_kind_aliases_and_case():
    spec = parse_spec('input = [8, 8, 3]\nlayers = ["CONV 4 3x3 p1", "pool 2", "dense 10", { kind = "Linear", units = 5 }]')
    assert [layer.kind for layer in spec.layers] == ["conv", "maxpool", "fc", "fc"]


def test_a_layer_or_a_block_use_can_mark_its_flooring_as_intended():
    """floors = true on a layer, on a block use (every layer inside), or [model] floors = [names]."""
    from archcalc.engine import analysis_of

    spec = parse_spec('''input = [224, 224, 3]
layers = ["a: conv 8 7x7 s2 p3 floors=true", "b: maxpool 3 s2 p1", "c: down 8 floors=true", "d: down 8"]
[blocks.down]
params = ["n"]
layers = ["conv n 1x1 stride=2"]
''')
    analysis = analysis_of(spec)
    # 224 -> 112.5 (a, marked), 112 -> 56.5 (b), 56 -> 28.5 (c's conv, its use marked), 28 -> 14.5 (d's)
    assert [w.split(":")[0] for w in analysis.warnings] == ["b", "d/conv1"]
    assert [n.split(":")[0] for n in analysis.notes] == ["a", "c/conv1"]
    marked = analysis_of(parse_spec('''input = [224, 224, 3]
layers = ["a: conv 8 7x7 s2 p3", "b: maxpool 3 s2 p1"]
[model]
floors = ["b"]
'''))
    assert [w.split(":")[0] for w in marked.warnings] == ["a"] and [n.split(":")[0] for n in marked.notes] == ["b"]


@pytest.mark.parametrize("text, message", [
    ('layers = ["a: conv 8 3x3 floors=1"]', "floors must be true or false, found 1"),
    ('layers = ["a: conv 8 3x3"]\n[model]\nfloors = ["aa"]', "floors names 'aa', which is no layer or block"),
    ('layers = ["a: conv 8 3x3"]\n[model]\nfloors = "a"', "floors must be a list of layer or block names"),
])
def test_bad_floors_name_the_field(text, message):
    with pytest.raises(SpecError, match=message):
        parse_spec('input = [8, 8, 3]\n' + text)
