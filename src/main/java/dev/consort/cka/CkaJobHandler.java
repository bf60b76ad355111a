package dev.consort.cka;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.stereotype.Component;

import dev.consort.checkpoint.Checkpoint;
import dev.consort.checkpoint.CheckpointModels;
import dev.consort.dataset.DatasetTokens;
import dev.consort.dataset.Split;
import dev.consort.engine.Devices;
import dev.consort.engine.Gpt2Model;
import dev.consort.engine.MemoryEstimate;
import dev.consort.engine.TokenSequence;
import dev.consort.job.InvalidSpecException;
import dev.consort.job.JobContext;
import dev.consort.job.JobFailedException;
import dev.consort.job.JobHandler;
import dev.consort.job.spec.JobBudgets;
import dev.consort.job.spec.JobDefaults;
import dev.consort.web.ApiProblem.FieldError;

/**
 * {@code cka}: every layer of model A (and B) on the same deterministic windows of a dataset
 * ({@link LayerSimilarity}), and the L×L matrices intra A, intra B and inter A×B stored in PostgreSQL.
 */
@Component
class CkaJobHandler implements JobHandler<CkaSpec, CkaSpec> {

    private final CheckpointModels models;
    private final DatasetTokens datasets;
    private final CkaResultStore results;
    private final ObjectProvider<CkaFeatureHook> hook;
    private final JobBudgets budgets;

    CkaJobHandler(CheckpointModels models, DatasetTokens datasets, CkaResultStore results,
            ObjectProvider<CkaFeatureHook> hook, JobBudgets budgets) {
        this.models = models;
        this.datasets = datasets;
        this.results = results;
        this.hook = hook;
        this.budgets = budgets;
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
    public Class<CkaSpec> planType() {
        return CkaSpec.class;
    }

    @Override
    public CkaSpec plan(CkaSpec spec) throws InvalidSpecException {
        List<FieldError> errors = new ArrayList<>();
        Checkpoint a = models.checkpoint(spec.modelAId());
        if (spec.context() != null && spec.context() > a.nPositions()) {
            errors.add(new FieldError("context",
                    "exceeds model A's n_positions (" + a.nPositions() + ")"));
        }
        if (spec.modelBId() != null) {
            Checkpoint b = models.checkpoint(spec.modelBId());
            if (spec.context() != null && spec.context() > b.nPositions()) {
                errors.add(new FieldError("context",
                        "exceeds model B's n_positions (" + b.nPositions() + ")"));
            }
            if (b.vocabSize() != a.vocabSize()) {
                errors.add(new FieldError("model_b_id",
                        "vocab_size " + b.vocabSize() + " differs from model A's " + a.vocabSize()));
            }
        }
        if ("debiased".equals(spec.estimator()) && "mean".equals(spec.pooling())
                && spec.windows() != null && spec.windows() < 4) {
            errors.add(new FieldError("windows",
                    "the debiased estimator needs at least 4 rows; with mean pooling a window is a row"));
        }
        InvalidSpecException.throwIfAny(errors);
        Checkpoint b = spec.modelBId() == null ? null : models.checkpoint(spec.modelBId());
        InvalidSpecException.throwIfAny(budgets.check(JobBudgets.Estimate.memoryOnly("batch_size",
                MemoryEstimate.similarity(models.config(a), b == null ? null : models.config(b), batch(spec),
                        context(spec, a, b), CkaAccumulator.DEFAULT_ROWS_PER_PRODUCT))));
        return spec;
    }

    /** The window length: the spec's, or the default within both models' positions. */
    private static int context(CkaSpec spec, Checkpoint a, Checkpoint b) {
        return spec.context() != null ? spec.context()
                : JobDefaults.context(b == null ? a.nPositions() : Math.min(a.nPositions(), b.nPositions()));
    }

    private static int batch(CkaSpec spec) {
        return spec.batchSize() == null ? JobDefaults.BATCH_SIZE : spec.batchSize();
    }

    @Override
    public Object run(CkaSpec spec, JobContext job) throws Exception {
        Checkpoint a = models.checkpoint(spec.modelAId());
        Checkpoint b = spec.modelBId() == null ? null : models.checkpoint(spec.modelBId());
        int context = context(spec, a, b);
        int wanted = spec.windows() == null ? JobDefaults.CKA_WINDOWS : spec.windows();
        int batch = batch(spec);
        CkaEstimator estimator = CkaEstimator.named(spec.estimator() == null ? "linear" : spec.estimator());
        Split split = "train".equals(spec.split()) ? Split.TRAIN : Split.VALIDATION;

        TokenSequence tokens = datasets.sequence(spec.datasetId(), split);
        long available = tokens == null ? 0 : tokens.length() / context;
        LayerSimilarity.Sample sample = new LayerSimilarity.Sample(context, (int) Math.min(wanted, available), batch,
                "residual".equals(spec.representation()), "mean".equals(spec.pooling()));
        if (sample.windows() == 0 || (estimator == CkaEstimator.DEBIASED && sample.rows() < 4)) {
            throw new JobFailedException("dataset_too_small", "the " + split.wireName() + " split of dataset "
                    + spec.datasetId() + " has " + (tokens == null ? 0 : tokens.length()) + " tokens: too few for "
                    + (sample.windows() == 0 ? "one window of " + context : "the debiased estimator"));
        }
        var device = Devices.parse(job.device());
        try (Gpt2Model modelA = models.load(a.id(), device);
             Gpt2Model modelB = b == null ? null : models.load(b.id(), device)) {
            CkaMatrix all = LayerSimilarity.compute(modelA, modelB, tokens, sample, estimator, hook.getIfAvailable(),
                    new LayerSimilarity.Progress() {
                        @Override
                        public void checkStop() {
                            job.checkCancelled();
                        }

                        @Override
                        public void onBatch(int windowsDone, int windows) {
                            job.progress(Map.of("windows", windowsDone, "of", windows));
                        }
                    });
            int layersA = modelA.config().nLayer();
            // All matrices in one fenced write: a worker that lost the job replaces none of the winner's.
            job.writeOutput(() -> {
                results.save(job.jobId(), "intra_a", all.block(0, 0, layersA, layersA));
                if (modelB != null) {
                    int layersB = modelB.config().nLayer();
                    results.save(job.jobId(), "intra_b", all.block(layersA, layersA, layersB, layersB));
                    results.save(job.jobId(), "inter", all.block(0, layersA, layersA, layersB));
                }
                return null;
            });
            Map<String, Object> result = new LinkedHashMap<>();
            result.put("layers_a", layersA);
            result.put("rows", sample.rows());
            result.put("windows", sample.windows());
            result.put("context", context);
            if (modelB != null) {
                int layersB = modelB.config().nLayer();
                CkaMatrix inter = all.block(0, layersA, layersA, layersB);
                result.put("layers_b", layersB);
                result.put("inter_diagonal_mean", inter.diagonalMean());
            }
            result.put("matrices", modelB == null ? List.of("intra_a") : List.of("intra_a", "intra_b", "inter"));
            return result;
        }
    }
}
