#!/usr/bin/env bash
# Regenerate reports/: the handout for the lecture's four networks (with a student version), and the
# lecture's comparison matrix. tests/test_reports.py fails when these files are stale.
set -euo pipefail
cd "$(dirname "$0")/.."
archcalc handout alexnet_simplified vgg16 googlenet resnet152 \
    --compare alexnet,vgg19,googlenet,resnet152 \
    --title "Lecture 9: CNN architectures" --name lecture9 --student -o reports --force
archcalc compare alexnet vgg19 googlenet resnet152 -f markdown -o reports/comparison.md --force
