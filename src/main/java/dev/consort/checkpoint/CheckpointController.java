package dev.consort.checkpoint;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

import org.springframework.core.io.Resource;
import org.springframework.http.ContentDisposition;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RequestPart;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.multipart.MultipartFile;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;

import dev.consort.storage.BlobResource;
import dev.consort.storage.BlobStore;
import dev.consort.web.CursorPage;

@Tag(name = "Checkpoints", description = "GPT-2 checkpoints in Hugging Face format: config.json + model.safetensors")
@RestController
@RequestMapping("/checkpoints")
class CheckpointController {

    private static final String PROBLEM = MediaType.APPLICATION_PROBLEM_JSON_VALUE;

    private final CheckpointUploadService uploads;
    private final CheckpointCatalog catalog;
    private final BlobStore blobStore;

    CheckpointController(CheckpointUploadService uploads, CheckpointCatalog catalog, BlobStore blobStore) {
        this.uploads = uploads;
        this.catalog = catalog;
        this.blobStore = blobStore;
    }

    @Operation(operationId = "uploadCheckpoint", summary = "Upload a checkpoint",
            description = "Multipart upload of a Hugging Face GPT-2 checkpoint. The weights are validated "
                    + "completely before anything is stored: the safetensors header and offsets, dtypes "
                    + "(F32, F16, BF16, F64), every tensor's name and shape against config.json (names with "
                    + "or without the transformer. prefix, Conv1D weights [in, out], optional lm_head.weight), "
                    + "and no NaN or infinite value. The weights file may be at most consort.upload.max-bytes "
                    + "(2 GiB by default).")
    @ApiResponse(responseCode = "201", description = "Stored; Location names the new checkpoint")
    @ApiResponse(responseCode = "400", description = "A required part is missing",
            content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = ProblemDetail.class)))
    @ApiResponse(responseCode = "408", description = "The body arrived slower than "
            + "consort.limits.request-body-min-rate (request-timeout); nothing was stored",
            content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = ProblemDetail.class)))
    @ApiResponse(responseCode = "413", description = "The weights exceed the upload limit",
            content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = ProblemDetail.class)))
    @ApiResponse(responseCode = "422", description = "Not a valid GPT-2 checkpoint; errors[] names each "
            + "tensor or config field at fault",
            content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = ProblemDetail.class)))
    @ApiResponse(responseCode = "503", description = "consort.limits.concurrent-uploads uploads are in progress "
            + "(capacity-exceeded); retry after Retry-After seconds",
            content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = ProblemDetail.class)))
    @ApiResponse(responseCode = "507", description = "The service could not write to its storage "
            + "(storage-unavailable); nothing was stored",
            content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = ProblemDetail.class)))
    @PostMapping(consumes = MediaType.MULTIPART_FORM_DATA_VALUE)
    ResponseEntity<CheckpointView> upload(
            @Parameter(description = "config.json of the model (Hugging Face GPT2Config)")
            @RequestPart("config") MultipartFile config,
            @Parameter(description = "model.safetensors")
            @RequestPart("weights") MultipartFile weights,
            @Parameter(description = "optional display name, at most 200 characters")
            @RequestPart(name = "name", required = false) String name) throws IOException {
        CheckpointView created;
        try (InputStream configIn = config.getInputStream(); InputStream weightsIn = weights.getInputStream()) {
            created = uploads.upload(configIn, weightsIn, name);
        }
        return ResponseEntity.created(URI.create("/checkpoints/" + created.id())).body(created);
    }

    @Operation(operationId = "uploadCheckpointFolder", summary = "Upload a Hugging Face model folder as one archive",
            description = "One tar, tar.gz or zip holding a GPT-2 folder as transformers saves it: config.json and "
                    + "model.safetensors, or sharded weights (model.safetensors.index.json and every shard it names, "
                    + "joined into one file: F16 when every tensor is F16, else F32). The files may sit at the top of "
                    + "the archive or in one directory; the tokenizer and other files are ignored. The result is "
                    + "validated and stored exactly like POST /checkpoints. Weights only as pytorch_model.bin are "
                    + "refused: a .bin is a Python pickle, and reading one runs code it carries.")
    @ApiResponse(responseCode = "201", description = "Stored; Location names the new checkpoint")
    @ApiResponse(responseCode = "422", description = "Not a GPT-2 folder: no config.json, weights only as "
            + "pytorch_model.bin, a shard the index names missing, or the checkpoint invalid (errors[] names each)",
            content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = ProblemDetail.class)))
    @PostMapping(path = "/archive", consumes = MediaType.MULTIPART_FORM_DATA_VALUE)
    ResponseEntity<CheckpointView> uploadFolder(
            @Parameter(description = "the folder as .tar, .tar.gz or .zip")
            @RequestPart("archive") MultipartFile archive,
            @Parameter(description = "optional display name, at most 200 characters")
            @RequestPart(name = "name", required = false) String name) throws IOException {
        CheckpointView created;
        try (InputStream in = archive.getInputStream()) {
            created = uploads.uploadFolder(in, name);
        }
        return ResponseEntity.created(URI.create("/checkpoints/" + created.id())).body(created);
    }

    @Operation(operationId = "listCheckpoints", summary = "List checkpoints, newest first")
    @GetMapping
    CursorPage<CheckpointView> list(
            @Parameter(description = "the next_after of the previous page") @RequestParam(required = false) UUID after,
            @Parameter(description = "page size, 1 to 500 (default 50)")
            @RequestParam(required = false) Integer limit) {
        return catalog.page(after, CursorPage.checkedLimit(limit));
    }

    @Operation(operationId = "getCheckpoint", summary = "Get a checkpoint")
    @ApiResponse(responseCode = "200", description = "The checkpoint")
    @ApiResponse(responseCode = "404", description = "No such checkpoint",
            content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = ProblemDetail.class)))
    @GetMapping("/{id}")
    CheckpointView get(@PathVariable UUID id) {
        return CheckpointView.of(catalog.find(id));
    }

    @Operation(operationId = "downloadCheckpointWeights", summary = "Download model.safetensors",
            description = "The weights exactly as stored; the ETag is their sha256. Range requests are supported.")
    @ApiResponse(responseCode = "200", description = "The weights",
            content = @Content(mediaType = MediaType.APPLICATION_OCTET_STREAM_VALUE,
                    schema = @Schema(type = "string", format = "binary")))
    @ApiResponse(responseCode = "404", description = "No such checkpoint",
            content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = ProblemDetail.class)))
    @GetMapping("/{id}/model.safetensors")
    ResponseEntity<Resource> weights(@PathVariable UUID id, WebRequest request) {
        Checkpoint checkpoint = catalog.find(id);
        String etag = "\"" + checkpoint.weightsSha256() + "\"";
        if (request.checkNotModified(etag)) {
            return ResponseEntity.status(HttpStatus.NOT_MODIFIED).eTag(etag).build();
        }
        return ResponseEntity.ok()
                .contentType(MediaType.APPLICATION_OCTET_STREAM)
                .eTag(etag)
                .header(HttpHeaders.CONTENT_DISPOSITION,
                        ContentDisposition.attachment().filename("model.safetensors").build().toString())
                .body(new BlobResource(blobStore, checkpoint.weightsSha256(), checkpoint.weightsBytes()));
    }

    @Operation(operationId = "downloadCheckpointConfig", summary = "Download config.json",
            description = "The config.json exactly as uploaded")
    @ApiResponse(responseCode = "200", description = "The config",
            content = @Content(mediaType = MediaType.APPLICATION_JSON_VALUE,
                    schema = @Schema(type = "object", description = "Hugging Face GPT2Config")))
    @ApiResponse(responseCode = "404", description = "No such checkpoint",
            content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = ProblemDetail.class)))
    @GetMapping("/{id}/config.json")
    ResponseEntity<byte[]> config(@PathVariable UUID id) {
        Checkpoint checkpoint = catalog.find(id);
        return ResponseEntity.ok()
                .contentType(MediaType.APPLICATION_JSON)
                .header(HttpHeaders.CONTENT_DISPOSITION,
                        ContentDisposition.inline().filename("config.json").build().toString())
                .body(checkpoint.configJson().getBytes(StandardCharsets.UTF_8));
    }

    @Operation(operationId = "deleteCheckpoint", summary = "Delete a checkpoint",
            description = "Refused with 409 while a queued or running job reads it. Checkpoints derived from it "
                    + "keep existing and lose their parent_id.")
    @ApiResponse(responseCode = "204", description = "Deleted")
    @ApiResponse(responseCode = "404", description = "No such checkpoint",
            content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = ProblemDetail.class)))
    @ApiResponse(responseCode = "409", description = "In use by an unfinished job; errors[] names each job",
            content = @Content(mediaType = PROBLEM, schema = @Schema(implementation = ProblemDetail.class)))
    @DeleteMapping("/{id}")
    ResponseEntity<Void> delete(@PathVariable UUID id) {
        catalog.delete(id);
        return ResponseEntity.noContent().build();
    }
}
