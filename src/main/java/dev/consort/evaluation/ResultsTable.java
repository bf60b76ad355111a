package dev.consort.evaluation;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Predicate;

/**
 * A job's results table as it fills up, and its rendering: every row with its loss and standard error and,
 * for each named comparison, its paired difference from a reference row of the same dataset over the same
 * windows, with a 95% interval ({@link Interval#ofDifference}). The reference of a comparison is, per
 * dataset, the lowest-loss row among those it selects (the better expert, the baseline).
 */
public final class ResultsTable {

    /** A comparison every row gets: its name in the row and which rows may be its reference. */
    public record Comparison(String name, Predicate<ResultRow> candidates) {}

    private final List<ResultRow> rows = new ArrayList<>();

    public void addAll(List<ResultRow> more) {
        rows.addAll(more);
    }

    /**
     * One model made once per seed, {@code runs} holding each run's rows in the same dataset order, as one row
     * per dataset ({@link ResultRow#acrossSeeds}).
     */
    public void addAcrossSeeds(List<List<ResultRow>> runs) {
        for (int d = 0; d < runs.get(0).size(); d++) {
            int dataset = d;
            rows.add(ResultRow.acrossSeeds(runs.stream().map(run -> run.get(dataset)).toList()));
        }
    }

    public List<ResultRow> rows() {
        return List.copyOf(rows);
    }

    /** The rows as the API shows them, each with {@code name: {label, difference, ci95_low, ci95_high, n}} per comparison. */
    public List<Map<String, Object>> render(List<Comparison> comparisons) {
        List<Map<String, Object>> rendered = new ArrayList<>();
        for (ResultRow row : rows) {
            Map<String, Object> map = row.toMap();
            for (Comparison comparison : comparisons) {
                ResultRow reference = reference(comparison, row.datasetId());
                if (reference != null) {
                    map.put(comparison.name(), difference(row, reference));
                }
            }
            rendered.add(map);
        }
        return rendered;
    }

    /** The lowest-loss row of the dataset that the comparison selects, or null when it selects none. */
    private ResultRow reference(Comparison comparison, UUID dataset) {
        ResultRow best = null;
        for (ResultRow candidate : rows) {
            if (candidate.datasetId().equals(dataset) && comparison.candidates().test(candidate)
                    && (best == null || candidate.loss() < best.loss())) {
                best = candidate;
            }
        }
        return best;
    }

    /** Row − reference, window by window; negative means the row's loss is lower. */
    private static Map<String, Object> difference(ResultRow row, ResultRow reference) {
        Map<String, Object> difference = new LinkedHashMap<>();
        difference.put("label", reference.identity("label") != null ? reference.identity("label")
                : reference.identity("checkpoint_id"));
        double[] a = row.result().windowLosses();
        double[] b = reference.result().windowLosses();
        if (a.length != b.length || row.context() != reference.context()) {
            // Not the same windows: no paired comparison (a job evaluates every model on the same ones).
            difference.put("difference", row.loss() - reference.loss());
            return difference;
        }
        difference.putAll(Interval.ofDifference(a, b).toMap("difference"));
        return difference;
    }
}
