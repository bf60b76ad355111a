package dev.consort.reproduction;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The reproduction of the paper's five findings through the public API (issue 13, item 5), in the setting the
 * exploration found most telling: a base pretrained on WikiText, math (gsm8k) and code (codealpaca) specialists
 * fine-tuned MLP-only at a constant lr, each pair from {@code --seeds} training seeds so that run-to-run noise is
 * measured rather than guessed. Per seed, a sweep on gsm-hard from step 0 and CKA heatmaps of the first and last
 * checkpoints; for the first seed's final specialists, one merge job with the weight-space merges, activation
 * interpolation and layer routing with spans 1-4 (routers fitted until validation stops improving, over seeds),
 * the Table 1 baseline and a DataMix baseline; then a compatibility job fitted on the run's sweeps. The findings,
 * each with its intervals and a verdict computed from them, land in {@code <out>/summary.md}
 * ({@link ReproductionReport}).
 *
 * <p>{@code mvn -q -Preproduce test-compile exec:exec -Dreproduce.main=dev.consort.reproduction.Reproduction
 * -Dreproduce.args="--url http://localhost:18080 --scale cpu"}; {@code --help} lists the options.
 */
public final class Reproduction {

    /** The sizes of a run. */
    record Scale(String name, JobBodies.Shape shape, int pretrainSteps, int pretrainBatch, int steps,
            int checkpointEvery, int batch, int seeds, int evalWindows, double routerEpochs, int routerPatience,
            int routerEvalEvery, int routerSeeds, int routerBatch, int baselineSteps, int baselineSeeds,
            int ckaWindows) {

        static Scale named(String name) {
            return switch (name) {
                // The exploration's strong-mlp-8e-4 cell, sized to finish within 90 minutes on 2 cores.
                case "cpu" -> new Scale(name, new JobBodies.Shape(4, 128, 4, 128), 1200, 8, 400, 100, 4, 3, 128,
                        0.3, 3, 10, 3, 8, 400, 2, 64);
                case "gpu" -> new Scale(name, new JobBodies.Shape(8, 512, 8, 256), 6000, 16, 2000, 250, 8, 3, 256,
                        1, 5, 25, 3, 16, 2000, 3, 128);
                // A dry run of every stage in a few minutes; its numbers mean nothing.
                case "tiny" -> new Scale(name, new JobBodies.Shape(2, 64, 2, 64), 60, 4, 40, 10, 4, 2, 16,
                        0.02, 2, 2, 2, 4, 10, 2, 16);
                default -> throw new IllegalArgumentException("--scale is tiny, cpu or gpu, not " + name);
            };
        }
    }

    record Options(String url, String apiKey, Path datasets, Path out, String tag, Scale scale, String trainable,
            double learningRate, List<Double> alphas, double routerEpochs) {

        static Options parse(String[] args) {
            Arguments given = new Arguments(args, USAGE);
            String scale = given.text("scale", "cpu");
            Scale sizes = Scale.named(scale);
            Options options = new Options(given.text("url", "http://localhost:8080"),
                    given.text("api-key", System.getenv("CONSORT_API_KEY")),
                    Path.of(given.text("datasets", "../shared/datasets")),
                    Path.of(given.text("out", "reproduction/" + scale)), given.text("tag", "repro-" + scale),
                    sizes, given.text("trainable", "mlp"), given.number("lr", 8e-4),
                    given.numbers("alphas", "0.25,0.5,0.75"), given.number("router-epochs", sizes.routerEpochs()));
            given.finish();
            return options;
        }
    }

    static final String USAGE = """
            Reproduction: the paper's five findings through the API, with intervals and seeds.
              --url URL         the service (default http://localhost:8080)
              --api-key KEY     sent as a bearer token (default $CONSORT_API_KEY)
              --datasets DIR    the public data files (default ../shared/datasets)
              --scale NAME      tiny (a dry run), cpu (the default: 4 × 128, within 90 min on 2 cores) or gpu
                                (8 × 512, for a service with a GPU worker)
              --out DIR         where summary.json, summary.md, jobs/ and plots/ go (default reproduction/<scale>)
              --tag NAME        names datasets and idempotency keys; a new tag starts over (default repro-<scale>)
              --trainable WHAT  the specialists' trainable set, mlp (default) or all
              --lr RATE         the specialists' constant learning rate (default 8e-4)
              --alphas LIST     the sweeps' activation-interpolation α grid (default 0.25,0.5,0.75)
              --router-epochs E each router fitting's budget in epochs of the adaptation data, stopped early when
                                validation stops improving (default: the scale's, 0.3 at cpu)""";

    private final ConsortClient api;
    private final Options options;
    private final Scale scale;

    private Reproduction(Options options) {
        this.options = options;
        this.scale = options.scale();
        this.api = new ConsortClient(options.url(), options.apiKey(), Duration.ofSeconds(5));
    }

    public static void main(String[] args) throws Exception {
        new Reproduction(Options.parse(args)).run();
    }

