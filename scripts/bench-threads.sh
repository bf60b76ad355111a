#!/usr/bin/env bash
# Training tokens/s at 4 x 128 by libtorch intra-op threads (1, 2) and by other busy processes beside it (0, 1, 2),
# one JVM per setting, each setting twice in alternating order (BENCHMARKS.md, "Worker threads").
set -euo pipefail
cd "$(dirname "$0")/.."
mvn -q -Pbench test-compile
echo "| intra-op threads | busy processes beside | median tokens/s | steps (sorted) |"
echo "|---|---|---|---|"
for round in 1 2; do
  for busy in 0 1 2; do
    for threads in 1 2; do
      mvn -q -Pbench exec:exec -Dbench.main=dev.consort.engine.TrainingThreadsBenchmark -Dbench.args="$busy" \
          -Dbench.jvm="-Xmx4g -Dai.djl.pytorch.num_threads=$threads -Dai.djl.pytorch.num_interop_threads=1" 2>/dev/null \
        | grep '^|'
    done
  done
done
