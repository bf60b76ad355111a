package dev.consort.dataset;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.NoSuchFileException;
import java.util.UUID;

import org.springframework.core.io.InputStreamResource;
import org.springframework.core.io.Resource;
import org.springframework.http.ContentDisposition;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RequestPart;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.multipart.MultipartFile;
import org.springframework.web.servlet.support.ServletUriComponentsBuilder;

import dev.consort.web.ApiProblem;
import dev.consort.web.CursorPage;
import dev.consort.web.ProblemType;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;

@Tag(name = "Datasets", description = "Training and evaluation text, tokenized with GPT-2's BPE")
@RestController
@RequestMapping("/datasets")
class DatasetController {

    private final DatasetService datasets;
    private final DatasetTokens tokens;

    DatasetController(DatasetService datasets, DatasetTokens tokens) {
        this.datasets = datasets;
        this.tokens = tokens;
    }

    @Operation(operationId = "uploadDataset", summary = "Upload and tokenize a dataset", description = """
            Reads `file` as records: a `.txt` file's blocks between blank lines (or the whole file with \
            `txt_mode=whole`), a `.jsonl` file's lines, or a `.json` array's objects. The `template` builds \
            each record's text from its top-level fields; the text is tokenized with GPT-2's BPE and every \
            record is followed by `<|endoftext|>` (50256). The last `val_fraction` of the records (at least \
            one, never all) become the validation split, unless `validation_file` supplies them.""")
    @ApiResponse(responseCode = "201", description = "Stored; Location names the dataset")
    @ApiResponse(responseCode = "400", description = "The `file` part is missing",
            content = @Content(mediaType = "application/problem+json"))
    @ApiResponse(responseCode = "408", description = "The body arrived slower than "
            + "consort.limits.request-body-min-rate (`request-timeout`); nothing was stored",
            content = @Content(mediaType = "application/problem+json"))
    @ApiResponse(responseCode = "422", description = "A form field is invalid (`validation-failed`), or the "
            + "content is not records (`invalid-dataset`: names the file and line)",
            content = @Content(mediaType = "application/problem+json"))
    @ApiResponse(responseCode = "503", description = "consort.limits.concurrent-uploads uploads are in progress "
            + "(`capacity-exceeded`); retry after Retry-After seconds",
            content = @Content(mediaType = "application/problem+json"))
    @ApiResponse(responseCode = "507", description = "The service could not write to its storage "
            + "(`storage-unavailable`); nothing was stored",
            content = @Content(mediaType = "application/problem+json"))
    @PostMapping(consumes = MediaType.MULTIPART_FORM_DATA_VALUE)
    ResponseEntity<DatasetView> upload(
            @Parameter(description = "The records, as .txt, .jsonl or .json (an array of objects), UTF-8")
            @RequestPart(name = "file") MultipartFile file,
            @Parameter(description = "Validation records in the same format, instead of val_fraction")
            @RequestPart(name = "validation_file", required = false) MultipartFile validationFile,
            @Parameter(description = "At most 200 characters; defaults to the file's name")
            @RequestPart(name = "name", required = false) String name,
            @Parameter(description = "Defaults to what the file name's extension says",
                    schema = @Schema(allowableValues = {"txt", "jsonl", "json"}))
            @RequestPart(name = "format", required = false) String format,
            @Parameter(description = "Text of each record from its fields, such as `{question}\\n{answer}`: "
                    + "`{field}` inserts a top-level field, `{{`/`}}` are literal braces, `\\n`, `\\t`, `\\\\` "
                    + "are escapes. A txt record has the one field `{text}`.",
                    schema = @Schema(defaultValue = "{text}"))
            @RequestPart(name = "template", required = false) String template,
            @Parameter(description = "Fraction of the records, the last ones, held out for validation: "
                    + "0 ≤ f < 1; not with validation_file",
                    schema = @Schema(type = "number", defaultValue = "0.1"))
            @RequestPart(name = "val_fraction", required = false) String valFraction,
            @Parameter(description = "txt only: `records` (blocks between blank lines) or `whole` (one record)",
                    schema = @Schema(allowableValues = {"records", "whole"}, defaultValue = "records"))
            @RequestPart(name = "txt_mode", required = false) String txtMode) throws IOException {
        DatasetUpload upload = DatasetUpload.check(DatasetSource.of("file", file),
                validationFile == null ? null : DatasetSource.of("validation_file", validationFile),
                name, format, template, valFraction, txtMode);
        DatasetView view = DatasetView.of(datasets.create(upload));
        URI location = ServletUriComponentsBuilder.fromCurrentRequest().path("/{id}").buildAndExpand(view.id()).toUri();
        return ResponseEntity.created(location).body(view);
    }

