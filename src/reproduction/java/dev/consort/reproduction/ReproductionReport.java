package dev.consort.reproduction;

import static dev.consort.reproduction.Markdown.interval;
import static dev.consort.reproduction.Markdown.jobSeconds;
import static dev.consort.reproduction.Markdown.num;
import static dev.consort.reproduction.Markdown.turn;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.ToDoubleFunction;

import org.apache.commons.math3.distribution.TDistribution;
import org.apache.commons.math3.stat.StatUtils;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The reproduction's findings, computed from the service's own results and nothing else: for each of the paper's
 * five findings the numbers with their intervals (paired over the same windows, and over seeds where the run has
 * them) and a verdict that follows from those intervals, as {@code summary.md}, with the numbers in
 * {@code summary.json}.
 */
final class ReproductionReport {

    private static final List<String> STATIC_MERGES = List.of("linear", "slerp", "task_arithmetic", "ties",
            "activation_interpolation");

    private final Reproduction.Options options;
    private final JobBodies.Datasets data;
    private final JsonNode pretrain;
    private final List<Reproduction.SeedRun> seeds;
    private final JsonNode baseCka;
    private final JsonNode merge;
    private final JsonNode compatibility;
    private final long seconds;
    private final ObjectNode numbers = ConsortClient.JSON.createObjectNode();
    private final StringBuilder md = new StringBuilder();

    ReproductionReport(Reproduction.Options options, JobBodies.Datasets data, JsonNode pretrain,
            List<Reproduction.SeedRun> seeds, JsonNode baseCka, JsonNode merge, JsonNode compatibility, long seconds) {
        this.options = options;
        this.data = data;
        this.pretrain = pretrain;
        this.seeds = seeds;
        this.baseCka = baseCka;
        this.merge = merge;
        this.compatibility = compatibility;
        this.seconds = seconds;
    }

    void write(Path out) throws IOException {
        header();
        theU();
        routers();
        spans();
        baselines();
        heatmaps();
        compatibilityScore();
        wallTime();
        Files.createDirectories(out);
        Files.writeString(out.resolve("summary.json"), ConsortClient.JSON.writerWithDefaultPrettyPrinter()
                .writeValueAsString(numbers));
        Files.writeString(out.resolve("summary.md"), md.toString());
    }

    private void header() {
        Reproduction.Scale scale = options.scale();
        JobBodies.Shape shape = scale.shape();
        md.append("# Reproduction (`--scale ").append(scale.name()).append("`)\n\n");
        md.append(String.format(Locale.ROOT, "GPT-2 %d layers × %d, %d heads, context %d. Base: pretrained %d steps "
                + "of %d × %d WikiText tokens (validation loss %s). Specialists: math on gsm8k and code on codealpaca, "
                + "%s, constant lr %s, %d steps of %d × %d tokens, a checkpoint every %d, %d training seeds. Target: "
                + "gsm-hard, %d validation windows of %d tokens for every loss. Wall time from the first job's "
                + "submission to the last one's end: %d s (%.1f min).%n%n",
                shape.layers(), shape.embd(), shape.heads(), shape.context(), scale.pretrainSteps(),
                scale.pretrainBatch(), shape.context(), num(pretrain.path("result").path("final_validation_loss")),
                options.trainable().equals("mlp") ? "MLPs only" : "all weights", options.learningRate(), scale.steps(),
                scale.batch(), shape.context(), scale.checkpointEvery(), scale.seeds(), scale.evalWindows(),
                shape.context(), runSeconds(), runSeconds() / 60.0));
        md.append("Intervals are 95%. `[a, b]` after a difference is paired over the same windows (a t-interval, "
                + "or a bootstrap over windows for the critical step); `± s` after a mean over seeds is their sample "
                + "standard deviation, and `(over seeds [a, b])` a t-interval over seeds.\n\n");
        numbers.put("scale", scale.name()).put("run_seconds", runSeconds()).put("client_seconds", seconds);
    }

    // --- Finding 1: the U of merge loss against fine-tuning step, and falling CKA -------------------------------

