#!/bin/sh
# The classical reference curves on the 24 Kodak images (benchmarks/results/kodak/).
# Pass the Kodak folder as $1, or leave it out to download and verify the images.
# Rows already in the folder are reused; delete benchmarks/results/kodak/rows.jsonl to remeasure.
set -eu
cd "$(dirname "$0")/.."
if [ $# -ge 1 ]; then source_args="$1"; else source_args="--download kodak"; fi
# shellcheck disable=SC2086  # source_args is one path or two words on purpose
exec python -m inrcodec bench $source_args \
    --codec jpeg,jpeg-opt,webp,jpeg2000,avif,avif-psnr \
    --jobs "${JOBS:-1}" --threads 1 --title Kodak \
    -o benchmarks/results/kodak
