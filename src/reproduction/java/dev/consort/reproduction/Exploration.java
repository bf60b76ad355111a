package dev.consort.reproduction;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The exploration of the reproduction (issue 13, item 5): under which settings do specialists over-specialise
 * at this scale, so that the merge loss along fine-tuning can turn upward (the paper's U)? One base is pretrained
 * on WikiText, with an early checkpoint as a weaker base. Each cell of the map fine-tunes a math specialist
 * (gsm8k) and a code specialist (codealpaca) from a base with its trainable set and constant learning rate,
 * checkpointing along the way, then sweeps them on gsm-hard from step 0. The sweep answers, with paired 95%
 * intervals over the same windows, whether each specialist's own gsm-hard loss turns upward, and whether the
 * merge loss has an interior minimum. Everything goes through the public API; the answers land in
 * {@code <out>/summary.json} and {@code <out>/summary.md} ({@link ExplorationReport}).
 *
 * <p>Run it against a running service: {@code mvn -q -Preproduce test-compile exec:exec
 * -Dreproduce.args="--url http://localhost:18080"}; {@code --help} lists the options.
 */
public final class Exploration {

    /** One setting of the map: which base, which tensors train, at which constant learning rate. */
    record Cell(String name, String base, String trainable, double learningRate) {
        static Cell parse(String name) {
            String[] parts = name.split("-", 3);
            if (parts.length != 3 || !parts[0].matches("strong|weak") || !parts[1].matches("mlp|all")) {
                throw new IllegalArgumentException("a cell is base-trainable-lr, e.g. strong-mlp-8e-4, not " + name);
            }
            return new Cell(name, parts[0], parts[1], Double.parseDouble(parts[2].replace("e-", "E-")));
        }
    }

    /** The run's settings: where the service and data are, the model shape and the budgets. */
    record Options(String url, String apiKey, Path datasets, Path out, String tag, List<Cell> cells,
            int pretrainSteps, int weakBaseStep, int steps, int checkpointEvery, int batch, int context,
            int evalWindows, List<Double> alphas) {

        static Options parse(String[] args) {
            Arguments given = new Arguments(args, USAGE);
            Options options = new Options(given.text("url", "http://localhost:8080"),
                    given.text("api-key", System.getenv("CONSORT_API_KEY")),
                    Path.of(given.text("datasets", "../shared/datasets")),
                    Path.of(given.text("out", "reproduction/exploration")),
                    given.text("tag", "explore"),
                    List.of(given.text("cells", "strong-mlp-8e-4,strong-mlp-3e-3,strong-all-3e-3,weak-all-3e-3")
                            .split(",")).stream().map(Cell::parse).toList(),
                    given.integer("pretrain-steps", 1200), given.integer("weak-base-step", 400),
                    given.integer("steps", 800), given.integer("checkpoint-every", 100), given.integer("batch", 4),
                    given.integer("context", 128), given.integer("eval-windows", 128),
                    given.numbers("alphas", "0.25,0.5,0.75"));
            given.finish();
            if (options.pretrainSteps % options.weakBaseStep != 0) {
                throw new IllegalArgumentException("--weak-base-step must divide --pretrain-steps (it is a checkpoint)");
            }
            return options;
        }
    }

    static final String USAGE = """
            Exploration: which settings make specialists over-specialise, and the merge loss turn upward?
              --url URL               the service (default http://localhost:8080)
              --api-key KEY           sent as a bearer token (default $CONSORT_API_KEY)
              --datasets DIR          the public data files (default ../shared/datasets)
              --out DIR               where summary.json, summary.md, jobs/ and plots/ go (default reproduction/exploration)
              --tag NAME              names datasets and idempotency keys; a new tag starts over (default explore)
              --cells LIST            comma-separated base-trainable-lr cells, base strong|weak, trainable mlp|all
                                      (default strong-mlp-8e-4,strong-mlp-3e-3,strong-all-3e-3,weak-all-3e-3)
              --pretrain-steps N      the strong base's pretraining steps (default 1200; batch 8 × 128 tokens)
              --weak-base-step N      the pretraining checkpoint used as the weak base (default 400)
              --steps N               each specialist's steps (default 800) at --batch × --context tokens (4 × 128)
              --checkpoint-every N    specialist checkpoints, the sweep's steps (default 100)
              --eval-windows N        the sweep's gsm-hard windows (default 128)
              --alphas LIST           the sweep's activation-interpolation α grid (default 0.25,0.5,0.75)""";

    private final ConsortClient api;
    private final Options options;

    private Exploration(Options options) {
        this.options = options;
        this.api = new ConsortClient(options.url(), options.apiKey(), Duration.ofSeconds(5));
    }

    public static void main(String[] args) throws Exception {
        Options options = Options.parse(args);
        new Exploration(options).run();
    }

    private void run() throws IOException, InterruptedException {
        long start = System.nanoTime();
        JobBodies.Datasets data = JobBodies.Datasets.upload(api, options.tag(), options.datasets());
        JobBodies.Shape shape = new JobBodies.Shape(4, 128, 4, options.context());
        JsonNode pretrain = api.await(api.submit(options.tag() + "-pretrain", JobBodies.pretrain(options.tag()
                + "-pretrain", shape, data.wiki(), options.pretrainSteps(), 8, options.weakBaseStep())), "pretrain");
        JobBodies.save(options.out(), "pretrain", pretrain);
        Map<String, String> bases = Map.of("strong", JobBodies.checkpointAt(pretrain, options.pretrainSteps()),
                "weak", JobBodies.checkpointAt(pretrain, options.weakBaseStep()));

        // Every specialist is queued at once so the worker never idles; each sweep jumps the queue when its pair is done.
        Map<String, JsonNode[]> specialists = new LinkedHashMap<>();
        for (Cell cell : options.cells()) {
            String base = bases.get(cell.base());
            specialists.put(cell.name(), new JsonNode[] {
                api.submit(key(cell, "math"), finetuneJob(cell, base, data.math(), "math")),
                api.submit(key(cell, "code"), finetuneJob(cell, base, data.code(), "code"))});
        }
        List<ExplorationReport.CellResult> results = new ArrayList<>();
        for (Cell cell : options.cells()) {
            JsonNode mathJob = api.await(specialists.get(cell.name())[0], cell.name() + " math");
            JsonNode codeJob = api.await(specialists.get(cell.name())[1], cell.name() + " code");
            JobBodies.save(options.out(), cell.name() + "-math", mathJob);
            JobBodies.save(options.out(), cell.name() + "-code", codeJob);
            JsonNode sweep = api.await(api.submit(key(cell, "sweep"), JobBodies.sweep(options.tag() + "-" + cell.name()
                    + "-sweep", mathJob, codeJob, data, options.alphas(), options.context(), options.evalWindows())),
                    cell.name() + " sweep");
            JobBodies.save(options.out(), cell.name() + "-sweep", sweep);
            for (String plot : List.of("merge-loss-vs-step", "gain-vs-step", "cka-vs-step")) {
                api.download("/jobs/" + sweep.path("id").asString() + "/plots/" + plot, "image/png",
                        options.out().resolve("plots").resolve(cell.name() + "-" + plot + ".png"));
            }
            results.add(new ExplorationReport.CellResult(cell, mathJob, codeJob, sweep));
        }
        JsonNode compatibility = api.get("/compatibility/model");
        long seconds = (System.nanoTime() - start) / 1_000_000_000L;
        new ExplorationReport(options, pretrain, results, compatibility, seconds).write(options.out());
        ConsortClient.log("done in " + seconds + " s: " + options.out().resolve("summary.md"));
    }

    private String key(Cell cell, String what) {
        return options.tag() + "-" + cell.name() + "-" + options.steps() + "-" + what;
    }

    private ObjectNode finetuneJob(Cell cell, String base, String dataset, String what) {
        return JobBodies.finetune(options.tag() + "-" + cell.name() + "-" + what, base, dataset, cell.trainable(),
                cell.learningRate(), options.steps(), options.batch(), options.context(), options.checkpointEvery(), null);
    }
}
