package dev.consort.archive;

import java.io.IOException;
import java.util.UUID;

import jakarta.servlet.http.HttpServletResponse;

import org.springframework.http.ContentDisposition;
import org.springframework.http.HttpHeaders;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import dev.consort.safetensors.DType;
import dev.consort.web.ApiProblem;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;

/** {@code GET /checkpoints/{id}/archive}: a checkpoint as a complete Hugging Face model folder. */
@Tag(name = "checkpoints")
@RestController
class ModelFolderController {

    private final ModelFolders folders;
    private final RoutedModelFolders routedFolders;

    ModelFolderController(ModelFolders folders, RoutedModelFolders routedFolders) {
        this.folders = folders;
        this.routedFolders = routedFolders;
    }

    @Operation(operationId = "downloadCheckpointArchive", summary = "Download a checkpoint as a model folder",
            description = "A folder that transformers' GPT2LMHeadModel.from_pretrained and "
                    + "AutoTokenizer.from_pretrained load: config.json (with architectures, model_type and the rest "
                    + "filled in), model.safetensors as stored, the GPT-2 tokenizer (vocab.json, merges.txt, "
                    + "tokenizer.json, tokenizer_config.json, special_tokens_map.json, and its licence note), "
                    + "generation_config.json, and a README.md model card: YAML front matter (base_model, tags with "
                    + "merge and the method for merges, datasets, library_name), the recipe (a mergekit YAML for "
                    + "weight-space merges, the job's settings for trained models), the losses its job measured and "
                    + "the lineage. tar.gz by default; zip with ?format=zip or Accept: application/zip. ?dtype=float16 or "
                    + "bfloat16 converts the weights (rounded to nearest even; float32 holds both exactly).")
    @ApiResponse(responseCode = "200", description = "The folder, as one directory in the archive",
            content = {@Content(mediaType = "application/gzip", schema = @Schema(type = "string", format = "binary")),
                    @Content(mediaType = "application/zip", schema = @Schema(type = "string", format = "binary"))})
    @ApiResponse(responseCode = "404", description = "No such checkpoint",
            content = @Content(mediaType = "application/problem+json"))
    @GetMapping("/checkpoints/{id}/archive")
    void archive(@PathVariable UUID id,
            @Parameter(description = "tar.gz (default) or zip") @RequestParam(required = false) String format,
            @Parameter(description = "the weights' dtype: float32, float16 or bfloat16 (default: as stored)")
            @RequestParam(required = false) String dtype,
            @RequestHeader(value = HttpHeaders.ACCEPT, required = false) String accept,
            HttpServletResponse response) throws IOException {
        FolderArchive archive = archive(format, accept);
        DType weights = dtype == null ? null : ModelFolders.DTYPES.get(dtype);
        if (dtype != null && weights == null) {
            throw ApiProblem.badRequest("dtype", "must be float32, float16 or bfloat16, not " + dtype);
        }
        try (ModelFolders.Folder folder = folders.of(id, weights)) {
            send(folder, archive, response);
        }
    }

    @Operation(operationId = "downloadRoutedModelArchive", summary = "Download a routed model as one folder",
            description = "routed_model.json and router.safetensors, each member (base/ and experts/<i>/) as a "
                    + "complete Hugging Face GPT-2 folder, and a README saying how the parts make the model and what "
                    + "transformers cannot load (the mixture of MLPs). tar.gz by default; zip with ?format=zip or "
                    + "Accept: application/zip.")
    @ApiResponse(responseCode = "200", description = "The folder, as one directory in the archive",
            content = {@Content(mediaType = "application/gzip", schema = @Schema(type = "string", format = "binary")),
                    @Content(mediaType = "application/zip", schema = @Schema(type = "string", format = "binary"))})
    @ApiResponse(responseCode = "404", description = "No such routed model",
            content = @Content(mediaType = "application/problem+json"))
    @GetMapping("/routed-models/{id}/archive")
    void routedArchive(@PathVariable UUID id,
            @Parameter(description = "tar.gz (default) or zip") @RequestParam(required = false) String format,
            @RequestHeader(value = HttpHeaders.ACCEPT, required = false) String accept,
            HttpServletResponse response) throws IOException {
        FolderArchive archive = archive(format, accept);
        send(routedFolders.of(id), archive, response);
    }

    private static FolderArchive archive(String format, String accept) {
        FolderArchive archive = format != null ? FolderArchive.named(format)
                : accept != null && accept.contains("application/zip") ? FolderArchive.ZIP : FolderArchive.TAR_GZ;
        if (archive == null) {
            throw ApiProblem.badRequest("format", "must be tar.gz or zip, not " + format);
        }
        return archive;
    }

    private static void send(ModelFolders.Folder folder, FolderArchive archive, HttpServletResponse response)
            throws IOException {
        response.setContentType(archive.mediaType());
        response.setHeader(HttpHeaders.CONTENT_DISPOSITION, ContentDisposition.attachment()
                .filename(folder.name() + "." + archive.extension()).build().toString());
        archive.write(folder.name(), folder.entries(), response.getOutputStream());
    }
}
