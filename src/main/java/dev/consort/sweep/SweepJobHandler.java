package dev.consort.sweep;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;

import org.springframework.stereotype.Component;

import ai.djl.Device;
import dev.consort.checkpoint.Checkpoint;
import dev.consort.checkpoint.CheckpointCatalog;
import dev.consort.checkpoint.CheckpointModels;
import dev.consort.cka.CkaEstimator;
import dev.consort.cka.CkaMatrix;
import dev.consort.cka.LayerSimilarity;
import dev.consort.dataset.DatasetTokens;
import dev.consort.dataset.Split;
import dev.consort.engine.Devices;
import dev.consort.engine.Evaluator;
import dev.consort.engine.Gpt2Model;
import dev.consort.engine.TokenSequence;
import dev.consort.job.InvalidSpecException;
import dev.consort.job.JobContext;
import dev.consort.job.JobFailedException;
import dev.consort.job.JobHandler;
import dev.consort.job.JobRepository;
import dev.consort.job.JobView;
import dev.consort.job.spec.JobDefaults;
import dev.consort.merge.features.AlphaSearch;
import dev.consort.web.ApiProblem.FieldError;

/**
 * {@code sweep} (the paper's Figure 3): along two fine-tuning runs' shared checkpoint steps, the best
 * activation-interpolation loss on the adaptation data and the CKA between the two specialists on the
 * adaptation and the reference data (the chosen layer, or the mean over layers of same-layer CKA). The
 * step with the lowest merge loss is the critical step: after it, merging stops paying.
 */
@Component
class SweepJobHandler implements JobHandler<SweepSpec, SweepSpec> {

    static final int CONTEXT = 64;
    static final int WINDOWS = 16;

    private final JobRepository jobs;
    private final CheckpointCatalog catalog;
    private final CheckpointModels models;
    private final DatasetTokens datasets;

    SweepJobHandler(JobRepository jobs, CheckpointCatalog catalog, CheckpointModels models, DatasetTokens datasets) {
        this.jobs = jobs;
        this.catalog = catalog;
        this.models = models;
        this.datasets = datasets;
    }

    @Override
    public String type() {
        return "sweep";
    }

    @Override
    public Class<SweepSpec> specType() {
        return SweepSpec.class;
    }

    @Override
    public Class<SweepSpec> planType() {
        return SweepSpec.class;
    }

    @Override
    public SweepSpec plan(SweepSpec spec) throws InvalidSpecException {
        List<FieldError> errors = new ArrayList<>();
        if (spec.method() != null && !spec.method().equals("activation_interpolation")) {
            errors.add(new FieldError("method", "only activation_interpolation is supported by sweeps so far"));
        }
        for (var run : List.of(Map.entry("finetune_job_a_id", spec.finetuneJobAId()),
                Map.entry("finetune_job_b_id", spec.finetuneJobBId()))) {
            JobView job = jobs.find(run.getValue()).orElse(null);
            if (job == null || !job.type().equals("finetune") || !job.status().equals("succeeded")) {
                errors.add(new FieldError(run.getKey(), "must name a succeeded finetune job"));
            }
        }
        if (errors.isEmpty()) {
            Map<Long, UUID[]> steps = sharedSteps(spec);
            if (steps.isEmpty()) {
                errors.add(new FieldError("finetune_job_b_id", "the two runs saved no checkpoint at a common step"));
            } else if (spec.layer() != null) {
                int layers = models.checkpoint(steps.values().iterator().next()[0]).nLayer();
                if (spec.layer() >= layers) {
                    errors.add(new FieldError("layer", "must be below n_layer (" + layers + ")"));
                }
            }
        }
        InvalidSpecException.throwIfAny(errors);
        return spec;
    }

    /** Checkpoints of both runs by shared step: [a, b]. */
    private Map<Long, UUID[]> sharedSteps(SweepSpec spec) {
        Map<Long, UUID> a = new TreeMap<>();
        catalog.produced(spec.finetuneJobAId()).stream().filter(c -> c.step() != null).forEach(c -> a.put(c.step(), c.id()));
        Map<Long, UUID[]> shared = new TreeMap<>();
        catalog.produced(spec.finetuneJobBId()).stream().filter(c -> c.step() != null && a.containsKey(c.step()))
                .forEach(c -> shared.put(c.step(), new UUID[] {a.get(c.step()), c.id()}));
        return shared;
    }