    private void theU() {
        md.append("## 1. Merging helps early and hurts later (Figure 3)\n\n");
        md.append("| seed | math: lowest step, last − lowest | code: lowest step, last − lowest | critical step "
                + "[bootstrap] | last − critical | gain over better expert at the critical step | interior minimum |\n"
                + "|---|---|---|---|---|---|---|\n");
        int interior = 0;
        int turning = 0;
        List<Double> critical = new ArrayList<>();
        List<Double> rise = new ArrayList<>();
        List<Double> criticalGain = new ArrayList<>();
        List<Double> ckaChange = new ArrayList<>();
        var perSeed = numbers.putArray("sweeps");
        for (Reproduction.SeedRun run : seeds) {
            JsonNode sweep = run.sweep().path("result");
            JsonNode criticalRow = row(sweep, sweep.path("critical_step").asLong());
            boolean isInterior = sweep.path("interior_minimum").asBoolean();
            interior += isInterior ? 1 : 0;
            boolean turns = sweep.path("expert_a_turn").path("turns_upward").asBoolean()
                    || sweep.path("expert_b_turn").path("turns_upward").asBoolean();
            turning += turns ? 1 : 0;
            critical.add(sweep.path("critical_step").asDouble());
            rise.add(sweep.path("last_step_minus_critical").path("difference").asDouble());
            criticalGain.add(criticalRow.path("gain_over_better_expert").path("gain").asDouble());
            JsonNode rows = sweep.path("rows");
            double firstCka = rows.get(1).path("cka_adaptation").asDouble();
            double lastCka = rows.get(rows.size() - 1).path("cka_adaptation").asDouble();
            ckaChange.add(lastCka - firstCka);
            md.append("| ").append(run.seed())
                    .append(" | ").append(turn(sweep.path("expert_a_turn")))
                    .append(" | ").append(turn(sweep.path("expert_b_turn")))
                    .append(" | ").append(sweep.path("critical_step").asLong()).append(" [")
                    .append(sweep.path("critical_step_ci95").path(0).asLong()).append(", ")
                    .append(sweep.path("critical_step_ci95").path(1).asLong()).append("]")
                    .append(" | ").append(interval(sweep.path("last_step_minus_critical"), "difference"))
                    .append(" | ").append(interval(criticalRow.path("gain_over_better_expert"), "gain"))
                    .append(" | ").append(isInterior ? "**yes**" : "no").append(" |\n");
            perSeed.addObject().put("seed", run.seed()).put("sweep_job", run.sweep().path("id").asString())
                    .put("critical_step", sweep.path("critical_step").asLong()).put("interior_minimum", isInterior)
                    .put("specialist_turns_upward", turns).put("cka_first_checkpoint", firstCka)
                    .put("cka_last_checkpoint", lastCka).set("last_step_minus_critical", sweep.path("last_step_minus_critical"));
        }
        md.append("\nAcross seeds, step by step (mean ± sd over ").append(seeds.size()).append(" seeds; the run-to-run "
                + "noise):\n\n| step | math alone | code alone | merge | gain over better expert | CKA gsm-hard "
                + "| CKA WikiText |\n|---|---|---|---|---|---|---|\n");
        JsonNode firstRows = seeds.get(0).sweep().path("result").path("rows");
        for (int i = 0; i < firstRows.size(); i++) {
            int index = i;
            md.append("| ").append(firstRows.get(i).path("step").asLong())
                    .append(" | ").append(spread(r -> r.path("expert_a_loss").asDouble(), index))
                    .append(" | ").append(spread(r -> r.path("expert_b_loss").asDouble(), index))
                    .append(" | ").append(spread(r -> r.path("merge_loss").asDouble(), index))
                    .append(" | ").append(spread(r -> r.path("gain_over_better_expert").path("gain").asDouble(), index))
                    .append(" | ").append(spread(r -> r.path("cka_adaptation").asDouble(), index))
                    .append(" | ").append(spread(r -> r.path("cka_reference").asDouble(), index)).append(" |\n");
        }
        double[] change = array(ckaChange);
        double[] changeInterval = overSeeds(change);
        String verdict = interior == seeds.size() ? "**Reproduced**" : interior > 0 ? "**Partly reproduced**"
                : "**Not reproduced at this budget**";
        md.append(String.format(Locale.ROOT, "%n%s: the merge loss has an interior minimum, beyond its paired "
                + "interval, in %d of %d seeds (critical step %s, last − critical %s, gain at the critical step %s); "
                + "a specialist's own gsm-hard loss turns upward in %d of %d. CKA between the specialists on gsm-hard "
                + "changes by %s from the first checkpoint to the last (over seeds [%+.4f, %+.4f]): it %s.%n%n",
                verdict, interior, seeds.size(), meanSd(array(critical), "%.0f"), meanSd(array(rise), "%+.4f"),
                meanSd(array(criticalGain), "%+.4f"), turning, seeds.size(), meanSd(change, "%+.4f"),
                changeInterval[0], changeInterval[1], changeInterval[1] < 0 ? "falls in every reading of the interval"
                        : changeInterval[0] > 0 ? "rises" : "does not change beyond the seeds' spread"));
        numbers.putObject("finding_1").put("interior_minimum_seeds", interior).put("seeds", seeds.size())
                .put("specialist_turns_seeds", turning).put("verdict", verdict.replace("*", ""))
                .put("cka_change_mean", StatUtils.mean(change)).put("cka_change_ci95_low", changeInterval[0])
                .put("cka_change_ci95_high", changeInterval[1]);
    }

