#!/usr/bin/env bash
# Reproduce "Collective Model Intelligence Requires Compatible Specialization" (Pari, Jelassi, Agrawal,
# arXiv 2411.02207) through Consort's public HTTP API only: upload the data, pretrain a small GPT-2 on
# WikiText, fine-tune (MLP only) a math and a code specialist with checkpoints along the way, then on
# gsm-hard: the sweep (Figure 3), one merge job comparing the methods plus the direct fine-tuning
# baseline (Figure 4, Table 1), multi_layer_routing with span 1, 2, 3 (Figure 5) and CKA heatmaps of the
# specialists (Figure 7). Every table (JSON) and picture (PNG) the service produces lands in --out, with
# summary.json (machine-readable: settings, ids, wall time per stage, the numbers behind each finding)
# and summary.md (the same as Markdown tables).
#
# Time: the default sizes (--scale cpu) take UNDER AN HOUR on a 2-core CPU with no GPU: 33.5 minutes
# measured on a 2-core machine shared with three other builds (see REPRODUCTION.md). --scale tiny is a few-minute smoke test of the whole pipeline; --scale gpu and the
# explicit size flags are for a service whose worker runs on a GPU (CONSORT_WORKER_DEVICES=gpu:0).
#
# Needs bash, curl and jq (jq: `apt-get install jq`, `brew install jq`, or https://jqlang.org/download/).
# Re-running is safe: jobs are created with Idempotency-Key headers derived from their bodies, so a rerun
# with the same --tag and sizes follows (or just re-reads) the jobs of the first run instead of starting
# new ones; datasets are reused by name.
set -euo pipefail
shopt -s inherit_errexit  # a failed API call inside $(...) stops the script too

usage() {
    cat <<'EOF'
Usage: scripts/reproduce.sh [options]

Drives a running Consort (start it with `mvn spring-boot:run` or `java -jar target/consort-*.jar`)
through its HTTP API and reproduces the paper's five findings at small scale.

Default sizes (--scale cpu) finish in UNDER AN HOUR on a 2-core CPU without a GPU (33.5 min measured
on a 2-core machine shared with other builds). There, start the service with one libtorch thread
(java -Dai.djl.pytorch.num_threads=1 ...): two threads on busy cores ran 7x slower.

Connection and output:
  --url URL             service base URL (env CONSORT_URL; default http://localhost:8080)
  --api-key KEY         API key, sent as "Authorization: Bearer KEY" (env CONSORT_API_KEY; default none)
  --datasets DIR        the data files (env CONSORT_DATASETS; default ../shared/datasets next to the repo)
  --out DIR             where tables, plots and the summary go (default reproduction)
  --tag NAME            names the datasets and the idempotency keys of this run (default repro);
                        change it (or pass --fresh) to start over instead of reusing earlier jobs
  --fresh               a new tag from the current time: nothing is reused
  --poll SECONDS        how often to poll a running job (default 5)

Sizes:
  --scale cpu|tiny|gpu  presets: cpu (default, < 1 h on 2 CPU cores), tiny (a smoke test in minutes),
                        gpu (a larger model for a service whose worker has a GPU)
  --layers N --embd N --heads N       the GPT-2 shape (n_layer, n_embd, n_head)
  --context N --batch N               tokens per window and windows per step for all training
  --pretrain-steps N                  pretraining steps on WikiText
  --pretrain-lr X                     pretraining peak learning rate
  --finetune-steps N                  steps of each specialist's MLP-only fine-tuning (lr 8e-4)
  --checkpoints N                     intermediate checkpoints per specialist (the sweep's steps)
  --router-steps N                    router fitting steps per routed method
  --baseline-steps N                  steps of the direct fine-tuning baseline (all weights, lr 8e-5)
  --eval-windows N                    evaluation windows per dataset in the merge jobs
  --cka-windows N                     windows sampled by the cka jobs
  -h, --help                          this text

Example:
  CONSORT_DATA_DIR=/tmp/consort java -jar target/consort-0.1.0-SNAPSHOT.jar --server.port=18080 &
  scripts/reproduce.sh --url http://localhost:18080 --out reproduction
EOF
}

if ! command -v jq >/dev/null 2>&1; then
    echo "error: jq is required. Install it: apt-get install jq (Debian/Ubuntu), brew install jq (macOS)," \
         "or a binary from https://jqlang.org/download/" >&2
    exit 2
fi
if ! command -v curl >/dev/null 2>&1; then
    echo "error: curl is required (apt-get install curl)" >&2
    exit 2
fi

script_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(dirname "$script_dir")

URL=${CONSORT_URL:-http://localhost:8080}
API_KEY=${CONSORT_API_KEY:-}
DATASETS=${CONSORT_DATASETS:-$repo_dir/../shared/datasets}
OUT=reproduction
TAG=repro
POLL=5
SCALE=cpu
declare -A SET=()

while [[ $# -gt 0 ]]; do
    case "$1" in
        --url) URL=$2; shift 2 ;;
        --api-key) API_KEY=$2; shift 2 ;;
        --datasets) DATASETS=$2; shift 2 ;;
        --out) OUT=$2; shift 2 ;;
        --tag) TAG=$2; shift 2 ;;
        --fresh) TAG="repro-$(date +%Y%m%d%H%M%S)"; shift ;;
        --poll) POLL=$2; shift 2 ;;
        --scale) SCALE=$2; shift 2 ;;
        --layers|--embd|--heads|--context|--batch|--pretrain-steps|--pretrain-lr|--finetune-steps|--checkpoints|\
        --router-steps|--baseline-steps|--eval-windows|--cka-windows)
            [[ $# -ge 2 ]] || { echo "error: $1 needs a value" >&2; exit 2; }
            SET[${1#--}]=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "error: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
URL=${URL%/}

# Presets. cpu: this shape trains at 0.2-1.1k tokens/s on 2 cores (0.2-0.4k measured on a machine shared
# with three other builds, libtorch on 1 thread; 1.1k idle, 2 threads), so the token budgets below
# (pretrain ~310k, each specialist ~205k, each router fit ~40k, each baseline ~80k tokens) fit the hour
# even there. Larger runs (--finetune-steps 800 --router-steps 200 ...) show more; see --scale gpu.
declare -A P
case "$SCALE" in
    tiny) P=([layers]=2 [embd]=64 [heads]=2 [context]=64 [batch]=4 [pretrain-steps]=60 [pretrain-lr]=0.003
             [finetune-steps]=32 [checkpoints]=4 [router-steps]=10 [baseline-steps]=16 [eval-windows]=8
             [cka-windows]=16) ;;
    cpu)  P=([layers]=4 [embd]=128 [heads]=4 [context]=128 [batch]=8 [pretrain-steps]=300 [pretrain-lr]=0.003
             [finetune-steps]=200 [checkpoints]=8 [router-steps]=40 [baseline-steps]=80 [eval-windows]=16
             [cka-windows]=32) ;;
    gpu)  P=([layers]=8 [embd]=512 [heads]=8 [context]=256 [batch]=32 [pretrain-steps]=6000 [pretrain-lr]=0.001
             [finetune-steps]=2000 [checkpoints]=10 [router-steps]=500 [baseline-steps]=2000 [eval-windows]=128
             [cka-windows]=256) ;;
    *) echo "error: --scale must be cpu, tiny or gpu, not '$SCALE'" >&2; exit 2 ;;
