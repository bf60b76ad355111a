package dev.consort.evaluation;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.springframework.stereotype.Component;

import dev.consort.checkpoint.Checkpoint;
import dev.consort.checkpoint.CheckpointModels;
import dev.consort.dataset.DatasetTokens;
import dev.consort.dataset.Split;
import dev.consort.engine.Devices;
import dev.consort.engine.Evaluator;
import dev.consort.engine.Gpt2Model;
import dev.consort.engine.TokenSequence;
import dev.consort.job.JobContext;
import dev.consort.job.JobFailedException;
import dev.consort.job.JobHandler;
import dev.consort.job.spec.JobDefaults;

/**
 * {@code evaluate}: the loss of every checkpoint on every dataset over the deterministic windows
 * (window k: inputs s[kT:(k+1)T], targets shifted by one; mean cross-entropy over every position), so
 * anyone with the token file can reproduce a number. Runs without gradients, beside training.
 */
@Component
class EvaluateJobHandler implements JobHandler<EvaluateSpec, EvaluateSpec> {

    private final CheckpointModels models;
    private final DatasetTokens datasets;

    EvaluateJobHandler(CheckpointModels models, DatasetTokens datasets) {
        this.models = models;
        this.datasets = datasets;
    }

    @Override
    public String type() {
        return "evaluate";
    }

    @Override
    public Class<EvaluateSpec> specType() {
        return EvaluateSpec.class;
    }

    @Override
    public Class<EvaluateSpec> planType() {
        return EvaluateSpec.class;
    }

    @Override
    public EvaluateSpec plan(EvaluateSpec spec) {
        return spec;
    }

    @Override
    public Object run(EvaluateSpec spec, JobContext job) throws Exception {
        Split split = "train".equals(spec.split()) ? Split.TRAIN : Split.VALIDATION;
        int maxWindows = spec.maxWindows() == null ? JobDefaults.EVALUATE_WINDOWS : spec.maxWindows();
        int batch = spec.batchSize() == null ? JobDefaults.BATCH_SIZE : spec.batchSize();
        List<Map<String, Object>> rows = new ArrayList<>();
        int cells = spec.checkpointIds().size() * spec.datasetIds().size();
        for (UUID checkpointId : spec.checkpointIds()) {
            job.checkCancelled();
            Checkpoint checkpoint = models.checkpoint(checkpointId);
            int context = spec.context() == null ? JobDefaults.context(checkpoint.nPositions()) : spec.context();
            if (context > checkpoint.nPositions()) {
                throw new JobFailedException("invalid_context", "context " + context + " exceeds n_positions "
                        + checkpoint.nPositions() + " of checkpoint " + checkpointId);
            }
            try (Gpt2Model model = models.load(checkpointId, Devices.parse(job.device()))) {
                for (UUID datasetId : spec.datasetIds()) {
                    job.checkCancelled();
                    TokenSequence tokens = datasets.sequence(datasetId, split);
                    if (tokens == null || Evaluator.windowCount(tokens.length(), context, maxWindows) == 0) {
                        throw new JobFailedException("dataset_too_small", "the " + split.wireName() + " split of dataset "
                                + datasetId + " has fewer than context + 1 = " + (context + 1) + " tokens");
                    }
                    Evaluator.Result result = Evaluator.evaluate(model, tokens, context, maxWindows, batch);
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("checkpoint_id", checkpointId);
                    row.put("dataset_id", datasetId);
                    row.put("split", split.wireName());
                    row.put("context", context);
                    row.put("windows", result.windows());
                    row.put("tokens", result.tokens());
                    row.put("loss", result.loss());
                    rows.add(row);
                    job.progress(Map.of("done", rows.size(), "total", cells, "last_loss", result.loss()));
                }
            }
        }
        return Map.of("rows", rows);
    }
}
