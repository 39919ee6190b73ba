#!/usr/bin/env bash
# Regenerate reports/: the handout for the lecture's four networks (with a student version and its
# key, each also as PDF), the lecture's comparison matrix, and the whole family of shipped networks
# (a table, and top-5 error against MACs). tests/test_reports.py fails when these files are stale.
set -euo pipefail
cd "$(dirname "$0")/.."
archcalc handout alexnet_simplified vgg16 googlenet resnet152 \
    --compare alexnet,vgg19,googlenet,resnet152 \
    --title "Lecture 9: CNN architectures" --name lecture9 --student --pdf -o reports --force
archcalc compare alexnet vgg19 googlenet resnet152 -f markdown -o reports/comparison.md --force
# the whole family, before, around and after the lecture: one row per network
family=$(archcalc list | grep '^  ' | awk '{print $1}')
archcalc compare $family --keys year,input,layers,params,macs,memory,inference_peak,training_peak,top5_error --transpose -f markdown \
    -o reports/family.md --force
archcalc plot $(echo $family | tr " " "\n" | grep -v googlenet_aux) --accuracy -o reports/family_accuracy.png --force