esac
for key in "${!SET[@]}"; do P[$key]=${SET[$key]}; done
for key in layers embd heads context batch pretrain-steps finetune-steps checkpoints router-steps baseline-steps \
           eval-windows cka-windows; do
    [[ ${P[$key]} =~ ^[1-9][0-9]*$ ]] || { echo "error: --$key must be a positive integer, not '${P[$key]}'" >&2; exit 2; }
done
(( P[embd] % P[heads] == 0 )) || { echo "error: --embd (${P[embd]}) must be divisible by --heads (${P[heads]})" >&2; exit 2; }
CHECKPOINT_EVERY=$(( P[finetune-steps] / P[checkpoints] ))
(( CHECKPOINT_EVERY >= 1 )) || { echo "error: --checkpoints exceeds --finetune-steps" >&2; exit 2; }

for file in wikitext2-test.txt wikitext2-valid.txt gsm8k-train.jsonl codealpaca.json gsm-hard.jsonl; do
    [[ -r $DATASETS/$file ]] || { echo "error: $DATASETS/$file not found (set --datasets)" >&2; exit 2; }
done
mkdir -p "$OUT/jobs" "$OUT/tables" "$OUT/losses" "$OUT/plots"
OUT=$(cd "$OUT" && pwd)
STAGES="$OUT/.stages.jsonl"
: > "$STAGES"

# ---------------------------------------------------------------------------------------------------
# HTTP

auth=()
[[ -n $API_KEY ]] && auth=(-H "Authorization: Bearer $API_KEY")
BODY=$(mktemp)
trap 'rm -f "$BODY"' EXIT

# api METHOD PATH [curl args...]: the response body on stdout; dies with the problem on a 4xx/5xx.
api() {
    local method=$1 path=$2
    shift 2
    local status
    status=$(curl -sS -o "$BODY" -w '%{http_code}' -X "$method" "${auth[@]}" "$@" "$URL$path") \
        || die "cannot reach $URL$path (is the service running? see --url)"
    if [[ $status -ge 400 ]]; then
        echo "error: $method $path answered $status:" >&2
        jq . "$BODY" >&2 2>/dev/null || cat "$BODY" >&2
        exit 1
    fi
    cat "$BODY"
}