    /** Mean ± sd over seeds of one sweep column at row {@code index}. */
    private String spread(ToDoubleFunction<JsonNode> column, int index) {
        double[] values = seeds.stream().mapToDouble(run -> column.applyAsDouble(run.sweep().path("result").path("rows")
                .get(index))).toArray();
        return meanSd(values, "%.4f");
    }

    // --- Findings 2-4: the merge job's results table ----------------------------------------------------------

    /** The merge table's rows on gsm-hard, by label. */
    private Map<String, JsonNode> hardRows() {
        Map<String, JsonNode> rows = new LinkedHashMap<>();
        for (JsonNode row : merge.path("result").path("rows")) {
            if (row.path("dataset_id").asString().equals(data.hard())) {
                rows.put(row.path("label").asString(), row);
            }
        }
        return rows;
    }

    private void routers() {
        md.append("## 2. Learned routers beat static merges (Figure 4)\n\n");
        Map<String, JsonNode> rows = hardRows();
        JsonNode bestStatic = null;
        for (JsonNode row : rows.values()) {
            if (STATIC_MERGES.contains(row.path("method").asString())
                    && (bestStatic == null || row.path("loss").asDouble() < bestStatic.path("loss").asDouble())) {
                bestStatic = row;
            }
        }
        JsonNode router = rows.get("span 1");
        md.append("| model | gsm-hard loss | vs better expert | over router seeds |\n|---|---|---|---|\n");
        for (JsonNode row : rows.values()) {
            md.append("| ").append(row.path("label").asString()).append(" | ").append(withSe(row))
                    .append(" | ").append(row.has("vs_best_expert") ? interval(row.path("vs_best_expert"), "difference") : "–")
                    .append(" | ").append(seedSpread(row)).append(" |\n");
        }
        JsonNode routerVs = router.path("vs_best_expert");
        JsonNode staticVs = bestStatic.path("vs_best_expert");
        String verdict = routerVs.path("ci95_high").asDouble() < staticVs.path("ci95_low").asDouble() ? "**Reproduced**"
                : router.path("loss").asDouble() < bestStatic.path("loss").asDouble()
                        ? "**Not distinguished at this budget**" : "**Not reproduced**";
        md.append(String.format(Locale.ROOT, "%n%s: layer routing (span 1, the mean of its router seeds) scores %s "
                + "against the best static merge, %s, %s. Both are read against the better expert on the same windows: "
                + "%s and %s. The routed model wins only when its interval lies wholly below the static merge's "
                + "(a conservative test: the two are not paired with each other).%n%n",
                verdict, withSe(router), bestStatic.path("label").asString(), withSe(bestStatic),
                interval(routerVs, "difference"), interval(staticVs, "difference")));
        numbers.putObject("finding_2").put("router_loss", router.path("loss").asDouble())
                .put("best_static", bestStatic.path("label").asString())
                .put("best_static_loss", bestStatic.path("loss").asDouble()).put("verdict", verdict.replace("*", ""));
    }

