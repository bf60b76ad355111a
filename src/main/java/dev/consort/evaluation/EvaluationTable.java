package dev.consort.evaluation;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;

import org.springframework.stereotype.Component;

import ai.djl.Device;
import dev.consort.checkpoint.CheckpointModels;
import dev.consort.dataset.DatasetTokens;
import dev.consort.dataset.Gpt2Tokenizer;
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
        /** The model whose embeddings, attention and layer norms run. */
        Gpt2Model shared();

        /** A fresh MLP override for each forward pass (a routed model's mixture); null for the model's own MLPs. */
        Supplier<Gpt2Model.MlpOverride> passes();

        Evaluator.Result evaluate(TokenSequence tokens, int context, int maxWindows, int batchSize);

        default int nPositions() {
            return shared().config().nPositions();
        }

        static ScoredModel of(Gpt2Model model) {
            return new ScoredModel() {
                @Override
                public Gpt2Model shared() {
                    return model;
                }

                @Override
                public Supplier<Gpt2Model.MlpOverride> passes() {
                    return null;
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
    private final Gpt2Tokenizer tokenizer;

    EvaluationTable(CheckpointModels models, DatasetTokens datasets, Gpt2Tokenizer tokenizer) {
        this.models = models;
        this.datasets = datasets;
        this.tokenizer = tokenizer;
    }

    /** A stored checkpoint's rows: loaded onto {@code device}, scored, closed. */
    public List<ResultRow> checkpoint(JobContext job, EvaluationPlan plan, UUID checkpointId, Device device,
            Map<String, Object> identity, Map<String, Object> trailing) throws Exception {
        try (Gpt2Model model = models.load(checkpointId, device)) {
            return rows(job, plan, ScoredModel.of(model), identity, trailing);
        }
    }

    /**
     * A model's rows, one per dataset of the plan, in order; cancellation is checked before each. With the plan's
     * exact_match, each row's {@code exact_match} follows its loss: the model greedy-generates after each record's
     * prompt.
     */
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
            Evaluator.Result loss = model.evaluate(tokens, context, plan.maxWindows(), plan.batchSize());
            Map<String, Object> scored = trailing;
            if (plan.exactMatch() != null) {
                job.event("exact_match", "generating answers on dataset " + dataset,
                        Map.of("label", String.valueOf(identity.getOrDefault("label", identity.get("checkpoint_id"))),
                                "dataset_id", dataset));
                scored = new LinkedHashMap<>(trailing);
                scored.put(ResultRow.EXACT_MATCH, ExactMatch.score(model, tokens, plan.exactMatch(), tokenizer,
                        job::checkCancelled));
            }
            rows.add(new ResultRow(identity, dataset, split, context, loss, scored));
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