# download PATH FILE [curl args...]: saves the body; dies on an error status.
download() {
    local path=$1 file=$2
    shift 2
    local status
    status=$(curl -sS -o "$file" -w '%{http_code}' "${auth[@]}" "$@" "$URL$path") || die "cannot reach $URL$path"
    if [[ $status -ge 400 ]]; then
        echo "error: GET $path answered $status:" >&2
        cat "$file" >&2
        rm -f "$file"
        exit 1
    fi
}

die() {
    echo "error: $*" >&2
    exit 1
}

log() {
    printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"
}

# ---------------------------------------------------------------------------------------------------
# Stages and jobs

RUN_START=$(date +%s)
STAGE_NAME=""
STAGE_START=0

stage() {
    STAGE_NAME=$1
    STAGE_START=$(date +%s)
    echo
    log "=== $1"
}

stage_done() {
    local end seconds
    end=$(date +%s)
    seconds=$(( end - STAGE_START ))
    log "=== $STAGE_NAME done in $(clock $seconds) (total so far $(clock $(( end - RUN_START ))))"
    jq -nc --arg stage "$STAGE_NAME" --argjson seconds "$seconds" '{stage: $stage, seconds: $seconds}' >> "$STAGES"
}

clock() {
    printf '%dm%02ds' $(( $1 / 60 )) $(( $1 % 60 ))
}

# submit STAGE_KEY JSON: POST /jobs with an Idempotency-Key made of the tag, the stage and the body's hash,
# so a rerun with the same settings gets the same job back. Prints the job id.
submit() {
    local key=$1 body=$2 hash response
    hash=$(printf '%s' "$body" | sha256sum | cut -c1-16)
    response=$(api POST /jobs -H 'Content-Type: application/json' -H "Idempotency-Key: $TAG-$key-$hash" \
        --data-binary "$body")
    local id status
    id=$(jq -r .id <<<"$response")
    status=$(jq -r .status <<<"$response")
    log "job $key: $id ($status)" >&2
    echo "$id"
}

# wait_job ID LABEL: polls until the job ends; prints its progress as it changes; dies unless it succeeded.
wait_job() {
    local id=$1 label=$2 job status line last=""
    while true; do
        job=$(api GET "/jobs/$id")
        status=$(jq -r .status <<<"$job")
        case "$status" in
            succeeded)
                log "$label: succeeded"
                return 0 ;;
            failed|cancelled)
                echo >&2
                echo "error: job $label ($id) $status: $(jq -c .error <<<"$job")" >&2
                echo "last events:" >&2
                local page after=""
                while page=$(api GET "/jobs/$id/events?limit=500${after:+&after=$after}") \
                        && [[ $(jq -r .has_more <<<"$page") == true ]]; do
                    after=$(jq -r .next_after <<<"$page")
                done
                jq -r '.items[-10:][] | "  \(.created_at) \(.kind) \(.message // "")"' <<<"$page" >&2 || true
                exit 1 ;;
        esac
        line=$(jq -r '.status as $s | .progress as $p |
            if $p == null then $s
            elif $p.steps != null and $p.step != null then
                "\($s) step \($p.step)/\($p.steps)" + (if $p.loss then " loss \($p.loss*1000|round/1000)" else "" end)
                + (if $p.validation_loss then " val \($p.validation_loss*1000|round/1000)" else "" end)
                + (if $p.eta_seconds then " eta \($p.eta_seconds|round)s" else "" end)
            else "\($s) \($p|tostring)" end' <<<"$job")
        if [[ $line != "$last" ]]; then
            log "$label: $line"
            last=$line
        fi
        sleep "$POLL"
    done
}

# fetch_job ID NAME [no-loss-plot]: the job (spec, result), its loss curves (JSON, and PNG unless told not to)
# and, if it has one, its results table.
fetch_job() {
    local id=$1 name=$2 plot=${3:-loss-plot}
    api GET "/jobs/$id" | jq . > "$OUT/jobs/$name.json"
    api GET "/jobs/$id/losses" | jq . > "$OUT/losses/$name.json"
    if [[ $plot != no-loss-plot && $(jq '.series | length' "$OUT/losses/$name.json") -gt 0 ]]; then
        download "/jobs/$id/losses?format=png" "$OUT/plots/$name-losses.png"
    fi
    if [[ $(jq '.result.rows | type' "$OUT/jobs/$name.json") == '"array"' ]]; then
        api GET "/jobs/$id/results" | jq . > "$OUT/tables/$name-results.json"
    fi
}

# final_checkpoint JOB_FILE: the checkpoint of the last step of a training job.
final_checkpoint() {
    jq -r '.result.checkpoints | max_by(.step) | .checkpoint_id' "$1"
}

