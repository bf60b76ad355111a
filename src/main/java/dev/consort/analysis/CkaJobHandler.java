package dev.consort.analysis;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.stereotype.Component;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.consort.checkpoint.Checkpoint;
import dev.consort.checkpoint.CheckpointModels;
import dev.consort.dataset.DatasetTokens;
import dev.consort.dataset.Split;
import dev.consort.engine.Devices;
import dev.consort.engine.Gpt2Model;
import dev.consort.engine.TokenSequence;
import dev.consort.job.spec.CkaSpec;
import dev.consort.worker.JobContext;
import dev.consort.worker.JobFailedException;
import dev.consort.worker.JobHandler;

/**
 * {@code cka}: every layer of model A (and B) on the same deterministic windows of a dataset, their
 * representations (MLP output or residual stream; per token or per-window mean) fed batch by batch to
 * one {@link CkaAccumulator}, and the L×L matrices intra A, intra B and inter A×B stored in PostgreSQL.
 * The accumulation is float64 and streaming, so the result does not depend on the batch size.
 */
@Component
class CkaJobHandler implements JobHandler<CkaSpec> {

    static final int DEFAULT_CONTEXT = 256;
    static final int DEFAULT_WINDOWS = 64;
    static final int DEFAULT_BATCH = 8;

    private final CheckpointModels models;
    private final DatasetTokens datasets;
    private final CkaResultStore results;
    private final ObjectProvider<CkaFeatureHook> hook;

    CkaJobHandler(CheckpointModels models, DatasetTokens datasets, CkaResultStore results,
            ObjectProvider<CkaFeatureHook> hook) {
        this.models = models;
        this.datasets = datasets;
        this.results = results;
        this.hook = hook;
    }

    @Override
    public String type() {
        return "cka";
    }

    @Override
    public Class<CkaSpec> specType() {
        return CkaSpec.class;
    }

    @Override
    public List<dev.consort.web.ApiProblem.FieldError> validate(CkaSpec spec) {
        List<dev.consort.web.ApiProblem.FieldError> errors = new ArrayList<>();
        Checkpoint a = models.checkpoint(spec.modelAId());
        if (spec.context() != null && spec.context() > a.nPositions()) {
            errors.add(new dev.consort.web.ApiProblem.FieldError("context",
                    "exceeds model A's n_positions (" + a.nPositions() + ")"));
        }
        if (spec.modelBId() != null) {
            Checkpoint b = models.checkpoint(spec.modelBId());
            if (spec.context() != null && spec.context() > b.nPositions()) {
                errors.add(new dev.consort.web.ApiProblem.FieldError("context",
                        "exceeds model B's n_positions (" + b.nPositions() + ")"));
            }
            if (b.vocabSize() != a.vocabSize()) {
                errors.add(new dev.consort.web.ApiProblem.FieldError("model_b_id",
                        "vocab_size " + b.vocabSize() + " differs from model A's " + a.vocabSize()));
            }
        }
        if ("debiased".equals(spec.estimator()) && "mean".equals(spec.pooling())
                && spec.windows() != null && spec.windows() < 4) {
            errors.add(new dev.consort.web.ApiProblem.FieldError("windows",
                    "the debiased estimator needs at least 4 rows; with mean pooling a window is a row"));
        }
        return errors;
    }