    /** One seed's specialists and what was measured on them. */
    record SeedRun(int seed, JsonNode math, JsonNode code, JsonNode sweep, JsonNode earlyCka, JsonNode finalCka) {}

    private void run() throws IOException, InterruptedException {
        long start = System.nanoTime();
        JobBodies.Datasets data = JobBodies.Datasets.upload(api, options.tag(), options.datasets());
        JsonNode pretrain = api.await(api.submit(key("pretrain"), JobBodies.pretrain(options.tag() + "-pretrain",
                scale.shape(), data.wiki(), scale.pretrainSteps(), scale.pretrainBatch(), scale.pretrainSteps())),
                "pretrain");
        JobBodies.save(options.out(), "pretrain", pretrain);
        String base = JobBodies.checkpointAt(pretrain, scale.pretrainSteps());

        // Every specialist is queued at once so that the worker never idles; sweeps and CKA jump the queue.
        List<JsonNode[]> submitted = new ArrayList<>();
        for (int s = 0; s < scale.seeds(); s++) {
            submitted.add(new JsonNode[] {api.submit(key("math-seed" + s), specialist(base, data.math(), "math", s)),
                api.submit(key("code-seed" + s), specialist(base, data.code(), "code", s))});
        }
        List<SeedRun> seeds = new ArrayList<>();
        JsonNode merge = null;
        for (int s = 0; s < scale.seeds(); s++) {
            JsonNode math = api.await(submitted.get(s)[0], "math seed " + s);
            JsonNode code = api.await(submitted.get(s)[1], "code seed " + s);
            JobBodies.save(options.out(), "math-seed" + s, math);
            JobBodies.save(options.out(), "code-seed" + s, code);
            JsonNode sweep = api.submit(key("sweep-seed" + s), JobBodies.sweep(options.tag() + "-sweep-seed" + s, math,
                    code, data, options.alphas(), scale.shape().context(), scale.evalWindows()));
            JsonNode early = api.submit(key("cka-early-seed" + s), cka("cka-early-seed" + s,
                    JobBodies.checkpointAt(math, scale.checkpointEvery()),
                    JobBodies.checkpointAt(code, scale.checkpointEvery()), data.hard()));
            JsonNode last = api.submit(key("cka-final-seed" + s), cka("cka-final-seed" + s,
                    JobBodies.checkpointAt(math, scale.steps()), JobBodies.checkpointAt(code, scale.steps()), data.hard()));
            if (s == 0) {
                merge = api.submit(key("merge"), mergeJob(base, JobBodies.checkpointAt(math, scale.steps()),
                        JobBodies.checkpointAt(code, scale.steps()), data));
            }
            seeds.add(new SeedRun(s, math, code, sweep, early, last));
        }
        JsonNode baseCka = api.submit(key("cka-base"), cka("cka-base-vs-math", base,
                JobBodies.checkpointAt(seeds.get(0).math(), scale.steps()), data.wiki()));
        List<SeedRun> done = new ArrayList<>();
        for (SeedRun run : seeds) {
            String suffix = "-seed" + run.seed();
            JsonNode sweep = api.await(run.sweep(), "sweep seed " + run.seed());
            JobBodies.save(options.out(), "sweep" + suffix, sweep);
            for (String plot : List.of("merge-loss-vs-step", "gain-vs-step", "cka-vs-step", "merge-loss-vs-cka")) {
                api.download("/jobs/" + sweep.path("id").asString() + "/plots/" + plot, "image/png",
                        options.out().resolve("plots").resolve(plot + suffix + ".png"));
            }
            done.add(new SeedRun(run.seed(), run.math(), run.code(), sweep, matrices(run.earlyCka(), "cka-early" + suffix),
                    matrices(run.finalCka(), "cka-final" + suffix)));
        }
        JsonNode baseMatrices = matrices(baseCka, "cka-base-vs-math");
        merge = api.await(merge, "merge");
        JobBodies.save(options.out(), "merge", merge);
        String mergeId = merge.path("id").asString();
        api.download("/jobs/" + mergeId + "/losses", "image/png", options.out().resolve("plots").resolve("merge-losses.png"));
        api.download("/jobs/" + mergeId + "/plots/router-weights", "image/png",
                options.out().resolve("plots").resolve("router-weights.png"));

        // The compatibility model is the tenant's sweeps at submission: every sweep of this run is in it by now.
        SeedRun first = done.get(0);
        JsonNode compatibility = api.await(api.submit(key("compatibility"), compatibilityJob(
                JobBodies.checkpointAt(first.math(), scale.steps()), JobBodies.checkpointAt(first.code(), scale.steps()),
                data.hard())), "compatibility");
        JobBodies.save(options.out(), "compatibility", compatibility);
        long seconds = (System.nanoTime() - start) / 1_000_000_000L;
        new ReproductionReport(options, data, pretrain, done, baseMatrices, merge, compatibility, seconds)
                .write(options.out());
        ConsortClient.log("done in " + seconds + " s: " + options.out().resolve("summary.md"));
    }

