"""``python -m archcalc``: the command line."""
from .cli import main

main(prog_name="archcalc")
