package dev.consort.reproduction;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
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
            Map<String, String> given = new LinkedHashMap<>();
            for (int i = 0; i < args.length; i++) {
                if (args[i].equals("--help") || args[i].equals("-h")) {
                    System.out.println(USAGE);
                    System.exit(0);
                }
                if (!args[i].startsWith("--") || i + 1 >= args.length) {
                    throw new IllegalArgumentException("expected --option value, got " + args[i] + "; see --help");
                }
                given.put(args[i].substring(2), args[++i]);
            }
            Options options = new Options(option(given, "url", "http://localhost:8080"),
                    option(given, "api-key", System.getenv("CONSORT_API_KEY")),
                    Path.of(option(given, "datasets", "../shared/datasets")),
                    Path.of(option(given, "out", "reproduction/exploration")),
                    option(given, "tag", "explore"),
                    List.of(option(given, "cells", "strong-mlp-8e-4,strong-mlp-3e-3,strong-all-3e-3,weak-all-3e-3")
                            .split(",")).stream().map(Cell::parse).toList(),
                    Integer.parseInt(option(given, "pretrain-steps", "1200")),
                    Integer.parseInt(option(given, "weak-base-step", "400")),
                    Integer.parseInt(option(given, "steps", "800")),
                    Integer.parseInt(option(given, "checkpoint-every", "100")),
                    Integer.parseInt(option(given, "batch", "4")),
                    Integer.parseInt(option(given, "context", "128")),
                    Integer.parseInt(option(given, "eval-windows", "128")),
                    List.of(option(given, "alphas", "0.25,0.5,0.75").split(",")).stream()
                            .map(Double::parseDouble).toList());
            // Every option read above was taken out of the map: what is left, nobody reads.
            if (!given.isEmpty()) {
                throw new IllegalArgumentException("unknown options " + given.keySet() + "; see --help");
            }
            if (options.pretrainSteps % options.weakBaseStep != 0) {
                throw new IllegalArgumentException("--weak-base-step must divide --pretrain-steps (it is a checkpoint)");
            }
            return options;
        }

        /** The option's value, taken out of {@code given}, or its default. */
        private static String option(Map<String, String> given, String name, String fallback) {
            String value = given.remove(name);
            return value != null ? value : fallback;
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
        Path data = options.datasets();
        String wiki = api.dataset(options.tag() + "-wikitext", data.resolve("wikitext2-test.txt"), "{text}",
                data.resolve("wikitext2-valid.txt"));
        String math = api.dataset(options.tag() + "-gsm8k", data.resolve("gsm8k-train.jsonl"), "{question}\n{answer}", null);
        String code = api.dataset(options.tag() + "-codealpaca", data.resolve("codealpaca.json"),
                "{instruction}\n{input}\n{output}", null);
        String hard = api.dataset(options.tag() + "-gsm-hard", data.resolve("gsm-hard.jsonl"), "{input}\n{code}", null);

        JsonNode pretrain = api.await(api.submit(options.tag() + "-pretrain", pretrainJob(wiki)), "pretrain");
        save("pretrain", pretrain);
        Map<String, String> bases = Map.of("strong", checkpointAt(pretrain, options.pretrainSteps()),
                "weak", checkpointAt(pretrain, options.weakBaseStep()));

        // Every specialist is queued at once so the worker never idles; each sweep jumps the queue when its pair is done.
        Map<String, JsonNode[]> specialists = new LinkedHashMap<>();
        for (Cell cell : options.cells()) {
            String base = bases.get(cell.base());
            specialists.put(cell.name(), new JsonNode[] {
                api.submit(key(cell, "math"), finetuneJob(cell, base, math, "math")),
                api.submit(key(cell, "code"), finetuneJob(cell, base, code, "code"))});
        }
        List<ExplorationReport.CellResult> results = new ArrayList<>();
        for (Cell cell : options.cells()) {
            JsonNode mathJob = api.await(specialists.get(cell.name())[0], cell.name() + " math");
            JsonNode codeJob = api.await(specialists.get(cell.name())[1], cell.name() + " code");
            save(cell.name() + "-math", mathJob);
            save(cell.name() + "-code", codeJob);
            JsonNode sweep = api.await(api.submit(key(cell, "sweep"), sweepJob(cell, mathJob, codeJob, hard, wiki)),
                    cell.name() + " sweep");
            save(cell.name() + "-sweep", sweep);
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

    private ObjectNode pretrainJob(String wiki) {
        ObjectNode job = ConsortClient.JSON.createObjectNode().put("type", "pretrain").put("name", options.tag() + "-pretrain");
        ObjectNode spec = job.putObject("spec");
        spec.putObject("config").put("n_layer", 4).put("n_embd", 128).put("n_head", 4).put("n_positions", options.context());
        spec.put("dataset_id", wiki);
        spec.putObject("training").put("steps", options.pretrainSteps()).put("batch_size", 8)
                .put("context", options.context()).put("learning_rate", 0.003)
                .put("warmup_steps", options.pretrainSteps() / 20).put("eval_every", options.pretrainSteps() / 6)
                .put("eval_windows", 64).put("checkpoint_every", options.weakBaseStep());
        return job;
    }

    /** A specialist at a constant learning rate (after a short warm-up), so later steps keep moving it. */
    private ObjectNode finetuneJob(Cell cell, String base, String dataset, String what) {
        ObjectNode job = ConsortClient.JSON.createObjectNode().put("type", "finetune")
                .put("name", options.tag() + "-" + cell.name() + "-" + what);
        ObjectNode spec = job.putObject("spec").put("base_checkpoint_id", base).put("dataset_id", dataset)
                .put("trainable", cell.trainable());
        spec.putObject("training").put("steps", options.steps()).put("batch_size", options.batch())
                .put("context", options.context()).put("learning_rate", cell.learningRate()).put("warmup_steps", 20)
                .put("min_lr_ratio", 1.0).put("eval_every", options.checkpointEvery()).put("eval_windows", 32)
                .put("checkpoint_every", options.checkpointEvery());
        return job;
    }

    private ObjectNode sweepJob(Cell cell, JsonNode mathJob, JsonNode codeJob, String hard, String wiki) {
        ObjectNode job = ConsortClient.JSON.createObjectNode().put("type", "sweep")
                .put("name", options.tag() + "-" + cell.name() + "-sweep").put("priority", 10);
        ObjectNode spec = job.putObject("spec").put("finetune_job_a_id", mathJob.path("id").asString())
                .put("finetune_job_b_id", codeJob.path("id").asString()).put("adaptation_dataset_id", hard)
                .put("reference_dataset_id", wiki).put("method", "activation_interpolation");
        ArrayNode alphas = spec.putObject("parameters").putArray("alphas");
        options.alphas().forEach(alphas::add);
        spec.putObject("evaluation").put("split", "validation").put("context", options.context())
                .put("max_windows", options.evalWindows()).put("batch_size", 8);
        return job;
    }

    private static String checkpointAt(JsonNode trainingJob, long step) {
        for (JsonNode checkpoint : trainingJob.path("result").path("checkpoints")) {
            if (checkpoint.path("step").asLong() == step) {
                return checkpoint.path("checkpoint_id").asString();
            }
        }
        throw new IllegalStateException("job " + trainingJob.path("id").asString() + " has no checkpoint at step " + step);
    }

    private void save(String name, JsonNode job) throws IOException {
        Path file = options.out().resolve("jobs").resolve(name + ".json");
        Files.createDirectories(file.getParent());
        Files.writeString(file, ConsortClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(job));
    }
}