    @Override
    public Object run(CkaSpec spec, JobContext job) throws Exception {
        Checkpoint a = models.checkpoint(spec.modelAId());
        Checkpoint b = spec.modelBId() == null ? null : models.checkpoint(spec.modelBId());
        int context = spec.context() != null ? spec.context()
                : Math.min(DEFAULT_CONTEXT, b == null ? a.nPositions() : Math.min(a.nPositions(), b.nPositions()));
        int wanted = spec.windows() == null ? DEFAULT_WINDOWS : spec.windows();
        int batch = spec.batchSize() == null ? DEFAULT_BATCH : spec.batchSize();
        boolean residual = "residual".equals(spec.representation());
        boolean mean = "mean".equals(spec.pooling());
        CkaEstimator estimator = CkaEstimator.named(spec.estimator() == null ? "linear" : spec.estimator());
        Split split = "train".equals(spec.split()) ? Split.TRAIN : Split.VALIDATION;

        TokenSequence tokens = datasets.sequence(spec.datasetId(), split);
        long available = tokens == null ? 0 : tokens.length() / context;
        int windows = (int) Math.min(wanted, available);
        long rowsTotal = mean ? windows : (long) windows * context;
        if (windows == 0 || (estimator == CkaEstimator.DEBIASED && rowsTotal < 4)) {
            throw new JobFailedException("dataset_too_small", "the " + split.wireName() + " split of dataset "
                    + spec.datasetId() + " has " + (tokens == null ? 0 : tokens.length()) + " tokens: too few for "
                    + (windows == 0 ? "one window of " + context : "the debiased estimator"));
        }
        var device = Devices.parse(job.device());
        try (Gpt2Model modelA = models.load(a.id(), device);
             Gpt2Model modelB = b == null ? null : models.load(b.id(), device)) {
            int layersA = modelA.config().nLayer();
            int layersB = modelB == null ? 0 : modelB.config().nLayer();
            List<Integer> widths = new ArrayList<>();
            for (int i = 0; i < layersA; i++) {
                widths.add(modelA.config().nEmbd());
            }
            for (int i = 0; i < layersB; i++) {
                widths.add(modelB.config().nEmbd());
            }
            CkaMatrix all;
            boolean gradMode = JniUtils.isGradMode();
            JniUtils.setGradMode(false);
            try (CkaAccumulator accumulator = new CkaAccumulator(modelA.manager(), widths)) {
                for (int first = 0; first < windows; first += batch) {
                    job.checkCancelled();
                    int rows = Math.min(batch, windows - first);
                    int[] ids = new int[rows * context];
                    for (int row = 0; row < rows; row++) {
                        tokens.copy((long) (first + row) * context, ids, row * context, context);
                    }
                    try (NDManager scope = modelA.manager().newSubManager()) {
                        List<NDArray> representations = new ArrayList<>(features(modelA, scope, ids, rows, context,
                                residual, mean));
                        if (modelB != null) {
                            List<NDArray> featuresB = features(modelB, scope, ids, rows, context, residual, mean);
                            CkaFeatureHook transform = hook.getIfAvailable();
                            for (int layer = 0; layer < featuresB.size(); layer++) {
                                representations.add(transform == null ? featuresB.get(layer)
                                        : transform.modelB(layer, featuresB.get(layer)));
                            }
                        }
                        accumulator.add(representations);
                    }
                    job.progress(Map.of("windows", first + rows, "of", windows));
                }
                all = accumulator.similarity(estimator);
            } finally {
                JniUtils.setGradMode(gradMode);
            }
            results.save(job.jobId(), "intra_a", all.block(0, 0, layersA, layersA));
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("layers_a", layersA);
            result.put("rows", rowsTotal);
            result.put("windows", windows);
            result.put("context", context);
            if (modelB != null) {
                CkaMatrix inter = all.block(0, layersA, layersA, layersB);
                results.save(job.jobId(), "intra_b", all.block(layersA, layersA, layersB, layersB));
                results.save(job.jobId(), "inter", inter);
                result.put("layers_b", layersB);
                result.put("inter_diagonal_mean", diagonalMean(inter));
            }
            result.put("matrices", modelB == null ? List.of("intra_a") : List.of("intra_a", "intra_b", "inter"));
            return result;
        }
    }

    /** Each layer's representation of the batch, pooled: [rows·T, C] per token or [rows, C] per window. */
    static List<NDArray> features(Gpt2Model model, NDManager scope, int[] ids, int rows, int context,
            boolean residual, boolean mean) {
        NDArray tokens = scope.create(ids, new Shape(rows, context));                                // [B, T]
        NDArray[] captured = new NDArray[model.config().nLayer()];
        model.forward(tokens, (layer, mlpOutput, residualStream) ->
                captured[layer] = residual ? residualStream : mlpOutput, null);                    // [B, T, C] each
        List<NDArray> pooled = new ArrayList<>();
        for (NDArray layer : captured) {
            pooled.add(mean ? layer.mean(new int[] {1})                                              // [B, C]
                    : layer.reshape(-1, layer.getShape().get(2)));                                   // [B·T, C]
        }
        return pooled;
    }

    private static double diagonalMean(CkaMatrix matrix) {
        int n = Math.min(matrix.rows(), matrix.columns());
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += matrix.get(i, i);
        }
        return sum / n;
    }

}
