#!/usr/bin/env bash
# The test suite under each CPU kernel path that can change float results on one machine.
#
#     bash benchmarks/kernel_paths.sh                    # the whole suite
#     bash benchmarks/kernel_paths.sh tests/test_golden.py tests/test_codec.py   # some files
#
# Each switch runs `python -m pytest -q -p no:cacheprovider [FILES]` in a fresh process with one
# environment variable set: MKL's conditional numerical reproducibility modes (MKL_CBWR), oneDNN's
# instruction-set cap (ONEDNN_MAX_CPU_ISA), and torch's own generic kernels
# (ATEN_CPU_CAPABILITY=default). It prints one line per switch: the exit status, pytest's summary,
# and how many decoded values of each golden file differ from its reference, by at most how much
# (`python -m tests.test_golden`; docs/reliability.md, "What is exact and what is within ±1").
# Failing tests follow their switch's line, indented. Exits non-zero if any run failed.
# Other settings (OMP_NUM_THREADS, the virtualenv) come from the caller's environment.

set -u
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python}
SWITCHES=("" "MKL_CBWR=COMPATIBLE" "MKL_CBWR=AVX2" "MKL_CBWR=AVX" "ONEDNN_MAX_CPU_ISA=AVX2"
          "ATEN_CPU_CAPABILITY=default")

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
for switch in "${SWITCHES[@]}"; do
    env $switch "$PYTHON" -m pytest -q -p no:cacheprovider "$@" >"$log" 2>&1
    rc=$?
    summary=$(grep -E '[0-9]+ (passed|failed|error|errors|skipped)|no tests ran' "$log" | tail -n 1 \
              | sed -E 's/=+//g; s/^ +| +$//g')
    golden=$(env $switch "$PYTHON" -m tests.test_golden 2>&1 \
             | sed -E 's/^golden_//; s/: symbols exact, /: /; s/ values differ, by at most / ±/' \
             | paste -sd ';' - | sed 's/;/; /g')
    printf '%-28s rc=%d  %s | golden: %s\n' "${switch:-(no switch)}" "$rc" "${summary:-no summary}" "$golden"
    grep -E '^(FAILED|ERROR) ' "$log" | sed 's/^/    /'
    [ "$rc" -eq 0 ] || status=1
done
exit $status