# dataset NAME FILE TEMPLATE [curl -F args...]: reuses this tag's dataset of that name, or uploads it.
dataset() {
    local key=$1 name="$TAG-$1" file=$2 template=$3
    shift 3
    local after="" page id=""
    while true; do
        page=$(api GET "/datasets?limit=500${after:+&after=$after}")
        id=$(jq -r --arg n "$name" 'first(.items[] | select(.name == $n) | .id) // empty' <<<"$page")
        [[ -n $id || $(jq -r .has_more <<<"$page") != true ]] && break
        after=$(jq -r .next_after <<<"$page")
    done
    if [[ -n $id ]]; then
        log "dataset $name: reusing $id" >&2
    else
        id=$(api POST /datasets -F "file=@$DATASETS/$file" -F "template=$template" -F "name=$name" "$@" | jq -r .id)
        log "dataset $name: uploaded $id" >&2
    fi
    api GET "/datasets/$id" | jq . > "$OUT/tables/dataset-$key.json"
    echo "$id"
}

# ---------------------------------------------------------------------------------------------------

log "Consort at $URL; output in $OUT; tag $TAG; scale $SCALE"
log "sizes: $(for k in layers embd heads context batch pretrain-steps pretrain-lr finetune-steps checkpoints router-steps \
    baseline-steps eval-windows cka-windows; do printf '%s=%s ' "$k" "${P[$k]}"; done)"
api GET /actuator/health/readiness >/dev/null

stage "datasets"
WIKI=$(dataset wikitext wikitext2-test.txt '{text}' -F "validation_file=@$DATASETS/wikitext2-valid.txt")
MATH=$(dataset gsm8k gsm8k-train.jsonl '{question}\n{answer}')
CODE=$(dataset codealpaca codealpaca.json '{instruction}\n{input}\n{output}')
HARD=$(dataset gsm-hard gsm-hard.jsonl '{input}\n{code}')
stage_done

