package dev.consort.archive;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import org.yaml.snakeyaml.DumperOptions;
import org.yaml.snakeyaml.Yaml;

import dev.consort.checkpoint.Checkpoint;
import dev.consort.job.JobView;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The {@code README.md} of an exported model folder, as the Hugging Face Hub reads one: YAML front matter
 * ({@code base_model}, {@code tags} with {@code merge} and the method for merges, {@code datasets},
 * {@code library_name}), then how the model was made (a mergekit YAML for a weight-space merge, the job's settings
 * for a trained model), the losses its job measured, and its lineage back to an upload.
 *
 * @param lineage the checkpoint's ancestors, parent first, as far as the caller's tenant sees them
 * @param job     the job that produced it, or null for an upload
 * @param datasetNames the names of the datasets the job read, by id
 */
record ModelCard(Checkpoint checkpoint, List<Checkpoint> lineage, JobView job, Map<UUID, String> datasetNames) {

    /** The dataset ids a job's spec names (training data, adaptation data, evaluation data). */
    static Set<UUID> datasetIds(JobView job) {
        Set<UUID> ids = new LinkedHashSet<>();
        if (job == null || job.spec() == null) {
            return ids;
        }
        for (String field : List.of("dataset_id", "adaptation_dataset_id")) {
            if (job.spec().path(field).isString()) {
                ids.add(UUID.fromString(job.spec().path(field).asString()));
            }
        }
        for (String field : List.of("dataset_ids", "eval_dataset_ids")) {
            job.spec().path(field).forEach(id -> ids.add(UUID.fromString(id.asString())));
        }
        return ids;
    }

    String render(JsonMapper json) {
        StringBuilder card = new StringBuilder("---\n").append(yaml().dump(frontMatter())).append("---\n\n");
        card.append("# ").append(title()).append("\n\n");
        card.append("GPT-2 (").append(checkpoint.nLayer()).append(" layers, width ").append(checkpoint.nEmbd())
                .append(", ").append(checkpoint.nHead()).append(" heads, context ").append(checkpoint.nPositions())
                .append(", vocabulary ").append(checkpoint.vocabSize()).append("; ")
                .append(String.format(Locale.ROOT, "%,d", checkpoint.parameterCount()))
                .append(" parameters, ").append(checkpoint.dtype()).append("), exported by Consort from checkpoint `")
                .append(checkpoint.id()).append("`.\n\n");
        card.append("## Use\n\n```python\nfrom transformers import AutoTokenizer, GPT2LMHeadModel\n\n")
                .append("model = GPT2LMHeadModel.from_pretrained(\"path/to/this/folder\")\n")
                .append("tokenizer = AutoTokenizer.from_pretrained(\"path/to/this/folder\")\n```\n\n")
                .append("The tokenizer is OpenAI's GPT-2 byte-level BPE (see `TOKENIZER-NOTICE.md` for its source and "
                        + "licence).\n\n");
        card.append("## Recipe\n\n").append(recipe(json)).append('\n');
        card.append("## Evaluation\n\n").append(evaluation()).append('\n');
        card.append("## Lineage\n\n").append(lineageText());
        return card.toString();
    }

    private String title() {
        return checkpoint.name() != null && !checkpoint.name().isBlank() ? checkpoint.name()
                : "checkpoint " + checkpoint.id();
    }

    private Map<String, Object> frontMatter() {
        Map<String, Object> front = new LinkedHashMap<>();
        if (!lineage.isEmpty()) {
            front.put("base_model", reference(lineage.get(lineage.size() - 1)));
        }
        List<String> tags = new ArrayList<>(List.of("consort", "gpt2"));
        String method = mergeMethod();
        if (method != null) {
            tags.add("merge");
            tags.add(method);
        } else if (job != null) {
            tags.add(job.type());
        }
        front.put("tags", tags);
        List<String> datasets = datasetIds(job).stream().map(id -> datasetNames.getOrDefault(id, id.toString())).toList();
        if (!datasets.isEmpty()) {
            front.put("datasets", datasets);
        }
        front.put("library_name", "transformers");
        front.put("pipeline_tag", "text-generation");
        return front;
    }

    private static String reference(Checkpoint model) {
        return model.name() != null && !model.name().isBlank() ? model.name() : model.id().toString();
    }

    /** The merge method of this checkpoint's output in its merge job, or null when it is not a merge's output. */
    private String mergeMethod() {
        JsonNode output = mergeOutput();
        return output == null ? null : output.path("method").asString(null);
    }

    private JsonNode mergeOutput() {
        if (job == null || !"merge".equals(job.type()) || job.result() == null) {
            return null;
        }
        for (JsonNode output : job.result().path("outputs")) {
            if (checkpoint.id().toString().equals(output.path("checkpoint_id").asString(""))) {
                return output;
            }
        }
        return null;
    }

    private String recipe(JsonMapper json) {
        if (job == null) {
            return "Uploaded to Consort: no recipe was recorded.\n";
        }
        JsonNode output = mergeOutput();
        if (output != null) {
            return "A weight-space merge (job `" + job.id() + "`), as a mergekit config (models by Consort checkpoint "
                    + "id):\n\n```yaml\n" + yaml().dump(mergekit(output)) + "```\n";
        }
        return "Made by a `" + job.type() + "` job (`" + job.id() + "`)"
                + (checkpoint.step() != null ? ", saved at step " + checkpoint.step() : "") + ", with these settings:\n\n"
                + "```json\n" + json.writerWithDefaultPrettyPrinter().writeValueAsString(job.spec()) + "\n```\n";
    }

