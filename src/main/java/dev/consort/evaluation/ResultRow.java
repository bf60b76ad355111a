package dev.consort.evaluation;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.apache.commons.math3.stat.StatUtils;

import dev.consort.dataset.Split;
import dev.consort.engine.Evaluator;

/**
 * One cell of a results table: a model's loss on a dataset's deterministic windows, with what identifies the
 * model (given by the job: {@code checkpoint_id}, or {@code method}, {@code label}, {@code parameters}) and what
 * the job appends ({@code output_kind}, {@code output_id}). Its per-window losses stay here, for paired
 * comparisons with other rows of the same windows.
 */
public record ResultRow(Map<String, Object> identity, UUID datasetId, Split split, int context,
        Evaluator.Result result, Map<String, Object> trailing) {

    /** The trailing field of a row's task accuracy ({@link ExactMatch}), when the plan asks for it. */
    static final String EXACT_MATCH = "exact_match";

    public ResultRow {
        identity = Collections.unmodifiableMap(new LinkedHashMap<>(identity));
        trailing = Collections.unmodifiableMap(new LinkedHashMap<>(trailing));
    }

    /**
     * The same model made several times (router fittings or baselines with seeds seed, seed + 1, ...), as one row
     * per dataset: each window's loss averaged over the runs, so that paired comparisons see the mean model, and
     * {@code seeds: {n, mean, sd, losses}} for the spread between runs. {@code runs} are one row per run, all of
     * one dataset and the same windows; the first run's identity and trailing fields are kept, except exact_match:
     * the runs' answers pooled, and each run's accuracy in {@code seeds.exact_match}.
     */
    public static ResultRow acrossSeeds(List<ResultRow> runs) {
        ResultRow first = runs.get(0);
        if (runs.size() == 1) {
            return first;
        }
        double[] windows = new double[first.result().windowLosses().length];
        double[] losses = new double[runs.size()];
        for (int r = 0; r < runs.size(); r++) {
            double[] own = runs.get(r).result().windowLosses();
            for (int w = 0; w < windows.length; w++) {
                windows[w] += own[w] / runs.size();
            }
            losses[r] = runs.get(r).loss();
        }
        double mean = StatUtils.mean(losses);
        Map<String, Object> seeds = new LinkedHashMap<>();
        seeds.put("n", runs.size());
        seeds.put("mean", mean);
        seeds.put("sd", Math.sqrt(StatUtils.variance(losses, mean)));
        seeds.put("losses", java.util.Arrays.stream(losses).boxed().toList());
        Map<String, Object> trailing = new LinkedHashMap<>(first.trailing());
        if (first.trailing().get(EXACT_MATCH) instanceof ExactMatch.Score) {
            List<ExactMatch.Score> scores = runs.stream().map(r -> (ExactMatch.Score) r.trailing().get(EXACT_MATCH))
                    .toList();
            trailing.put(EXACT_MATCH, ExactMatch.Score.pooled(scores));
            seeds.put(EXACT_MATCH, scores.stream().map(s -> s.n() == 0 ? null : (double) s.correct() / s.n()).toList());
        }
        trailing.put("seeds", seeds);
        return new ResultRow(first.identity(), first.datasetId(), first.split(), first.context(),
                new Evaluator.Result(mean, first.result().tokens(), first.result().windows(), windows), trailing);
    }

    /** The identity field {@code name} (e.g. {@code method}), or null. */
    public Object identity(String name) {
        return identity.get(name);
    }

    public double loss() {
        return result.loss();
    }

    /**
     * The row as the API shows it: the identity, then {@code dataset_id}, {@code split}, {@code context},
     * {@code windows}, {@code tokens}, {@code loss}, {@code loss_se} (its standard error over the windows), then
     * the trailing fields.
     */
    public Map<String, Object> toMap() {
        Map<String, Object> row = new LinkedHashMap<>(identity);
        row.put("dataset_id", datasetId);
        row.put("split", split.wireName());
        row.put("context", context);
        row.put("windows", result.windows());
        row.put("tokens", result.tokens());
        row.put("loss", result.loss());
        double standardError = result.standardError();
        row.put("loss_se", Double.isNaN(standardError) ? null : standardError);
        trailing.forEach((name, value) -> row.put(name, value instanceof ExactMatch.Score score ? score.toMap() : value));
        return row;
    }
}