stage "pretrain"
PRETRAIN=$(submit pretrain "$(jq -nc --arg d "$WIKI" --argjson L "${P[layers]}" --argjson E "${P[embd]}" \
    --argjson H "${P[heads]}" --argjson T "${P[context]}" --argjson B "${P[batch]}" --argjson S "${P[pretrain-steps]}" \
    --argjson lr "${P[pretrain-lr]}" --argjson VW "${P[eval-windows]}" '
    {type: "pretrain", name: "repro-pretrain", spec: {
        config: {n_layer: $L, n_embd: $E, n_head: $H, n_positions: $T},
        dataset_id: $d,
        training: {steps: $S, batch_size: $B, context: $T, learning_rate: $lr, warmup_steps: ([$S / 20 | floor, 1] | max),
                   eval_every: ([$S / 10 | floor, 1] | max), eval_windows: $VW}}}')")
wait_job "$PRETRAIN" pretrain
fetch_job "$PRETRAIN" pretrain
BASE=$(final_checkpoint "$OUT/jobs/pretrain.json")
log "base checkpoint $BASE"
stage_done

stage "finetune specialists"
finetune_body() {
    jq -nc --arg base "$BASE" --arg d "$1" --arg name "$2" --argjson T "${P[context]}" --argjson B "${P[batch]}" \
        --argjson S "${P[finetune-steps]}" --argjson every "$CHECKPOINT_EVERY" --argjson VW "${P[eval-windows]}" '
        {type: "finetune", name: $name, spec: {base_checkpoint_id: $base, dataset_id: $d, trainable: "mlp",
            training: {steps: $S, batch_size: $B, context: $T, checkpoint_every: $every, eval_windows: $VW}}}'
}
FT_MATH=$(submit finetune-math "$(finetune_body "$MATH" repro-math-specialist)")
FT_CODE=$(submit finetune-code "$(finetune_body "$CODE" repro-code-specialist)")
wait_job "$FT_MATH" finetune-math
wait_job "$FT_CODE" finetune-code
fetch_job "$FT_MATH" finetune-math
fetch_job "$FT_CODE" finetune-code
MATH_FINAL=$(final_checkpoint "$OUT/jobs/finetune-math.json")
CODE_FINAL=$(final_checkpoint "$OUT/jobs/finetune-code.json")
MATH_EARLY=$(jq -r '.result.checkpoints | min_by(.step) | .checkpoint_id' "$OUT/jobs/finetune-math.json")
CODE_EARLY=$(jq -r '.result.checkpoints | min_by(.step) | .checkpoint_id' "$OUT/jobs/finetune-code.json")
stage_done

stage "sweep (Figure 3)"
SWEEP=$(submit sweep "$(jq -nc --arg a "$FT_MATH" --arg b "$FT_CODE" --arg adapt "$HARD" --arg ref "$WIKI" '
    {type: "sweep", name: "repro-sweep", spec: {finetune_job_a_id: $a, finetune_job_b_id: $b,
        adaptation_dataset_id: $adapt, reference_dataset_id: $ref, method: "activation_interpolation"}}')")
wait_job "$SWEEP" sweep
# Its "losses" mix merge loss and CKA on one axis; its own plots below show them properly.
fetch_job "$SWEEP" sweep no-loss-plot
for plot in merge-loss-vs-step cka-vs-step merge-loss-vs-cka; do
    download "/jobs/$SWEEP/plots/$plot" "$OUT/plots/sweep-$plot.png"
done
stage_done

evaluation() {
    jq -nc --argjson T "${P[context]}" --argjson W "${P[eval-windows]}" \
        '{split: "validation", context: $T, max_windows: $W, batch_size: 8}'
}
router_training() {
    jq -nc --argjson T "${P[context]}" --argjson B "${P[batch]}" --argjson S "${P[router-steps]}" --argjson VW "${P[eval-windows]}" \
        '{steps: $S, batch_size: $B, context: $T, eval_every: ([$S / 5 | floor, 1] | max), eval_windows: $VW}'
}

stage "merge: every method + direct fine-tuning baseline (Figure 4, Table 1)"
MERGE=$(submit merge "$(jq -nc --arg base "$BASE" --arg a "$MATH_FINAL" --arg b "$CODE_FINAL" --arg adapt "$HARD" \
    --arg wiki "$WIKI" --arg math "$MATH" --arg code "$CODE" --argjson eval "$(evaluation)" \
    --argjson routers "$(router_training)" --argjson T "${P[context]}" --argjson B "${P[batch]}" \
    --argjson S "${P[baseline-steps]}" --argjson VW "${P[eval-windows]}" '
    {type: "merge", name: "repro-merge-all-methods", spec: {
        base_checkpoint_id: $base, expert_ids: [$a, $b], adaptation_dataset_id: $adapt,
        eval_dataset_ids: [$adapt, $math, $code, $wiki], evaluation: $eval, router_training: $routers, seed: 7,
        methods: [
            {method: "linear", parameters: {weight: 0.5}, label: "linear (weight average)"},
            {method: "lerp", parameters: {t: 0.5}},
            {method: "slerp", parameters: {t: 0.5}},
            {method: "task_arithmetic", parameters: {weight: 1.0}},
            {method: "ties", parameters: {weight: 1.0, density: 0.5}},
            {method: "dare_linear", parameters: {weight: 1.0, density: 0.5}},
            {method: "dare_ties", parameters: {weight: 1.0, density: 0.5}},
            {method: "breadcrumbs", parameters: {weight: 1.0, density: 0.9, gamma: 0.01}},
            {method: "breadcrumbs_ties", parameters: {weight: 1.0, density: 0.9, gamma: 0.01}},
            {method: "model_stock"},
            {method: "activation_interpolation", label: "activation_interpolation (alpha searched)"},
            {method: "single_router", parameters: {router: "linear"}},
            {method: "layer_routing", parameters: {router: "linear"}}],
        baseline: {finetune: {trainable: "all", training: {steps: $S, batch_size: $B, context: $T,
            eval_every: ([$S / 5 | floor, 1] | max), eval_windows: $VW}}}}}')")
wait_job "$MERGE" merge
fetch_job "$MERGE" merge
stage_done

stage "direct fine-tuning at the specialists' learning rate (Table 1)"
# The merge job's baseline uses the paper's lr for it (8e-5); a model this small, trained this briefly,
# may need the specialists' lr (8e-4) to show what direct fine-tuning can do, so both are reported.
DIRECT=$(submit direct-finetune "$(jq -nc --arg base "$BASE" --arg d "$HARD" --argjson T "${P[context]}" \
    --argjson B "${P[batch]}" --argjson S "${P[baseline-steps]}" --argjson VW "${P[eval-windows]}" '
    {type: "finetune", name: "repro-direct-finetune-lr8e-4", spec: {base_checkpoint_id: $base, dataset_id: $d,
        trainable: "all", training: {steps: $S, batch_size: $B, context: $T, learning_rate: 0.0008,
            eval_every: ([$S / 5 | floor, 1] | max), eval_windows: $VW}}}')")
wait_job "$DIRECT" direct-finetune
fetch_job "$DIRECT" direct-finetune
DIRECT_FINAL=$(final_checkpoint "$OUT/jobs/direct-finetune.json")
DIRECT_EVAL=$(submit direct-evaluate "$(jq -nc --arg c "$DIRECT_FINAL" --arg hard "$HARD" --arg math "$MATH" \
    --arg code "$CODE" --arg wiki "$WIKI" --argjson eval "$(evaluation)" '
    {type: "evaluate", name: "repro-direct-finetune-eval", spec: ({checkpoint_ids: [$c],
        dataset_ids: [$hard, $math, $code, $wiki]} + $eval)}')")
wait_job "$DIRECT_EVAL" direct-evaluate
fetch_job "$DIRECT_EVAL" direct-evaluate
stage_done

stage "multi_layer_routing span 1, 2, 3 (Figure 5)"
SPANS=$(submit multi-layer-routing "$(jq -nc --arg base "$BASE" --arg a "$MATH_FINAL" --arg b "$CODE_FINAL" \
    --arg adapt "$HARD" --argjson eval "$(evaluation)" --argjson routers "$(router_training)" \
    --argjson layers "${P[layers]}" '
    {type: "merge", name: "repro-multi-layer-routing", spec: {
        base_checkpoint_id: $base, expert_ids: [$a, $b], adaptation_dataset_id: $adapt,
        eval_dataset_ids: [$adapt], evaluation: $eval, router_training: $routers, seed: 7,
        methods: [range(1; ([3, $layers] | min) + 1) as $span |
            {method: "multi_layer_routing", parameters: {router: "linear", span: $span}, label: "span \($span)"}]}}')")
wait_job "$SPANS" multi-layer-routing
fetch_job "$SPANS" multi-layer-routing
stage_done

stage "cka heatmaps (Figure 7)"
cka_body() {
    jq -nc --arg a "$1" --arg b "$2" --arg d "$3" --arg name "$4" --argjson T "${P[context]}" --argjson W "${P[cka-windows]}" '
        {type: "cka", name: $name, spec: {model_a_id: $a, model_b_id: $b, dataset_id: $d, representation: "mlp",
            pooling: "token", estimator: "linear", split: "validation", context: $T, windows: $W, batch_size: 8}}'
}
CKA_FINAL=$(submit cka-final "$(cka_body "$MATH_FINAL" "$CODE_FINAL" "$HARD" repro-cka-final-specialists)")
CKA_EARLY=$(submit cka-early "$(cka_body "$MATH_EARLY" "$CODE_EARLY" "$HARD" repro-cka-first-checkpoints)")
CKA_BASE=$(submit cka-base "$(cka_body "$BASE" "$MATH_FINAL" "$WIKI" repro-cka-base-vs-math)")
for pair in "$CKA_FINAL:cka-final" "$CKA_EARLY:cka-early" "$CKA_BASE:cka-base"; do
    wait_job "${pair%%:*}" "${pair#*:}"
    api GET "/jobs/${pair%%:*}" | jq . > "$OUT/jobs/${pair#*:}.json"
    api GET "/jobs/${pair%%:*}/cka" -H 'Accept: application/json' | jq . > "$OUT/tables/${pair#*:}.json"
    download "/jobs/${pair%%:*}/cka" "$OUT/plots/${pair#*:}-heatmap.png" -H 'Accept: image/png'
done
stage_done

# ---------------------------------------------------------------------------------------------------
# Summary: the numbers behind each finding, computed from the service's tables above.

TOTAL=$(( $(date +%s) - RUN_START ))
jq -s '.' "$OUT"/jobs/*.json > "$OUT/.jobs.json"
jq -n \
    --arg url "$URL" --arg scale "$SCALE" --arg tag "$TAG" --argjson total "$TOTAL" \
    --argjson sizes "$(for k in "${!P[@]}"; do jq -nc --arg k "$k" --arg v "${P[$k]}" '{($k): ($v|tonumber)}'; done | jq -s add)" \
    --argjson checkpoint_every "$CHECKPOINT_EVERY" \
    --slurpfile stages "$STAGES" \
    --slurpfile alljobs "$OUT/.jobs.json" \
    --slurpfile pretrain "$OUT/jobs/pretrain.json" \
    --slurpfile math "$OUT/jobs/finetune-math.json" \
    --slurpfile code "$OUT/jobs/finetune-code.json" \
    --slurpfile direct "$OUT/jobs/direct-finetune.json" \
    --slurpfile sweep "$OUT/jobs/sweep.json" \
    --slurpfile merge "$OUT/tables/merge-results.json" \
    --slurpfile spans "$OUT/tables/multi-layer-routing-results.json" \
    --slurpfile directeval "$OUT/tables/direct-evaluate-results.json" \
    --slurpfile ckafinal "$OUT/tables/cka-final.json" \
    --slurpfile ckaearly "$OUT/tables/cka-early.json" \
    --slurpfile ckabase "$OUT/tables/cka-base.json" \
    --arg hard "$HARD" --arg wiki "$WIKI" --arg mathd "$MATH" --arg coded "$CODE" '
    def r4: . * 10000 | round / 10000;
    def secs: sub("\\.[0-9]+"; "") | sub("\\+00:00$"; "Z") | fromdateiso8601;
    def diag(m): [range(0; m | length) as $i | m[$i][$i]] | add / length;
    def band(m; $k): [range(0; (m | length) - $k) as $i | m[$i][$i + $k]] | if length == 0 then null else add / length end;
    def far(m): [range(0; m | length) as $i | range(0; m | length) as $j | select(($i - $j) | fabs >= 2) | m[$i][$j]]
        | if length == 0 then null else add / length end;
    ($merge[0].rows | map(select(.dataset_id == $hard))) as $hardRows
    | ($hardRows | map(select(.method == "base")) | .[0].loss) as $baseLoss
    | ($hardRows | map(select(.method == "expert")) | map(.loss) | min) as $bestExpert
    | ($hardRows | map(select(.method != "base" and .method != "expert" and .method != "finetune_baseline"))) as $merges
    | ($merges | map(select(.output_kind == "checkpoint")) | min_by(.loss)) as $bestWeight
    | ($merges | map(select(.method == "activation_interpolation")) | .[0]) as $ai
    | ($merges | map(select(.method == "single_router" or .method == "layer_routing")) | min_by(.loss)) as $bestRouter
    | ($hardRows | map(select(.method == "finetune_baseline")) | .[0].loss) as $baseline
    | ($directeval[0].rows | map(select(.dataset_id == $hard)) | .[0].loss) as $directLoss
    | ($spans[0].rows | map(select(.method == "multi_layer_routing" and .dataset_id == $hard))) as $spanMerges
    | ($merges + $spanMerges | min_by(.loss)) as $bestMerge
    | ($sweep[0].result.rows) as $sw
    | ($spanMerges | map({span: .parameters.span, loss})) as $spanRows
    | ($spanRows | map(select(.span == 1)) | .[0].loss) as $span1
    | ($spanRows | map(select(.span == 2)) | .[0].loss) as $span2
    | ($spanRows | map(select(.span == 3)) | .[0].loss) as $span3
    | {
        service: $url, scale: $scale, tag: $tag, sizes: ($sizes + {checkpoint_every: $checkpoint_every}),
        wall_seconds: {total: $total, stages: $stages,
            jobs: ($alljobs[0] | map(select(.started_at != null and .finished_at != null)
                | {name: (.name // .id), type, seconds: ((.finished_at | secs) - (.started_at | secs))}))},
        datasets: {wikitext: $wiki, gsm8k: $mathd, codealpaca: $coded, gsm_hard: $hard},
        jobs: ($alljobs[0] | map({key: (.name // .id), value: .id}) | from_entries),
        training: {
            pretrain_final_validation_loss: ($pretrain[0].result.final_validation_loss | r4),
            math_final_validation_loss: ($math[0].result.final_validation_loss | r4),
            code_final_validation_loss: ($code[0].result.final_validation_loss | r4),
            direct_finetune_final_validation_loss: ($direct[0].result.final_validation_loss | r4)},
        findings: {
            "1_merge_vs_step": {
                rows: ($sw | map({step, merge_loss: (.merge_loss | r4), best_alpha, expert_a_loss: (.expert_a_loss | r4),
                    expert_b_loss: (.expert_b_loss | r4),
                    gain_over_best_expert: (([.expert_a_loss, .expert_b_loss] | min) - .merge_loss | r4),
                    cka_adaptation: (.cka_adaptation | r4), cka_reference: (.cka_reference | r4)})),
                critical_step: $sweep[0].result.critical_step,
                first_step: ($sw | min_by(.step) | .step),
                last_step: ($sw | max_by(.step) | .step),
                critical_step_inside: ($sweep[0].result.critical_step as $c
                    | ($sw | min_by(.step) | .step) < $c and $c < ($sw | max_by(.step) | .step)),
                largest_gain_step: ($sw | max_by(([.expert_a_loss, .expert_b_loss] | min) - .merge_loss) | .step),
                cka_adaptation_first_to_last: [($sw | min_by(.step) | .cka_adaptation | r4), ($sw | max_by(.step) | .cka_adaptation | r4)],
                cka_reference_first_to_last: [($sw | min_by(.step) | .cka_reference | r4), ($sw | max_by(.step) | .cka_reference | r4)]},
            "2_routers_vs_static": {
                base_loss: ($baseLoss | r4), best_expert_loss: ($bestExpert | r4),
                best_weight_merge: {"label": $bestWeight["label"], loss: ($bestWeight.loss | r4)},
                activation_interpolation: {loss: ($ai.loss | r4)},
                best_router: {"label": $bestRouter["label"], loss: ($bestRouter.loss | r4)},
                routers_beat_static: ($bestRouter.loss < ([$bestWeight.loss, $ai.loss] | min))},
            "3_multi_layer_span": {spans: ($spanRows | map(.loss |= r4)),
                span2_gain_over_span1: (if $span1 and $span2 then ($span1 - $span2 | r4) else null end),
                span3_gain_over_span2: (if $span2 and $span3 then ($span2 - $span3 | r4) else null end)},
            "4_direct_finetuning": {
                "baseline_lr_8e-5_loss": ($baseline | r4), "baseline_lr_8e-4_loss": ($directLoss | r4),
                best_merge: {"label": $bestMerge["label"], loss: ($bestMerge.loss | r4)},
                "lr_8e-5_beats_every_merge": ($baseline < $bestMerge.loss),
                "lr_8e-4_beats_every_merge": ($directLoss < $bestMerge.loss)},
            "5_cka": {
                final_specialists_on_gsm_hard: {
                    intra_math_adjacent_layers: (band($ckafinal[0].matrices.intra_a; 1) | r4),
                    intra_math_two_or_more_apart: (far($ckafinal[0].matrices.intra_a) | if . then r4 else null end),
                    intra_code_adjacent_layers: (band($ckafinal[0].matrices.intra_b; 1) | r4),
                    intra_code_two_or_more_apart: (far($ckafinal[0].matrices.intra_b) | if . then r4 else null end),
                    inter_same_layer_mean: (diag($ckafinal[0].matrices.inter) | r4)},
                first_checkpoints_on_gsm_hard: {inter_same_layer_mean: (diag($ckaearly[0].matrices.inter) | r4)},
                base_vs_final_math_on_wikitext: {inter_same_layer_mean: (diag($ckabase[0].matrices.inter) | r4)}}
        }
    }' > "$OUT/summary.json"

# The same numbers and the service's tables as Markdown.
names='def name: if . == $hard then "gsm-hard" elif . == $math then "gsm8k" elif . == $code then "codealpaca"
              elif . == $wiki then "wikitext" else . end;'
{
    echo "# Reproduction summary ($SCALE scale, tag $TAG)"
    echo
    echo "Wall time of this invocation per stage (seconds), and of each job inside the service:"
    echo
    echo "| stage | seconds |"
    echo "|---|---|"
    jq -r '.wall_seconds.stages[] | "| \(.stage) | \(.seconds) |"' "$OUT/summary.json"
    jq -r '"| total | \(.wall_seconds.total) |"' "$OUT/summary.json"
    echo
    echo "| job | type | seconds |"
    echo "|---|---|---|"
    jq -r '.wall_seconds.jobs[] | "| \(.name) | \(.type) | \(.seconds) |"' "$OUT/summary.json"
    echo
    echo "Merge job results and the direct fine-tuning baselines (validation loss, nats/token; lower is better;"
    echo "expert 0 is the math specialist, expert 1 the code specialist):"
    echo
    jq -r --arg hard "$HARD" --arg math "$MATH" --arg code "$CODE" --arg wiki "$WIKI" \
        --slurpfile direct "$OUT/tables/direct-evaluate-results.json" "$names"'
        (.rows + ($direct[0].rows | map(. + {"label": "direct fine-tuning, all weights, lr 8e-4"}))) as $rows
        | ($rows | reduce .[] as $r ([]; if index([$r.dataset_id]) then . else . + [$r.dataset_id] end)) as $order
        | ($rows | reduce .[] as $r ([]; if index([$r["label"]]) then . else . + [$r["label"]] end)) as $labels
        | "| model | " + ($order | map(name) | join(" | ")) + " |",
          "|---|" + ($order | map("---") | join("|")) + "|",
          ($labels[] as $l
            | "| \($l | if . == "finetune baseline" then "finetune baseline (all weights, lr 8e-5)" else . end) | "
              + ($order | map(. as $d | ($rows | map(select(.["label"] == $l and .dataset_id == $d)) | .[0].loss // null)
                | if . == null then "" else (. * 10000 | round / 10000 | tostring) end) | join(" | ")) + " |")' \
        "$OUT/tables/merge-results.json"
    echo
    echo "Multi-layer routing on gsm-hard:"
    echo
    echo "| span | loss |"
    echo "|---|---|"
    jq -r '.findings["3_multi_layer_span"].spans[] | "| \(.span) | \(.loss) |"' "$OUT/summary.json"
    echo
    echo "Sweep (activation interpolation on gsm-hard along fine-tuning; A = math, B = code):"
    echo
    echo "| step | merge loss | best α | math alone | code alone | gain over best expert | CKA gsm-hard | CKA wikitext |"
    echo "|---|---|---|---|---|---|---|---|"
    jq -r '.findings["1_merge_vs_step"].rows[] |
        "| \(.step) | \(.merge_loss) | \(.best_alpha) | \(.expert_a_loss) | \(.expert_b_loss) | \(.gain_over_best_expert) | \(.cka_adaptation) | \(.cka_reference) |"' \
        "$OUT/summary.json"
    echo
    echo "Findings (numbers):"
    echo
    echo '```json'
    jq '.findings | del(.["1_merge_vs_step"].rows)' "$OUT/summary.json"
    echo '```'
} > "$OUT/summary.md"
rm -f "$STAGES" "$OUT/.jobs.json"

echo
log "done in $(clock "$TOTAL"): $OUT/summary.json, $OUT/summary.md, $(ls "$OUT/plots" | wc -l) plots in $OUT/plots"
jq '.findings | del(.["1_merge_vs_step"].rows)' "$OUT/summary.json"
