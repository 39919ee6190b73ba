"""``python -m archcalc`` runs the command line."""
from .cli import main

main()