    @Override
    public Object run(SweepSpec spec, JobContext job) throws Exception {
        Device device = Devices.parse(job.device());
        Map<Long, UUID[]> steps = sharedSteps(spec);
        Checkpoint first = models.checkpoint(steps.values().iterator().next()[0]);
        int context = Math.min(CONTEXT, first.nPositions());
        TokenSequence adaptation = tokens(spec.adaptationDatasetId(), context);
        TokenSequence reference = tokens(spec.referenceDatasetId(), context);
        UUID baseId = first.parentId();
        List<Map<String, Object>> rows = new ArrayList<>();
        Map<String, Object> critical = null;
        try (Gpt2Model base = baseId == null ? null : models.load(baseId, device)) {
            for (Map.Entry<Long, UUID[]> entry : steps.entrySet()) {
                job.checkCancelled();
                long step = entry.getKey();
                try (Gpt2Model a = models.load(entry.getValue()[0], device);
                     Gpt2Model b = models.load(entry.getValue()[1], device)) {
                    AlphaSearch.Result search = AlphaSearch.search(base, a, b, AlphaSearch.DEFAULT_GRID, adaptation,
                            context, WINDOWS, JobDefaults.BATCH_SIZE, new AlphaSearch.Listener() {
                                @Override
                                public void checkStop() {
                                    job.checkCancelled();
                                }
                            });
                    double mergeLoss = search.best().result().loss();
                    double ckaAdaptation = cka(a, b, adaptation, context, spec.layer());
                    double ckaReference = cka(a, b, reference, context, spec.layer());
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("step", step);
                    row.put("checkpoint_a_id", entry.getValue()[0]);
                    row.put("checkpoint_b_id", entry.getValue()[1]);
                    row.put("merge_loss", mergeLoss);
                    row.put("best_alpha", search.best().alpha());
                    row.put("expert_a_loss", search.curve().get(search.curve().size() - 1).result().loss());
                    row.put("expert_b_loss", search.curve().get(0).result().loss());
                    row.put("cka_adaptation", ckaAdaptation);
                    row.put("cka_reference", ckaReference);
                    rows.add(row);
                    job.loss("merge_loss", step, step, mergeLoss);
                    job.loss("cka_adaptation", step, step, ckaAdaptation);
                    job.loss("cka_reference", step, step, ckaReference);
                    if (critical == null || mergeLoss < (double) critical.get("merge_loss")) {
                        critical = row;
                    }
                    job.progress(Map.of("steps_done", rows.size(), "steps", steps.size()));
                }
            }
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("rows", rows);
        result.put("critical_step", critical.get("step"));
        result.put("critical_merge_loss", critical.get("merge_loss"));
        result.put("layer", spec.layer());
        result.put("context", context);
        result.put("windows", WINDOWS);
        return result;
    }

    private TokenSequence tokens(UUID dataset, int context) throws java.io.IOException {
        TokenSequence validation = datasets.sequence(dataset, Split.VALIDATION);
        TokenSequence tokens = validation != null && validation.length() > context ? validation
                : datasets.sequence(dataset, Split.TRAIN);
        if (tokens == null || Evaluator.windowCount(tokens.length(), context, 1) == 0) {
            throw new JobFailedException("dataset_too_small", "dataset " + dataset + " is too short for one window of "
                    + context + " tokens");
        }
        return tokens;
    }

    /** Same-layer linear CKA between the two models' MLP outputs: the chosen layer, or the mean over layers. */
    private static double cka(Gpt2Model a, Gpt2Model b, TokenSequence tokens, int context, Integer layer) {
        int layers = a.config().nLayer();
        LayerSimilarity.Sample sample = new LayerSimilarity.Sample(context,
                (int) Math.min(WINDOWS, tokens.length() / context), JobDefaults.BATCH_SIZE, false, false);
        CkaMatrix inter = LayerSimilarity.compute(a, b, tokens, sample, CkaEstimator.LINEAR, null,
                LayerSimilarity.Progress.NONE).block(0, layers, layers, layers);
        return layer != null ? inter.get(layer, layer) : inter.diagonalMean();
    }
}