    private void spans() {
        md.append("## 3. Multi-layer routing: span 2 helps, span 3 plateaus (Figure 5)\n\n");
        Map<String, JsonNode> rows = hardRows();
        Map<Integer, JsonNode> fits = new LinkedHashMap<>();
        for (JsonNode output : merge.path("result").path("outputs")) {
            String label = output.path("label").asString();
            if (label.startsWith("span ")) {
                fits.put(Integer.parseInt(label.substring(5)), output.path("router_fits"));
            }
        }
        md.append("| span | gsm-hard loss (mean of seeds) | ± sd over router seeds | vs better expert | router steps "
                + "(stopped early) |\n|---|---|---|---|---|\n");
        List<double[]> spanLosses = new ArrayList<>();
        for (int span = 1; span <= 4 && rows.containsKey("span " + span); span++) {
            JsonNode row = rows.get("span " + span);
            spanLosses.add(seedLosses(row));
            List<String> steps = new ArrayList<>();
            for (JsonNode fit : fits.getOrDefault(span, ConsortClient.JSON.createArrayNode())) {
                steps.add(fit.path("steps").asLong() + (fit.path("stopped_early").asBoolean() ? "*" : ""));
            }
            md.append("| ").append(span).append(" | ").append(withSe(row)).append(" | ").append(seedSpread(row))
                    .append(" | ").append(interval(row.path("vs_best_expert"), "difference"))
                    .append(" | ").append(String.join(", ", steps)).append(" |\n");
        }
        double[] twoOverOne = welch(spanLosses.get(0), spanLosses.get(1));
        double[] threeOverTwo = spanLosses.size() > 2 ? welch(spanLosses.get(1), spanLosses.get(2)) : null;
        boolean helps = twoOverOne[0] > 0;
        boolean plateau = threeOverTwo != null && threeOverTwo[0] <= 0 && threeOverTwo[1] >= 0;
        // The claim is the gain of span 2; a plateau after no gain is no support for it.
        String verdict = helps && plateau ? "**Reproduced**" : helps ? "**Partly reproduced** (span 2 helps, span 3 "
                + "does not plateau)" : "**Not reproduced at this budget** (span 2 does not beat span 1 beyond the "
                + "router seeds' spread)";
        int fitted = 0;
        int stopped = 0;
        for (JsonNode spanFits : fits.values()) {
            for (JsonNode fit : spanFits) {
                fitted++;
                stopped += fit.path("stopped_early").asBoolean() ? 1 : 0;
            }
        }
        md.append(String.format(Locale.ROOT, "%nPatience stopped %d of %d router fittings (`*`, validation stopped "
                + "improving); the others ran their whole budget of %s epochs of the adaptation data, still improving.%n",
                stopped, fitted, num(ConsortClient.JSON.getNodeFactory().numberNode(options.routerEpochs()))));
        md.append(String.format(Locale.ROOT, "%n%s. Span 1 − span 2: %+.4f (over router seeds [%+.4f, %+.4f]); "
                + "span 2 − span 3: %s.%n%n",
                verdict, StatUtils.mean(spanLosses.get(0)) - StatUtils.mean(spanLosses.get(1)), twoOverOne[0],
                twoOverOne[1], threeOverTwo == null ? "–" : String.format(Locale.ROOT, "%+.4f [%+.4f, %+.4f]",
                        StatUtils.mean(spanLosses.get(1)) - StatUtils.mean(spanLosses.get(2)), threeOverTwo[0],
                        threeOverTwo[1])));
        numbers.putObject("finding_3").put("span2_helps", helps).put("span3_plateaus", plateau)
                .put("router_fits", fitted).put("router_fits_stopped_by_patience", stopped)
                .put("verdict", verdict.replace("*", ""));
    }

