package dev.consort.reproduction;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The job bodies the reproduction's runs share, as a user would write them against {@code POST /jobs}: the
 * datasets of the paper's setting, WikiText pretraining, constant-rate specialists and their sweep.
 */
final class JobBodies {

    private JobBodies() {}

    /** The model's shape: GPT-2 with the full 50,257-token vocabulary. */
    record Shape(int layers, int embd, int heads, int context) {}

    /** The four datasets: pretraining text, the two specialists' data, and the target both are merged for. */
    record Datasets(String wiki, String math, String code, String hard) {

        /** This tenant's datasets named after {@code tag}, uploaded from {@code dir} the first time. */
        static Datasets upload(ConsortClient api, String tag, Path dir) throws IOException {
            return new Datasets(
                    api.dataset(tag + "-wikitext", dir.resolve("wikitext2-test.txt"), "{text}",
                            dir.resolve("wikitext2-valid.txt")),
                    api.dataset(tag + "-gsm8k", dir.resolve("gsm8k-train.jsonl"), "{question}\n{answer}", null),
                    api.dataset(tag + "-codealpaca", dir.resolve("codealpaca.json"), "{instruction}\n{input}\n{output}",
                            null),
                    api.dataset(tag + "-gsm-hard", dir.resolve("gsm-hard.jsonl"), "{input}\n{code}", null));
        }
    }

    static ObjectNode job(String type, String name) {
        return ConsortClient.JSON.createObjectNode().put("type", type).put("name", name);
    }

    /** Pretraining from random initialisation: lr 3e-3 with a 5% warm-up, cosine to 0.1×. */
    static ObjectNode pretrain(String name, Shape shape, String dataset, int steps, int batch, int checkpointEvery) {
        ObjectNode job = job("pretrain", name);
        ObjectNode spec = job.putObject("spec");
        spec.putObject("config").put("n_layer", shape.layers()).put("n_embd", shape.embd()).put("n_head", shape.heads())
                .put("n_positions", shape.context());
        spec.put("dataset_id", dataset);
        spec.putObject("training").put("steps", steps).put("batch_size", batch).put("context", shape.context())
                .put("learning_rate", 0.003).put("warmup_steps", steps / 20).put("eval_every", steps / 6)
                .put("eval_windows", 64).put("checkpoint_every", checkpointEvery);
        return job;
    }

    /**
     * A specialist at a constant learning rate (after a short warm-up), so later steps keep moving it; {@code seed}
     * (null: the service's default) orders its training windows.
     */
    static ObjectNode finetune(String name, String base, String dataset, String trainable, double learningRate,
            int steps, int batch, int context, int checkpointEvery, Long seed) {
        ObjectNode job = job("finetune", name);
        ObjectNode spec = job.putObject("spec").put("base_checkpoint_id", base).put("dataset_id", dataset)
                .put("trainable", trainable);
        ObjectNode training = spec.putObject("training").put("steps", steps).put("batch_size", batch)
                .put("context", context).put("learning_rate", learningRate).put("warmup_steps", 20)
                .put("min_lr_ratio", 1.0).put("eval_every", checkpointEvery).put("eval_windows", 32)
                .put("checkpoint_every", checkpointEvery);
        if (seed != null) {
            training.put("seed", seed);
        }
        return job;
    }

    /**
     * The sweep from step 0 along two specialists' shared checkpoints, on the target's validation windows, with
     * WikiText as the reference; it jumps the queue (priority 10) so that it runs as soon as its pair is done.
     */
    static ObjectNode sweep(String name, JsonNode jobA, JsonNode jobB, Datasets data, List<Double> alphas,
            int context, int windows) {
        ObjectNode job = job("sweep", name).put("priority", 10);
        ObjectNode spec = job.putObject("spec").put("finetune_job_a_id", jobA.path("id").asString())
                .put("finetune_job_b_id", jobB.path("id").asString()).put("adaptation_dataset_id", data.hard())
                .put("reference_dataset_id", data.wiki()).put("method", "activation_interpolation");
        ArrayNode grid = spec.putObject("parameters").putArray("alphas");
        alphas.forEach(grid::add);
        spec.set("evaluation", evaluation(context, windows));
        return job;
    }

    /** Deterministic validation windows, the same for every model a job scores. */
    static ObjectNode evaluation(int context, int windows) {
        return ConsortClient.JSON.createObjectNode().put("split", "validation").put("context", context)
                .put("max_windows", windows).put("batch_size", 8);
    }

    static String checkpointAt(JsonNode trainingJob, long step) {
        for (JsonNode checkpoint : trainingJob.path("result").path("checkpoints")) {
            if (checkpoint.path("step").asLong() == step) {
                return checkpoint.path("checkpoint_id").asString();
            }
        }
        throw new IllegalStateException("job " + trainingJob.path("id").asString() + " has no checkpoint at step " + step);
    }

    /** Writes {@code job} as {@code <out>/jobs/<name>.json}. */
    static void save(Path out, String name, JsonNode job) throws IOException {
        Path file = out.resolve("jobs").resolve(name + ".json");
        Files.createDirectories(file.getParent());
        Files.writeString(file, ConsortClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(job));
    }
}
