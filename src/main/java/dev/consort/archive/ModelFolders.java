package dev.consort.archive;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.springframework.stereotype.Component;

import dev.consort.checkpoint.Checkpoint;
import dev.consort.checkpoint.CheckpointModels;
import dev.consort.dataset.Dataset;
import dev.consort.dataset.DatasetService;
import dev.consort.job.JobRepository;
import dev.consort.job.JobView;
import dev.consort.safetensors.DType;
import dev.consort.safetensors.SafetensorsReader;
import dev.consort.safetensors.SafetensorsWriter;
import dev.consort.safetensors.TensorInfo;
import dev.consort.storage.BlobStore;
import dev.consort.storage.ScratchDirectory;
import dev.consort.web.ApiProblem;
import tools.jackson.databind.json.JsonMapper;

/**
 * A stored checkpoint as the folder a Hugging Face user expects: config, weights, tokenizer, generation settings
 * and a model card. Everything but the weights is built when asked for; the weights stream from the blob store.
 */
@Component
class ModelFolders {

    /** Ancestors followed at most, parent first: a lineage longer than this is cut in the card. */
    private static final int MAX_LINEAGE = 50;

    /** A folder's directory name in its archive, its files in order, and a converted weights file to remove after. */
    record Folder(String name, List<FolderEntry> entries, Path converted) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            if (converted != null) {
                Files.deleteIfExists(converted);
            }
        }
    }

    /** The dtypes a folder's weights may be downloaded in, by transformers' names. */
    static final Map<String, DType> DTYPES = Map.of("float32", DType.F32, "float16", DType.F16, "bfloat16", DType.BF16);

    private final CheckpointModels checkpoints;
    private final JobRepository jobs;
    private final DatasetService datasets;
    private final BlobStore blobs;
    private final JsonMapper json;
    private final ScratchDirectory scratch;

    ModelFolders(CheckpointModels checkpoints, JobRepository jobs, DatasetService datasets, BlobStore blobs,
            JsonMapper json, ScratchDirectory scratch) {
        this.scratch = scratch;
        this.checkpoints = checkpoints;
        this.jobs = jobs;
        this.datasets = datasets;
        this.blobs = blobs;
        this.json = json;
    }

    /**
     * The folder of checkpoint {@code id} in the caller's tenant (404 otherwise), its weights in {@code dtype} (null:
     * as stored). A conversion is written to this process's scratch directory first, since an archive names each
     * file's size before its bytes; the caller closes the folder to remove it.
     */
    Folder of(UUID id, DType dtype) throws IOException {
        Checkpoint checkpoint = checkpoints.checkpoint(id);
        Path converted = dtype == null || dtype.name().equals(checkpoint.dtype()) ? null : convert(checkpoint, dtype);
        JobView job = checkpoint.producingJobId() == null ? null : jobs.find(checkpoint.producingJobId()).orElse(null);
        ModelCard card = new ModelCard(checkpoint, lineage(checkpoint), job, datasetNames(job));
        List<FolderEntry> entries = new ArrayList<>();
        String weightsDtype = converted != null ? dtype.name() : checkpoint.dtype();
        entries.add(FolderEntry.of("config.json", HfGpt2Files.config(checkpoint, checkpoints.config(checkpoint),
                weightsDtype, json)));
        entries.add(converted != null
                ? new FolderEntry("model.safetensors", Files.size(converted), () -> Files.newInputStream(converted))
                : new FolderEntry("model.safetensors", checkpoint.weightsBytes(),
                        () -> blobs.open(checkpoint.weightsSha256())));
        for (String file : HfGpt2Files.TOKENIZER_FILES) {
            entries.add(FolderEntry.of(file, HfGpt2Files.resource(file)));
        }
        entries.add(FolderEntry.of("tokenizer_config.json", HfGpt2Files.tokenizerConfig(checkpoint, json)));
        entries.add(FolderEntry.of("special_tokens_map.json", HfGpt2Files.specialTokensMap(json)));
        entries.add(FolderEntry.of("generation_config.json", HfGpt2Files.generationConfig(checkpoint, json)));
        entries.add(FolderEntry.of("README.md", card.render(json).getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        entries.add(FolderEntry.of("TOKENIZER-NOTICE.md", HfGpt2Files.resource("NOTICE.md")));
        return new Folder(folderName(checkpoint.name(), "checkpoint-" + checkpoint.id()), entries, converted);
    }

    /** The checkpoint's weights in {@code dtype}, tensor by tensor, as a scratch file. */
    private Path convert(Checkpoint checkpoint, DType dtype) throws IOException {
        Path stored = blobs.localCopy(checkpoint.weightsSha256());
        Path converted = Files.createTempFile(scratch.path(), "weights-", ".safetensors");
        try (SafetensorsReader reader = SafetensorsReader.open(stored)) {
            List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
            for (Map.Entry<String, TensorInfo> tensor : reader.tensors().entrySet()) {
                tensors.add(new SafetensorsWriter.Tensor(tensor.getKey(), tensor.getValue().shape(),
                        () -> reader.floats(tensor.getKey())));
            }
            SafetensorsWriter.write(converted, tensors, dtype);
            return converted;
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(converted);
            throw e;
        }
    }

    /** Parent, grandparent, …: as far as the tenant sees them (a parent deleted since ends the line). */
    private List<Checkpoint> lineage(Checkpoint checkpoint) {
        List<Checkpoint> lineage = new ArrayList<>();
        UUID parent = checkpoint.parentId();
        while (parent != null && lineage.size() < MAX_LINEAGE) {
            Checkpoint ancestor;
            try {
                ancestor = checkpoints.checkpoint(parent);
            } catch (ApiProblem gone) {
                break;
            }
            lineage.add(ancestor);
            parent = ancestor.parentId();
        }
        return lineage;
    }

    private Map<UUID, String> datasetNames(JobView job) {
        Map<UUID, String> names = new LinkedHashMap<>();
        for (UUID id : ModelCard.datasetIds(job)) {
            try {
                Dataset dataset = datasets.get(id);
                String name = dataset.getName() != null ? dataset.getName() : dataset.getFileName();
                if (name != null) {
                    names.put(id, name);
                }
            } catch (ApiProblem gone) {
                // deleted since: the card names it by id
            }
        }
        return names;
    }

    /** A model's name as a safe directory name in an archive (at most 100 characters), or {@code fallback}. */
    static String folderName(String name, String fallback) {
        String safe = name == null ? "" : name.replaceAll("[^A-Za-z0-9._-]+", "-").replaceAll("^[.-]+", "");
        return safe.isEmpty() ? fallback : safe.substring(0, Math.min(100, safe.length()));
    }
}