    private void baselines() {
        md.append("## 4. Direct fine-tuning on the target beats every merge (Table 1), and DataMix\n\n");
        Map<String, String> datasets = Map.of(data.hard(), "gsm-hard", data.math(), "gsm8k", data.code(), "codealpaca",
                data.wiki(), "WikiText");
        md.append("| model | gsm-hard | gsm8k | codealpaca | WikiText | gsm-hard vs Table 1 baseline | gsm-hard vs "
                + "DataMix |\n|---|---|---|---|---|---|---|\n");
        Map<String, Map<String, JsonNode>> table = new LinkedHashMap<>();
        for (JsonNode row : merge.path("result").path("rows")) {
            table.computeIfAbsent(row.path("label").asString(), label -> new LinkedHashMap<>())
                    .put(datasets.get(row.path("dataset_id").asString()), row);
        }
        int beaten = 0;
        int beating = 0;
        int merges = 0;
        int datamixBeaten = 0;
        for (Map.Entry<String, Map<String, JsonNode>> entry : table.entrySet()) {
            Map<String, JsonNode> byDataset = entry.getValue();
            JsonNode hard = byDataset.get("gsm-hard");
            md.append("| ").append(entry.getKey());
            for (String dataset : List.of("gsm-hard", "gsm8k", "codealpaca", "WikiText")) {
                md.append(" | ").append(byDataset.containsKey(dataset) ? withSe(byDataset.get(dataset)) : "–");
            }
            md.append(" | ").append(interval(hard.path("vs_baseline"), "difference"))
                    .append(" | ").append(interval(hard.path("vs_datamix"), "difference")).append(" |\n");
            String method = hard.path("method").asString();
            if (!List.of("base", "expert", "finetune_baseline", "datamix_baseline").contains(method)) {
                merges++;
                beaten += hard.path("vs_baseline").path("ci95_low").asDouble() > 0 ? 1 : 0;
                beating += hard.path("vs_baseline").path("ci95_high").asDouble() < 0 ? 1 : 0;
                datamixBeaten += hard.path("vs_datamix").path("ci95_low").asDouble() > 0 ? 1 : 0;
            }
        }
        String verdict = beaten == merges ? "**Reproduced**" : beating > 0 ? "**Not reproduced**"
                : "**Not distinguished at this budget**";
        md.append(String.format(Locale.ROOT, "%n%s: the Table 1 baseline (the base's MLPs fine-tuned on gsm-hard at "
                + "lr 8e-5, as the paper's code runs it, mean of its seeds) is better than %d of %d merges beyond the "
                + "paired interval, and worse than %d. DataMix (the base's MLPs on half gsm8k, half codealpaca, lr 8e-4) "
                + "is better than %d of %d merges on gsm-hard beyond the interval.%n%n",
                verdict, beaten, merges, beating, datamixBeaten, merges));
        numbers.putObject("finding_4").put("merges", merges).put("worse_than_baseline", beaten)
                .put("better_than_baseline", beating).put("worse_than_datamix", datamixBeaten)
                .put("verdict", verdict.replace("*", ""));
    }

    // --- Finding 5: CKA heatmaps ---------------------------------------------------------------------------------

