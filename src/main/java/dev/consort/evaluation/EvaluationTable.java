package dev.consort.evaluation;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.springframework.stereotype.Component;

import ai.djl.Device;
import dev.consort.checkpoint.CheckpointModels;
import dev.consort.dataset.DatasetTokens;
import dev.consort.dataset.Split;
import dev.consort.engine.Evaluator;
import dev.consort.engine.Gpt2Model;
import dev.consort.engine.TokenSequence;
import dev.consort.job.JobContext;
import dev.consort.job.JobFailedException;

/**
 * The rows of a results table: one model on every dataset of an {@link EvaluationPlan}, each row
 * ({@link ResultRow}) its loss on the same deterministic windows, so that rows of different models compare
 * window by window ({@link ResultsTable}). Evaluate and merge jobs both score their models here.
 */
@Component
public class EvaluationTable {

    /** A model a table can score: a checkpoint's, or a routed model's forward pass. */
    public interface ScoredModel {
        int nPositions();

        Evaluator.Result evaluate(TokenSequence tokens, int context, int maxWindows, int batchSize);

        static ScoredModel of(Gpt2Model model) {
            return new ScoredModel() {
                @Override
                public int nPositions() {
                    return model.config().nPositions();
                }

                @Override
                public Evaluator.Result evaluate(TokenSequence tokens, int context, int maxWindows, int batchSize) {
                    return Evaluator.evaluate(model, tokens, context, maxWindows, batchSize);
                }
            };
        }
    }

    private final CheckpointModels models;
    private final DatasetTokens datasets;

    EvaluationTable(CheckpointModels models, DatasetTokens datasets) {
        this.models = models;
        this.datasets = datasets;
    }

    /** A stored checkpoint's rows: loaded onto {@code device}, scored, closed. */
    public List<ResultRow> checkpoint(JobContext job, EvaluationPlan plan, UUID checkpointId, Device device,
            Map<String, Object> identity, Map<String, Object> trailing) throws Exception {
        try (Gpt2Model model = models.load(checkpointId, device)) {
            return rows(job, plan, ScoredModel.of(model), identity, trailing);
        }
    }

    /** A model's rows, one per dataset of the plan, in order; cancellation is checked before each. */
    public List<ResultRow> rows(JobContext job, EvaluationPlan plan, ScoredModel model,
            Map<String, Object> identity, Map<String, Object> trailing) throws IOException {
        List<ResultRow> rows = new ArrayList<>();
        for (UUID dataset : plan.datasetIds()) {
            job.checkCancelled();
            Split split = splitOf(plan, dataset);
            TokenSequence tokens = datasets.sequence(dataset, split);
            int context = plan.contextFor(tokens, model.nPositions());
            if (tokens == null || Evaluator.windowCount(tokens.length(), context, plan.maxWindows()) == 0) {
                throw new JobFailedException("dataset_too_small", "the " + split.wireName() + " split of dataset "
                        + dataset + " has " + (tokens == null ? 0 : tokens.length()) + " tokens, fewer than context + 1 = "
                        + (context + 1));
            }
            rows.add(new ResultRow(identity, dataset, split, context,
                    model.evaluate(tokens, context, plan.maxWindows(), plan.batchSize()), trailing));
        }
        return rows;
    }

    /** The tokens of {@code dataset} the plan scores (its split), or null for an empty split. */
    public TokenSequence tokens(EvaluationPlan plan, UUID dataset) throws IOException {
        return datasets.sequence(dataset, splitOf(plan, dataset));
    }

    /** The split the plan asks for, or validation when the dataset has one and train otherwise. */
    private Split splitOf(EvaluationPlan plan, UUID dataset) {
        if (plan.split() != null) {
            return plan.split();
        }
        return datasets.heldOutSplit(dataset);
    }
}
