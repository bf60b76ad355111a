#!/usr/bin/env bash
# The API under polling (issue 18, item 6): wrk against /actuator/health and GET /jobs/{id} of a finished merge job,
# in full, without its result, and with If-None-Match, in one run on one service. Needs curl, jq and wrk, and a
# service started on its embedded default (it makes a tiny pretrain, two finetunes and a merge first, about a minute).
#   scripts/bench-polling.sh [URL] [SECONDS] [CONNECTIONS]
set -euo pipefail
url=${1:-http://localhost:8080}
seconds=${2:-15}
connections=${3:-32}
data=$(cd "$(dirname "$0")/../.." && pwd)/shared/datasets

upload() { # name file template
  curl -sf -F "file=@$2" -F "name=$1" -F "template=$3" "$url/datasets" | jq -r .id
}
submit() { # body
  curl -sf -H 'Content-Type: application/json' -d "$1" "$url/jobs" | jq -r .id
}
await() { # id
  while :; do
    status=$(curl -sf "$url/jobs/$1?with_result=false" | jq -r .status)
    case $status in succeeded) return ;; failed|cancelled) echo "job $1 $status" >&2; exit 1 ;; esac
    sleep 1
  done
}

wiki=$(upload bench-wiki "$data/wikitext2-valid.txt" '{text}')
math=$(upload bench-math "$data/gsm8k-train.jsonl" $'{question}\n{answer}')
base_job=$(submit '{"type": "pretrain", "spec": {"config": {"n_layer": 2, "n_embd": 32, "n_head": 2, "n_positions": 64},
  "dataset_id": "'"$wiki"'", "training": {"steps": 20, "batch_size": 2, "context": 32, "checkpoint_every": 20}}}')
await "$base_job"
base=$(curl -sf "$url/jobs/$base_job" | jq -r '.result.checkpoints[-1].checkpoint_id')
experts=()
for dataset in "$math" "$wiki"; do
  job=$(submit '{"type": "finetune", "spec": {"base_checkpoint_id": "'"$base"'", "dataset_id": "'"$dataset"'",
    "training": {"steps": 10, "batch_size": 2, "context": 32, "checkpoint_every": 10}}}')
  await "$job"
  experts+=("$(curl -sf "$url/jobs/$job" | jq -r '.result.checkpoints[-1].checkpoint_id')")
done
merge=$(submit '{"type": "merge", "spec": {"base_checkpoint_id": "'"$base"'",
  "expert_ids": ["'"${experts[0]}"'", "'"${experts[1]}"'"], "eval_dataset_ids": ["'"$math"'", "'"$wiki"'"],
  "evaluation": {"context": 32, "max_windows": 8},
  "methods": [{"method": "linear", "parameters": {"weight": 0.5}}, {"method": "slerp", "parameters": {"t": 0.5}},
              {"method": "task_arithmetic", "parameters": {"weight": 1}},
              {"method": "ties", "parameters": {"weight": 1, "density": 0.5}},
              {"method": "dare_ties", "parameters": {"weight": 1, "density": 0.5}}]}}')
await "$merge"
etag=$(curl -sfI "$url/jobs/$merge" | tr -d '\r' | awk -F': ' 'tolower($1) == "etag" {print $2}')

echo "merge job $merge: $(curl -sf "$url/jobs/$merge" | wc -c) bytes in full, $(curl -sf "$url/jobs/$merge?with_result=false" | wc -c) without its result"
echo "| request | req/s | p50 | p99 |"
echo "|---|---|---|---|"
run() { # label, then wrk's arguments
  label=$1; shift
  out=$(wrk -t2 -c"$connections" -d"${seconds}s" --latency "$@")
  rate=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  echo "| $label | $rate | $p50 | $p99 |"
}
run '`GET /actuator/health`' "$url/actuator/health"
run '`GET /jobs/{id}` (full)' "$url/jobs/$merge"
run '`GET /jobs/{id}?with_result=false`' "$url/jobs/$merge?with_result=false"
run '`GET /jobs/{id}` with `If-None-Match` (304)' -H "If-None-Match: $etag" "$url/jobs/$merge"