    /** The job's settings for this output's method, in mergekit's layout. */
    private Map<String, Object> mergekit(JsonNode output) {
        JsonNode spec = job.spec();
        JsonNode entry = spec;
        for (JsonNode candidate : spec.path("methods")) {
            boolean sameMethod = candidate.path("method").asString("").equals(output.path("method").asString());
            boolean sameLabel = !candidate.has("label") || candidate.path("label").asString("")
                    .equals(output.path("label").asString());
            if (sameMethod && sameLabel) {
                entry = candidate;
                break;
            }
        }
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("merge_method", output.path("method").asString());
        if (spec.path("base_checkpoint_id").isString()) {
            config.put("base_model", spec.path("base_checkpoint_id").asString());
        }
        List<Object> models = new ArrayList<>();
        JsonNode experts = spec.path("expert_ids");
        for (int i = 0; i < experts.size(); i++) {
            Map<String, Object> model = new LinkedHashMap<>();
            model.put("model", experts.get(i).asString());
            JsonNode parameters = entry.path("model_parameters").path(i);
            if (parameters.isObject() && !parameters.isEmpty()) {
                model.put("parameters", plain(parameters));
            }
            models.add(model);
        }
        config.put("models", models);
        if (entry.path("parameters").isObject() && !entry.path("parameters").isEmpty()) {
            config.put("parameters", plain(entry.path("parameters")));
        }
        config.put("dtype", spec.path("out_dtype").asString("float32"));
        return config;
    }

    /** A JSON value as plain Java maps, lists, strings and numbers, for the YAML writer. */
    private static Object plain(JsonNode node) {
        if (node.isObject()) {
            Map<String, Object> map = new LinkedHashMap<>();
            node.properties().forEach(field -> map.put(field.getKey(), plain(field.getValue())));
            return map;
        }
        if (node.isArray()) {
            List<Object> list = new ArrayList<>();
            node.forEach(item -> list.add(plain(item)));
            return list;
        }
        if (node.isIntegralNumber()) {
            return node.asLong();
        }
        if (node.isNumber()) {
            return node.asDouble();
        }
        if (node.isBoolean()) {
            return node.asBoolean();
        }
        return node.isNull() ? null : node.asString();
    }

    /** The losses the producing job measured on this checkpoint, with their standard errors. */
    private String evaluation() {
        return lossTable(job, checkpoint.id(), datasetNames);
    }

    /**
     * The rows of {@code job}'s results table that score {@code model} (an evaluated checkpoint, or a merge's output),
     * as a Markdown table of loss and standard error per dataset; a sentence when there are none.
     */
    static String lossTable(JobView job, UUID model, Map<UUID, String> datasetNames) {
        List<String> rows = new ArrayList<>();
        if (job != null && job.result() != null) {
            for (JsonNode row : job.result().path("rows")) {
                String id = model.toString();
                if (id.equals(row.path("checkpoint_id").asString("")) || id.equals(row.path("output_id").asString(""))) {
                    String dataset = row.path("dataset_id").asString("");
                    String name = dataset.isEmpty() ? "" : datasetNames.getOrDefault(UUID.fromString(dataset), dataset);
                    rows.add(String.format(Locale.ROOT, "| %s | %s | %d | %.4f | %.4f |", name,
                            row.path("split").asString(""), row.path("windows").asInt(), row.path("loss").asDouble(),
                            row.path("loss_se").asDouble()));
                }
            }
        }
        if (rows.isEmpty()) {
            return "Its job measured no losses of this model; an `evaluate` job measures them.\n";
        }
        return "Mean cross-entropy (nats per token) over the job's evaluation windows, with its standard error over the "
                + "windows:\n\n| dataset | split | windows | loss | standard error |\n|---|---|---|---|---|\n"
                + String.join("\n", rows) + "\n";
    }

    private String lineageText() {
        StringBuilder text = new StringBuilder("- this model: `").append(checkpoint.id()).append('`')
                .append(how(checkpoint)).append('\n');
        for (Checkpoint ancestor : lineage) {
            text.append("- from ").append(reference(ancestor)).append(" (`").append(ancestor.id()).append("`)")
                    .append(how(ancestor)).append('\n');
        }
        return text.toString();
    }

    private static String how(Checkpoint model) {
        if (!model.mergedFrom().isEmpty()) {
            return ", merged from " + model.mergedFrom().stream().map(id -> "`" + id + "`").toList();
        }
        if (model.producingJobId() != null) {
            return ", trained by job `" + model.producingJobId() + "`"
                    + (model.step() != null ? " to step " + model.step() : "");
        }
        return ", uploaded";
    }

    /** Block-style YAML, as model cards and mergekit configs are written by hand. */
    static Yaml yaml() {
        DumperOptions options = new DumperOptions();
        options.setDefaultFlowStyle(DumperOptions.FlowStyle.BLOCK);
        options.setIndicatorIndent(2);
        options.setIndentWithIndicator(true);
        return new Yaml(options);
    }
}
