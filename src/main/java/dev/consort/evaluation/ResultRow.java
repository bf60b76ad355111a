package dev.consort.evaluation;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

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

    public ResultRow {
        identity = Collections.unmodifiableMap(new LinkedHashMap<>(identity));
        trailing = Collections.unmodifiableMap(new LinkedHashMap<>(trailing));
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
        row.putAll(trailing);
        return row;
    }
}
