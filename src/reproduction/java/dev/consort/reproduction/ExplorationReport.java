package dev.consort.reproduction;

import static dev.consort.reproduction.Markdown.interval;
import static dev.consort.reproduction.Markdown.jobSeconds;
import static dev.consort.reproduction.Markdown.num;
import static dev.consort.reproduction.Markdown.turn;
import static dev.consort.reproduction.Markdown.withSe;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * The exploration's answers, from the service's own results: per cell, whether each specialist's gsm-hard loss
 * turns upward and whether the merge loss has an interior minimum, each with its paired 95% interval, as
 * {@code summary.json} and as the Markdown map in {@code summary.md}.
 */
final class ExplorationReport {

    /** One cell's jobs, as the service returned them once they succeeded. */
    record CellResult(Exploration.Cell cell, JsonNode math, JsonNode code, JsonNode sweep) {
        /** The service's running time of the cell's three jobs. */
        long seconds() {
            return jobSeconds(math) + jobSeconds(code) + jobSeconds(sweep);
        }
    }

    private final Exploration.Options options;
    private final JsonNode pretrain;
    private final List<CellResult> cells;
    private final JsonNode compatibility;
    private final long seconds;

    ExplorationReport(Exploration.Options options, JsonNode pretrain, List<CellResult> cells, JsonNode compatibility,
            long seconds) {
        this.options = options;
        this.pretrain = pretrain;
        this.cells = cells;
        this.compatibility = compatibility;
        this.seconds = seconds;
    }

    void write(Path out) throws IOException {
        Files.createDirectories(out);
        Files.writeString(out.resolve("summary.json"),
                ConsortClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(json()));
        Files.writeString(out.resolve("summary.md"), markdown());
    }

    private ObjectNode json() {
        ObjectNode summary = ConsortClient.JSON.createObjectNode();
        summary.put("client_seconds", seconds);
        summary.put("pretrain_job", pretrain.path("id").asString());
        summary.put("pretrain_seconds", jobSeconds(pretrain));
        summary.set("pretrain_final_validation_loss", pretrain.path("result").path("final_validation_loss"));
        ObjectNode settings = summary.putObject("settings");
        settings.put("pretrain_steps", options.pretrainSteps()).put("weak_base_step", options.weakBaseStep())
                .put("specialist_steps", options.steps()).put("checkpoint_every", options.checkpointEvery())
                .put("batch", options.batch()).put("context", options.context()).put("eval_windows", options.evalWindows());
        ArrayNode alphas = settings.putArray("alphas");
        options.alphas().forEach(alphas::add);
        ArrayNode map = summary.putArray("cells");
        for (CellResult result : cells) {
            JsonNode sweep = result.sweep().path("result");
            ObjectNode cell = map.addObject();
            cell.put("cell", result.cell().name()).put("base", result.cell().base())
                    .put("trainable", result.cell().trainable()).put("learning_rate", result.cell().learningRate())
                    .put("lr_times_steps", result.cell().learningRate() * options.steps());
            cell.put("math_job", result.math().path("id").asString()).put("code_job", result.code().path("id").asString())
                    .put("sweep_job", result.sweep().path("id").asString());
            cell.put("seconds", result.seconds());
            cell.set("math_turn", sweep.path("expert_a_turn"));
            cell.set("code_turn", sweep.path("expert_b_turn"));
            cell.put("critical_step", sweep.path("critical_step").asLong());
            cell.set("critical_step_ci95", sweep.path("critical_step_ci95"));
            cell.put("interior_minimum", sweep.path("interior_minimum").asBoolean());
            cell.set("last_step_minus_critical", sweep.path("last_step_minus_critical"));
            cell.put("verdict", sweep.path("verdict").asString());
            cell.set("rows", sweep.path("rows"));
        }
        summary.set("compatibility_model", compatibility);
        return summary;
    }

    private String markdown() {
        StringBuilder md = new StringBuilder();
        md.append("# Exploration: when do specialists over-specialise at this scale?\n\n");
        md.append(String.format(Locale.ROOT, "Base: 4 layers × 128, pretrained %d steps of 8 × %d WikiText tokens "
                + "(final validation loss %s; the weak base is its step-%d checkpoint). Specialists: %d steps of %d × %d "
                + "tokens at a constant learning rate, a checkpoint every %d; sweeps on %d gsm-hard validation windows "
                + "of %d tokens, activation interpolation over α ∈ %s. Client wall time %d s.%n%n",
                options.pretrainSteps(), options.context(), num(pretrain.path("result").path("final_validation_loss")),
                options.weakBaseStep(), options.steps(), options.batch(), options.context(), options.checkpointEvery(),
                options.evalWindows(), options.context(), options.alphas(), seconds));
        md.append("| cell | math: lowest step, last − lowest [95% CI] | code: lowest step, last − lowest [95% CI] "
                + "| merge: critical step [95% CI] | last − critical [95% CI] | U? | job seconds |\n");
        md.append("|---|---|---|---|---|---|---|\n");
        for (CellResult result : cells) {
            JsonNode sweep = result.sweep().path("result");
            md.append("| ").append(result.cell().name())
                    .append(" | ").append(turn(sweep.path("expert_a_turn")))
                    .append(" | ").append(turn(sweep.path("expert_b_turn")))
                    .append(" | ").append(sweep.path("critical_step").asLong()).append(" [")
                    .append(sweep.path("critical_step_ci95").path(0).asLong()).append(", ")
                    .append(sweep.path("critical_step_ci95").path(1).asLong()).append("]")
                    .append(" | ").append(interval(sweep.path("last_step_minus_critical"), "difference"))
                    .append(" | ").append(sweep.path("interior_minimum").asBoolean() ? "**yes**" : "no")
                    .append(" | ").append(result.seconds())
                    .append(" |\n");
        }
        for (CellResult result : cells) {
            md.append("\n## ").append(result.cell().name()).append("\n\n")
                    .append(result.sweep().path("result").path("verdict").asString()).append(".\n\n");
            md.append("| step | math alone | code alone | merge (best α) | gain over better expert [95% CI] "
                    + "| CKA gsm-hard | CKA WikiText |\n|---|---|---|---|---|---|---|\n");
            for (JsonNode row : result.sweep().path("result").path("rows")) {
                md.append("| ").append(row.path("step").asLong())
                        .append(" | ").append(withSe(row, "expert_a_loss"))
                        .append(" | ").append(withSe(row, "expert_b_loss"))
                        .append(" | ").append(withSe(row, "merge_loss")).append(" (").append(num(row.path("best_alpha"))).append(")")
                        .append(" | ").append(interval(row.path("gain_over_better_expert"), "gain"))
                        .append(" | ").append(num(row.path("cka_adaptation")))
                        .append(" | ").append(num(row.path("cka_reference"))).append(" |\n");
            }
        }
        md.append("\n## Compatibility model over these sweeps\n\n```json\n")
                .append(ConsortClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(compatibility))
                .append("\n```\n");
        return md.toString();
    }
}
