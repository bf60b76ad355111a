package dev.consort.checkpoint;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;
import org.springframework.http.HttpStatus;

import dev.consort.safetensors.DType;
import dev.consort.safetensors.SafetensorsFormatException;
import dev.consort.safetensors.SafetensorsReader;
import dev.consort.safetensors.SafetensorsWriter;
import dev.consort.safetensors.TensorInfo;
import dev.consort.storage.StorageUnavailableException;
import dev.consort.web.ApiProblem;
import dev.consort.web.ProblemType;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A Hugging Face GPT-2 folder uploaded as one tar, tar.gz or zip: its {@code config.json} and its weights, either
 * {@code model.safetensors} or the shards a {@code model.safetensors.index.json} names, joined into one file. Only
 * those files are extracted (by their base names, into a directory of the caller's), at most {@code maxBytes} in
 * all, so neither a path in the archive nor a compression bomb reaches anything else. A folder with only pickled
 * weights ({@code pytorch_model.bin}) is refused: reading a pickle runs code the file carries.
 */
final class CheckpointFolder {

    static final String INDEX = "model.safetensors.index.json";
    private static final Pattern SAFE_NAME = Pattern.compile("[A-Za-z0-9._-]{1,200}");
    private static final Set<String> PICKLES = Set.of("pytorch_model.bin", "pytorch_model.bin.index.json");
    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** The config and the one safetensors file, both in the extraction directory. */
    record Contents(Path config, Path weights) {}

    private CheckpointFolder() {}

    static Contents extract(InputStream archive, Path dir, long maxBytes) throws IOException {
        Map<String, Path> files = new LinkedHashMap<>();
        Set<String> seen = new TreeSet<>();
        long[] written = {0};
        BufferedInputStream in = new BufferedInputStream(archive);
        in.mark(4);
        byte[] magic = in.readNBytes(4);
        in.reset();
        // Failures to read the archive are the upload's (422); failures to write what it holds are the disk's (507).
        try {
            if (magic.length >= 2 && magic[0] == 'P' && magic[1] == 'K') {
                try (ZipInputStream zip = new ZipInputStream(in)) {
                    for (ZipEntry entry; (entry = zip.getNextEntry()) != null; ) {
                        if (!entry.isDirectory()) {
                            keep(baseName(entry.getName()), zip, dir, files, seen, written, maxBytes);
                        }
                    }
                }
            } else {
                InputStream tarBytes = magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b
                        ? new GzipCompressorInputStream(in) : in;
                try (TarArchiveInputStream tar = new TarArchiveInputStream(tarBytes)) {
                    for (TarArchiveEntry entry; (entry = tar.getNextEntry()) != null; ) {
                        if (entry.isFile()) {
                            keep(baseName(entry.getName()), tar, dir, files, seen, written, maxBytes);
                        }
                    }
                }
            }
        } catch (IllegalArgumentException | IOException e) {
            throw invalid("archive", seen.isEmpty()
                    ? "is not a tar, tar.gz or zip archive (" + e.getMessage() + ")"
                    : "is truncated or corrupt after " + seen.size() + " files (" + e.getMessage() + ")");
        }
        if (seen.isEmpty()) {
            throw invalid("archive", "holds no files: it is empty, or not a tar, tar.gz or zip archive");
        }
        Path config = files.get("config.json");
        if (config == null) {
            throw invalid("archive", "holds no config.json" + (seen.isEmpty() ? "" : " (it holds " + seen + ")"));
        }
        if (files.containsKey("model.safetensors")) {
            return new Contents(config, files.get("model.safetensors"));
        }
        if (files.containsKey(INDEX)) {
            return new Contents(config, joinShards(files, dir));
        }
        if (seen.stream().anyMatch(name -> PICKLES.contains(name) || name.endsWith(".bin"))) {
            throw invalid("archive", "holds pytorch_model.bin but no safetensors weights. A .bin file is a Python "
                    + "pickle, and reading one runs whatever code it carries, so Consort never opens it. Convert it "
                    + "first, e.g. with transformers: GPT2LMHeadModel.from_pretrained(folder).save_pretrained(out, "
                    + "safe_serialization=True), then upload the folder with model.safetensors");
        }
        throw invalid("archive", "holds no model.safetensors and no " + INDEX + " (it holds " + seen + ")");
    }

    /** The part of a path after its last separator; a folder's files may sit at the top or in one directory. */
    private static String baseName(String path) {
        String name = path.replace('\\', '/');
        return name.substring(name.lastIndexOf('/') + 1);
    }

    private static boolean wanted(String name) {
        return name.equals("config.json") || name.equals(INDEX) || name.endsWith(".safetensors");
    }

    private static void keep(String name, InputStream entry, Path dir, Map<String, Path> files, Set<String> seen,
            long[] written, long maxBytes) throws IOException {
        if (name.isEmpty() || name.startsWith(".")) {
            return;
        }
        seen.add(name);
        if (!wanted(name)) {
            return;
        }
        if (!SAFE_NAME.matcher(name).matches()) {
            throw invalid("archive", "holds a file named \"" + name + "\"; names may use letters, digits, '.', '_' "
                    + "and '-'");
        }
        if (files.containsKey(name)) {
            throw invalid("archive", "holds " + name + " twice; upload one model folder per archive");
        }
        Path file = dir.resolve(name);
        OutputStream out;
        try {
            out = Files.newOutputStream(file);
        } catch (IOException e) {
            throw new StorageUnavailableException("cannot unpack an uploaded folder", e);
        }
        try (out) {
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = entry.read(buffer)) > 0; ) {
                written[0] += n;
                if (written[0] > maxBytes) {
                    throw invalid("archive", "unpacks to more than " + maxBytes + " bytes of config and weights, the "
                            + "most accepted (consort.upload.max-bytes)");
                }
                try {
                    out.write(buffer, 0, n);
                } catch (IOException e) {
                    throw new StorageUnavailableException("cannot unpack an uploaded folder", e);
                }
            }
        }
        files.put(name, file);
    }

    /**
     * The tensors of every shard the index's {@code weight_map} names, in one file: F16 when every tensor is F16,
     * otherwise F32 (which holds F16 and BF16 exactly).
     */
    private static Path joinShards(Map<String, Path> files, Path dir) throws IOException {
        JsonNode index;
        try {
            index = JSON.readTree(files.get(INDEX).toFile());
        } catch (JacksonException e) {
            throw invalid(INDEX, "is not valid JSON: " + e.getOriginalMessage());
        }
        JsonNode weightMap = index == null ? null : index.path("weight_map");
        if (weightMap == null || !weightMap.isObject() || weightMap.isEmpty()) {
            throw invalid(INDEX, "has no weight_map of tensor names to shard files");
        }
        Map<String, SafetensorsReader> shards = new LinkedHashMap<>();
        try {
            List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
            boolean allF16 = true;
            for (Map.Entry<String, JsonNode> entry : weightMap.properties()) {
                String shard = entry.getValue().asString("");
                if (!files.containsKey(shard)) {
                    throw invalid(INDEX, "names the shard \"" + shard + "\" for " + entry.getKey()
                            + ", which is not in the archive");
                }
                SafetensorsReader reader = shards.get(shard);
                if (reader == null) {
                    try {
                        reader = SafetensorsReader.open(files.get(shard));
                    } catch (SafetensorsFormatException e) {
                        throw invalid(shard, e.getMessage());
                    }
                    shards.put(shard, reader);
                }
                TensorInfo info = reader.tensors().get(entry.getKey());
                if (info == null) {
                    throw invalid(shard, "lacks " + entry.getKey() + ", which " + INDEX + " places in it");
                }
                allF16 &= info.dtype() == DType.F16;
                SafetensorsReader source = reader;
                tensors.add(new SafetensorsWriter.Tensor(entry.getKey(), info.shape(), () -> source.floats(entry.getKey())));
            }
            Path joined = dir.resolve("joined.safetensors");
            SafetensorsWriter.write(joined, tensors, allF16 ? DType.F16 : DType.F32);
            return joined;
        } finally {
            for (SafetensorsReader reader : shards.values()) {
                reader.close();
            }
        }
    }

    private static ApiProblem invalid(String field, String message) {
        return new ApiProblem(HttpStatus.UNPROCESSABLE_CONTENT, ProblemType.INVALID_CHECKPOINT, field + ": " + message,
                List.of(new ApiProblem.FieldError(field, message)));
    }
}