    private void heatmaps() {
        md.append("## 5. CKA heatmaps (Figure 7)\n\n");
        List<double[][]> intra = new ArrayList<>();
        List<String> names = new ArrayList<>();
        intra.add(matrix(baseCka, "intra_a"));
        names.add("base (WikiText)");
        for (Reproduction.SeedRun run : seeds) {
            intra.add(matrix(run.finalCka(), "intra_a"));
            names.add("final math, seed " + run.seed() + " (gsm-hard)");
            intra.add(matrix(run.finalCka(), "intra_b"));
            names.add("final code, seed " + run.seed() + " (gsm-hard)");
        }
        md.append("Within one model (residual stream after each block, window means, linear CKA, as "
                + "`compute_kernel.py`):\n\n| model | adjacent layers | layers two or more apart | adjacent higher |\n"
                + "|---|---|---|---|\n");
        int adjacentHigher = 0;
        for (int i = 0; i < intra.size(); i++) {
            double adjacent = offDiagonalMean(intra.get(i), true);
            double farther = offDiagonalMean(intra.get(i), false);
            adjacentHigher += adjacent > farther ? 1 : 0;
            md.append(String.format(Locale.ROOT, "| %s | %.4f | %.4f | %s |%n", names.get(i), adjacent, farther,
                    adjacent > farther ? "yes" : "no"));
        }
        double[] early = seeds.stream().mapToDouble(run -> diagonalMean(matrix(run.earlyCka(), "inter"))).toArray();
        double[] last = seeds.stream().mapToDouble(run -> diagonalMean(matrix(run.finalCka(), "inter"))).toArray();
        double[] change = new double[early.length];
        for (int i = 0; i < change.length; i++) {
            change[i] = last[i] - early[i];
        }
        double[] changeInterval = overSeeds(change);
        boolean falls = changeInterval[1] < 0;
        String verdict = adjacentHigher == intra.size() && falls ? "**Reproduced**"
                : adjacentHigher > 0 || falls ? "**Partly reproduced**" : "**Not reproduced**";
        md.append(String.format(Locale.ROOT, "%nBetween the specialists, same-layer CKA on gsm-hard: %s at step %d, "
                + "%s at step %d; change %s (over seeds [%+.4f, %+.4f]).%n%n%s: adjacent layers are the most similar in "
                + "%d of %d matrices, and the specialists' similarity %s as they specialise.%n%n",
                meanSd(early, "%.4f"), options.scale().checkpointEvery(), meanSd(last, "%.4f"), options.scale().steps(),
                meanSd(change, "%+.4f"), changeInterval[0], changeInterval[1], verdict, adjacentHigher, intra.size(),
                falls ? "falls beyond the seeds' spread" : "does not fall beyond the seeds' spread"));
        numbers.putObject("finding_5").put("adjacent_higher", adjacentHigher).put("matrices", intra.size())
                .put("similarity_falls", falls).put("verdict", verdict.replace("*", ""));
    }

    private static double[][] matrix(JsonNode view, String name) {
        JsonNode rows = view.path("matrices").path(name);
        double[][] values = new double[rows.size()][];
        for (int i = 0; i < values.length; i++) {
            values[i] = new double[rows.get(i).size()];
            for (int j = 0; j < values[i].length; j++) {
                values[i][j] = rows.get(i).get(j).asDouble();
            }
        }
        return values;
    }

    /** The mean of the entries one layer apart ({@code adjacent}), or of those two or more apart. */
    static double offDiagonalMean(double[][] matrix, boolean adjacent) {
        double sum = 0;
        int n = 0;
        for (int i = 0; i < matrix.length; i++) {
            for (int j = 0; j < matrix.length; j++) {
                int apart = Math.abs(i - j);
                if (adjacent ? apart == 1 : apart >= 2) {
                    sum += matrix[i][j];
                    n++;
                }
            }
        }
        return n == 0 ? Double.NaN : sum / n;
    }

    private static double diagonalMean(double[][] matrix) {
        double sum = 0;
        for (int i = 0; i < matrix.length; i++) {
            sum += matrix[i][i];
        }
        return sum / matrix.length;
    }

    // --- The compatibility score ---------------------------------------------------------------------------------

    private void compatibilityScore() {
        JsonNode result = compatibility.path("result");
        JsonNode model = result.path("model");
        JsonNode sweep = seeds.get(0).sweep().path("result").path("rows");
        JsonNode realised = sweep.get(sweep.size() - 1).path("gain_over_better_expert");
        md.append("## Compatibility score\n\n");
        md.append(String.format(Locale.ROOT, "Fitted on this tenant's %s sweeps (%s steps); held-out Spearman (each "
                + "sweep predicted from the others) %s over %s predictions. For seed 0's final specialists it measured "
                + "CKA %s on %s gsm-hard windows and predicted a gain over the better expert of %s; the sweep realised "
                + "%s at that step. Recommendation: \"%s\".%n%n",
                model.path("sweeps").asString(), model.path("observations").asString(), num(model.path("held_out_spearman")),
                model.path("held_out_predictions").asString(), num(result.path("cka")), result.path("windows").asString(),
                interval(result.path("predicted_gain"), "gain"), interval(realised, "gain"),
                result.path("recommendation").asString()));
        numbers.set("compatibility", result);
    }