    @Operation(operationId = "listDatasets", summary = "List datasets, newest first")
    @GetMapping
    CursorPage<DatasetView> list(
            @Parameter(description = "next_after of the previous page") @RequestParam(required = false) UUID after,
            @Parameter(description = "1 to 500, default 50") @RequestParam(required = false) Integer limit) {
        return datasets.list(after, CursorPage.checkedLimit(limit));
    }

    @Operation(operationId = "getDataset", summary = "Get a dataset")
    @ApiResponse(responseCode = "200", description = "The dataset", content = @Content(
            mediaType = MediaType.APPLICATION_JSON_VALUE, schema = @Schema(implementation = DatasetView.class)))
    @ApiResponse(responseCode = "404", content = @Content(mediaType = "application/problem+json"))
    @GetMapping(path = "/{id}", produces = MediaType.APPLICATION_JSON_VALUE)
    DatasetView get(@PathVariable UUID id) {
        return DatasetView.of(datasets.get(id));
    }

    @Operation(operationId = "deleteDataset", summary = "Delete a dataset", description = "Refused (409 `in-use`) while an unfinished job reads it.")
    @ApiResponse(responseCode = "204", description = "Deleted")
    @ApiResponse(responseCode = "404", content = @Content(mediaType = "application/problem+json"))
    @ApiResponse(responseCode = "409", description = "Unfinished jobs use it; the problem names them",
            content = @Content(mediaType = "application/problem+json"))
    @DeleteMapping("/{id}")
    ResponseEntity<Void> delete(@PathVariable UUID id) {
        datasets.delete(id);
        return ResponseEntity.noContent().build();
    }

    @Operation(operationId = "getDatasetTokens", summary = "Download a split's tokens", description = """
            The split's GPT-2 token ids as unsigned 16-bit little-endian integers, each record's tokens \
            followed by `<|endoftext|>` (50256): everything needed to reproduce a loss. An empty split \
            has an empty body. The ETag is the file's sha256.""")
    @ApiResponse(responseCode = "200", content = @Content(mediaType = MediaType.APPLICATION_OCTET_STREAM_VALUE,
            schema = @Schema(type = "string", format = "binary")))
    @ApiResponse(responseCode = "404", content = @Content(mediaType = "application/problem+json"))
    @GetMapping(path = "/{id}/tokens/{split}")
    ResponseEntity<Resource> tokens(@PathVariable UUID id,
            @Parameter(schema = @Schema(allowableValues = {"train", "validation"})) @PathVariable("split") String splitName)
            throws IOException {
        Split split = Split.named(splitName).orElseThrow(() -> new ApiProblem(HttpStatus.NOT_FOUND,
                ProblemType.NOT_FOUND, "No split \"" + splitName + "\": use train or validation"));
        TokenFile file = tokens.describe(id, split);
        InputStream in;
        try {
            in = tokens.open(file);
        } catch (NoSuchFileException e) {
            throw ApiProblem.notFound("dataset", id); // deleted between the lookup and the open
        }
        ResponseEntity.BodyBuilder response = ResponseEntity.ok()
                .contentType(MediaType.APPLICATION_OCTET_STREAM)
                .contentLength(file.bytes())
                .header(HttpHeaders.CONTENT_DISPOSITION, ContentDisposition.attachment()
                        .filename("dataset-" + id + "-" + split.wireName() + ".u16").build().toString());
        if (file.sha256() != null) {
            response.eTag("\"" + file.sha256() + "\"");
        }
        return response.body(new InputStreamResource(in));
    }
}