    private String key(String what) {
        return options.tag() + "-" + what;
    }

    private ObjectNode specialist(String base, String dataset, String what, int seed) {
        return JobBodies.finetune(options.tag() + "-" + what + "-seed" + seed, base, dataset, options.trainable(),
                options.learningRate(), scale.steps(), scale.batch(), scale.shape().context(), scale.checkpointEvery(),
                1234L + seed);
    }

    /** CKA as the paper's code computes it ({@code compute_kernel.py}): the residual stream, window means, linear. */
    private ObjectNode cka(String name, String modelA, String modelB, String dataset) {
        ObjectNode job = JobBodies.job("cka", options.tag() + "-" + name).put("priority", 10);
        job.putObject("spec").put("model_a_id", modelA).put("model_b_id", modelB).put("dataset_id", dataset)
                .put("representation", "residual").put("pooling", "mean").put("estimator", "linear")
                .put("split", "validation").put("context", scale.shape().context()).put("windows", scale.ckaWindows())
                .put("batch_size", 8);
        return job;
    }

    /** Waits for a CKA job and saves it with its matrices and heatmap; returns the matrices. */
    private JsonNode matrices(JsonNode submitted, String name) throws IOException, InterruptedException {
        JsonNode job = api.await(submitted, name);
        JobBodies.save(options.out(), name, job);
        String path = "/jobs/" + job.path("id").asString() + "/cka";
        api.download(path, "image/png", options.out().resolve("plots").resolve(name + ".png"));
        JsonNode matrices = api.get(path);
        JobBodies.save(options.out(), name + "-matrices", matrices);
        return matrices;
    }

    /**
     * The paper's Figures 4 and 5 and Table 1 in one results table: weight merges, activation interpolation and
     * layer routing with spans 1-4 (span 1 is layer_routing) of the final specialists, the Table 1 baseline and
     * DataMix (the base on half math, half code), each on the same validation windows of every dataset.
     */
    private ObjectNode mergeJob(String base, String math, String code, JobBodies.Datasets data) {
        ObjectNode job = JobBodies.job("merge", options.tag() + "-merge");
        ObjectNode spec = job.putObject("spec").put("base_checkpoint_id", base).put("adaptation_dataset_id", data.hard())
                .put("seed", 7);
        spec.putArray("expert_ids").add(math).add(code);
        spec.putArray("eval_dataset_ids").add(data.hard()).add(data.math()).add(data.code()).add(data.wiki());
        spec.set("evaluation", JobBodies.evaluation(scale.shape().context(), scale.evalWindows()));
        ArrayNode methods = spec.putArray("methods");
        methods.addObject().put("method", "linear").put("label", "linear (weight average)").putObject("parameters")
                .put("weight", 0.5);
        methods.addObject().put("method", "slerp").putObject("parameters").put("t", 0.5);
        methods.addObject().put("method", "task_arithmetic").putObject("parameters").put("weight", 1.0);
        methods.addObject().put("method", "ties").putObject("parameters").put("weight", 1.0).put("density", 0.5);
        methods.addObject().put("method", "activation_interpolation");
        methods.addObject().put("method", "layer_routing").put("label", "span 1").putObject("parameters")
                .put("router", "linear");
        for (int span = 2; span <= Math.min(4, scale.shape().layers()); span++) {
            methods.addObject().put("method", "multi_layer_routing").put("label", "span " + span)
                    .putObject("parameters").put("router", "linear").put("span", span);
        }
        spec.putObject("router_training").put("epochs", options.routerEpochs()).put("patience", scale.routerPatience())
                .put("seeds", scale.routerSeeds()).put("batch_size", scale.routerBatch())
                .put("context", scale.shape().context()).put("eval_every", scale.routerEvalEvery()).put("eval_windows", 32);
        ObjectNode baselines = spec.putObject("baseline");
        baselines.putObject("finetune").put("seeds", scale.baselineSeeds()).set("training", baselineTraining());
        ObjectNode datamix = baselines.putObject("datamix").put("seeds", scale.baselineSeeds());
        datamix.putArray("dataset_ids").add(data.math()).add(data.code());
        datamix.set("training", baselineTraining());
        return job;
    }

    private ObjectNode baselineTraining() {
        return ConsortClient.JSON.createObjectNode().put("steps", scale.baselineSteps()).put("batch_size", scale.batch())
                .put("context", scale.shape().context()).put("eval_every", Math.max(1, scale.baselineSteps() / 4))
                .put("eval_windows", 32);
    }

    private ObjectNode compatibilityJob(String math, String code, String probe) {
        ObjectNode job = JobBodies.job("compatibility", options.tag() + "-compatibility").put("priority", 10);
        ObjectNode spec = job.putObject("spec").put("probe_dataset_id", probe).put("context", scale.shape().context());
        spec.putArray("expert_ids").add(math).add(code);
        return job;
    }
}