    private void wallTime() {
        md.append("## Wall time (the service's job durations)\n\n| job | seconds |\n|---|---|\n");
        md.append("| pretrain | ").append(jobSeconds(pretrain)).append(" |\n");
        long specialists = 0;
        long sweeps = 0;
        for (Reproduction.SeedRun run : seeds) {
            specialists += jobSeconds(run.math()) + jobSeconds(run.code());
            sweeps += jobSeconds(run.sweep());
        }
        md.append("| specialists (").append(2 * seeds.size()).append(") | ").append(specialists).append(" |\n");
        md.append("| sweeps (").append(seeds.size()).append(") | ").append(sweeps).append(" |\n");
        md.append("| merge (methods, routers over seeds, both baselines over seeds) | ").append(jobSeconds(merge)).append(" |\n");
        md.append("| compatibility | ").append(jobSeconds(compatibility)).append(" |\n");
        md.append("| **first submission to last end** | **").append(runSeconds()).append("** |\n");
    }

    /**
     * From the first job's submission to the last one's end, as the service recorded them: the run's wall time,
     * the same when a rerun re-reads the jobs.
     */
    private long runSeconds() {
        List<JsonNode> jobs = new ArrayList<>(List.of(pretrain, merge, compatibility));
        for (Reproduction.SeedRun run : seeds) {
            jobs.addAll(List.of(run.math(), run.code(), run.sweep()));
        }
        Instant first = jobs.stream().map(job -> Instant.parse(job.path("created_at").asString())).min(Instant::compareTo)
                .orElseThrow();
        Instant last = jobs.stream().map(job -> Instant.parse(job.path("finished_at").asString())).max(Instant::compareTo)
                .orElseThrow();
        return Duration.between(first, last).toSeconds();
    }

    // --- Formatting and small statistics ---------------------------------------------------------------------------

    private static JsonNode row(JsonNode sweep, long step) {
        for (JsonNode row : sweep.path("rows")) {
            if (row.path("step").asLong() == step) {
                return row;
            }
        }
        throw new IllegalStateException("the sweep has no row at step " + step);
    }

    private static double[] seedLosses(JsonNode row) {
        JsonNode losses = row.path("seeds").path("losses");
        if (!losses.isArray()) {
            return new double[] {row.path("loss").asDouble()};
        }
        double[] values = new double[losses.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = losses.get(i).asDouble();
        }
        return values;
    }

    private static String seedSpread(JsonNode row) {
        JsonNode seeds = row.path("seeds");
        return seeds.isObject() ? String.format(Locale.ROOT, "%.4f ± %.4f (n = %d)", seeds.path("mean").asDouble(),
                seeds.path("sd").asDouble(), seeds.path("n").asInt()) : "–";
    }

    /** A t-interval for the mean of {@code values} over seeds. */
    static double[] overSeeds(double[] values) {
        if (values.length < 2) {
            return new double[] {Double.NaN, Double.NaN};
        }
        double mean = StatUtils.mean(values);
        double half = new TDistribution(values.length - 1).inverseCumulativeProbability(0.975)
                * Math.sqrt(StatUtils.variance(values) / values.length);
        return new double[] {mean - half, mean + half};
    }

    /** Welch's 95% interval for mean(a) − mean(b) over seeds. */
    static double[] welch(double[] a, double[] b) {
        if (a.length < 2 || b.length < 2) {
            return new double[] {Double.NaN, Double.NaN};
        }
        double va = StatUtils.variance(a) / a.length;
        double vb = StatUtils.variance(b) / b.length;
        double difference = StatUtils.mean(a) - StatUtils.mean(b);
        double df = va + vb == 0 ? a.length + b.length - 2
                : (va + vb) * (va + vb) / (va * va / (a.length - 1) + vb * vb / (b.length - 1));
        double half = new TDistribution(Math.max(1, df)).inverseCumulativeProbability(0.975) * Math.sqrt(va + vb);
        return new double[] {difference - half, difference + half};
    }

    private static double[] array(List<Double> values) {
        return values.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static String meanSd(double[] values, String format) {
        double mean = StatUtils.mean(values);
        return String.format(Locale.ROOT, format + " ± " + format.replace("+", ""), mean,
                values.length < 2 ? 0.0 : Math.sqrt(StatUtils.variance(values, mean)));
    }

    private static String withSe(JsonNode row) {
        return Markdown.withSe(row, "loss");
    }
}
