"""Write docs/examples/densenet121_torchvision.toml: DenseNet-121 as torchvision runs it, each dense
layer reading one concatenation of every map before it in its block (a DAG), rather than
specs/densenet121.toml's chain of concatenations. Its memory is what PyTorch holds running
torchvision's model (tests/test_dag.py measures it).

    python scripts/densenet_as_torchvision.py
"""
from pathlib import Path

BLOCKS = (6, 12, 24, 16)
GROWTH, BOTTLENECK, STEM = 32, 4, 64


def dense_block(number: int, layers: int) -> list[str]:
    lines, pieces = [], [f"block{number}_input"]
    for index in range(1, layers + 1):
        name = f"denseblock{number}.layer{index}"
        if len(pieces) > 1:  # torchvision's bn_function holds its concatenation until conv1 has run: a block
            lines.append(f'"{name}.cat: concat {" ".join(pieces)}",')
            lines.append(f'"{name}.bn_function: bn_function",')
        else:
            lines.append(f'"{name}.norm1: batchnorm relu inputs={pieces[0]}",')
            lines.append(f'"{name}.conv1: conv {BOTTLENECK * GROWTH} 1x1 nobias",')
        lines.append(f'"{name}.norm2: batchnorm relu",')
        lines.append(f'"{name}.conv2: conv {GROWTH} 3x3 p1 nobias",')
        pieces.append(f"{name}.conv2")
    lines.append(f'"denseblock{number}: concat {" ".join(pieces)}",')
    return lines


def spec_text() -> str:
    lines = ['"conv0: conv 64 7x7 s2 p3 nobias bn relu",', '"block1_input: maxpool 3 s2 p1",']
    channels = STEM
    for number, layers in enumerate(BLOCKS, start=1):
        lines += dense_block(number, layers)
        channels += layers * GROWTH
        if number < len(BLOCKS):
            channels //= 2
            lines += [f'"transition{number}.norm: batchnorm relu",', f'"transition{number}.conv: conv {channels} 1x1 nobias",',
                      f'"block{number + 1}_input: avgpool 2 s2",']
    lines += ['"norm5: batchnorm relu",', '"adaptiveavgpool 1",', '"classifier: fc 1000",']
    header = __doc__.split("\n\n")[0].replace("Write docs/examples/densenet121_torchvision.toml: ", "")
    return ("".join(f"# {line.strip()}\n" for line in header.splitlines())
            + "# Written by scripts/densenet_as_torchvision.py.\n\ninput = [224, 224, 3]\nlayers = [\n"
            + "\n".join(f"  {line}" for line in lines)
            + "\n]\n\n[blocks.bn_function]\nlayers = [\"norm1: batchnorm relu\", "
            + f"\"conv1: conv {BOTTLENECK * GROWTH} 1x1 nobias\"]\n\n[model]\nname = \"densenet121_torchvision\"\ntitle = \"DenseNet-121 as torchvision runs it\"\n")


if __name__ == "__main__":
    target = Path(__file__).parent.parent / "docs" / "examples" / "densenet121_torchvision.toml"
    target.write_text(spec_text())
    print(f"wrote {target}")
