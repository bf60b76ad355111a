package dev.consort.archive;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.springframework.stereotype.Component;

import dev.consort.job.JobRepository;
import dev.consort.job.JobView;
import dev.consort.merge.RoutedModelCatalog;
import dev.consort.merge.StoredRoutedModel;
import dev.consort.merge.features.RoutedModelDescription;
import dev.consort.storage.BlobStore;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A routed model (a feature-space merge) as one folder: its description and router weights, each member (the base,
 * the experts) as a complete Hugging Face folder, and a README saying how the parts make the model and what
 * transformers cannot load.
 */
@Component
class RoutedModelFolders {

    private final RoutedModelCatalog routedModels;
    private final ModelFolders checkpoints;
    private final JobRepository jobs;
    private final BlobStore blobs;
    private final JsonMapper json;

    RoutedModelFolders(RoutedModelCatalog routedModels, ModelFolders checkpoints, JobRepository jobs, BlobStore blobs,
            JsonMapper json) {
        this.routedModels = routedModels;
        this.checkpoints = checkpoints;
        this.jobs = jobs;
        this.blobs = blobs;
        this.json = json;
    }

    /** The folder of routed model {@code id} in the caller's tenant (404 otherwise). */
    ModelFolders.Folder of(UUID id) throws IOException {
        StoredRoutedModel stored = routedModels.find(id);
        RoutedModelDescription description = RoutedModelDescription.parse(
                stored.descriptionJson().getBytes(StandardCharsets.UTF_8));
        List<FolderEntry> entries = new ArrayList<>();
        entries.add(FolderEntry.of("README.md", readme(stored, description).getBytes(StandardCharsets.UTF_8)));
        entries.add(FolderEntry.of("routed_model.json", stored.descriptionJson().getBytes(StandardCharsets.UTF_8)));
        if (stored.routerSha256() != null) {
            entries.add(new FolderEntry("router.safetensors", stored.routerBytes(), () -> blobs.open(stored.routerSha256())));
        }
        if (description.baseId() != null) {
            addMember(entries, "base/", UUID.fromString(description.baseId()));
        }
        for (int i = 0; i < description.expertIds().size(); i++) {
            addMember(entries, "experts/" + i + "/", UUID.fromString(description.expertIds().get(i)));
        }
        return new ModelFolders.Folder(ModelFolders.folderName(stored.name(), "routed-model-" + id), entries, null);
    }

    private void addMember(List<FolderEntry> entries, String prefix, UUID checkpoint) throws IOException {
        for (FolderEntry entry : checkpoints.of(checkpoint, null).entries()) {
            entries.add(new FolderEntry(prefix + entry.name(), entry.size(), entry.content()));
        }
    }

    private String readme(StoredRoutedModel stored, RoutedModelDescription description) {
        JsonNode spec = json.readTree(stored.descriptionJson());
        Map<String, Object> front = new LinkedHashMap<>();
        if (description.baseId() != null) {
            front.put("base_model", description.baseId());
        }
        front.put("tags", List.of("consort", "gpt2", "merge", stored.kind()));
        front.put("library_name", "consort");
        StringBuilder card = new StringBuilder("---\n").append(ModelCard.yaml().dump(front)).append("---\n\n");
        card.append("# ").append(stored.name() != null ? stored.name() : "routed model " + stored.id()).append("\n\n");
        card.append("A feature-space merge made by Consort (`").append(stored.kind()).append("`, routed model `")
                .append(stored.id()).append("`): GPT-2 with ").append(description.nLayer()).append(" layers of width ")
                .append(description.nEmbd()).append(", whose every block adds a mixture of its members' MLP outputs ")
                .append("instead of one MLP's.\n\n");
        card.append("## What is here\n\n")
                .append("- `routed_model.json`: how the members are mixed (method, router kind, span, top_k, α, "
                        + "include_base) and which checkpoints they are.\n")
                .append(stored.routerSha256() != null ? "- `router.safetensors`: the routers' weights, F32, named "
                        + "`router.single.*` or `router.layer.<i>.*`.\n" : "- no routers: the mixture is fixed (α).\n")
                .append(description.baseId() != null ? "- `base/`: the base, a Hugging Face GPT-2 folder.\n" : "")
                .append("- `experts/<i>/`: each expert in router order, a Hugging Face GPT-2 folder.\n\n");
        card.append("## How to run it\n\n")
                .append("transformers cannot load the mixture: `GPT2LMHeadModel` has one MLP per block, and no class "
                        + "of it reads `routed_model.json` or the routers. Each member folder loads on its own with "
                        + "`GPT2LMHeadModel.from_pretrained`.\n\n")
                .append("The model runs the forward pass of ")
                .append(description.baseId() != null ? "`base/`" : "`experts/0/`")
                .append(" (embeddings, attention, layer norms, the tied output layer) and, at block l, replaces the MLP "
                        + "output with Σₑ wₑ(x)·MLPₑ(ln_2(x)), the members' MLPs of that block (of blocks l … l+span-1 "
                        + "for multi-layer routing) weighted by the routers' softmax over their scores of the residual "
                        + "stream, top_k of them kept; activation interpolation uses the fixed α instead. Consort runs "
                        + "it: upload the members and use `POST /routed-models/{id}/completions`, or evaluate it in a "
                        + "merge job.\n\n");
        card.append("Its description:\n\n```json\n").append(json.writerWithDefaultPrettyPrinter().writeValueAsString(spec))
                .append("\n```\n\n");
        card.append("## Evaluation\n\n").append(evaluation(stored));
        return card.toString();
    }

    /** The losses its merge job measured on it, with their standard errors. */
    private String evaluation(StoredRoutedModel stored) {
        JobView job = stored.producingJobId() == null ? null : jobs.find(stored.producingJobId()).orElse(null);
        return ModelCard.lossTable(job, stored.id(), java.util.Map.of());
    }
}
