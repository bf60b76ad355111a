package dev.consort.merge;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

import org.springframework.core.io.InputStreamResource;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import dev.consort.storage.BlobStore;
import dev.consort.web.ApiProblem;
import dev.consort.web.CursorPage;
import dev.consort.web.ProblemType;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;

@Tag(name = "routed-models", description = "Feature-space merges: experts' references, router weights and a description")
@RestController
@RequestMapping("/routed-models")
class RoutedModelController {

    private final RoutedModelCatalog catalog;
    private final BlobStore blobs;

    RoutedModelController(RoutedModelCatalog catalog, BlobStore blobs) {
        this.catalog = catalog;
        this.blobs = blobs;
    }

    @Operation(operationId = "listRoutedModels", summary = "List routed models, newest first")
    @GetMapping(produces = MediaType.APPLICATION_JSON_VALUE)
    CursorPage<RoutedModelView> list(@RequestParam(required = false) UUID after,
            @RequestParam(required = false) Integer limit) {
        return catalog.page(after, CursorPage.checkedLimit(limit));
    }

    @Operation(operationId = "getRoutedModel", summary = "Get a routed model")
    @GetMapping(path = "/{id}", produces = MediaType.APPLICATION_JSON_VALUE)
    RoutedModelView get(@PathVariable UUID id) {
        return catalog.view(id);
    }

    @Operation(operationId = "downloadRoutedModelDescription", summary = "Download description.json",
            description = "How the experts (by checkpoint id, in router order) are mixed; with router.safetensors "
                    + "and the experts' checkpoints it is the whole model.")
    @GetMapping(path = "/{id}/description.json", produces = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<byte[]> description(@PathVariable UUID id) {
        StoredRoutedModel model = catalog.find(id);
        return ResponseEntity.ok()
                .header(HttpHeaders.CONTENT_DISPOSITION, "attachment; filename=\"description.json\"")
                .contentType(MediaType.APPLICATION_JSON)
                .body(model.descriptionJson().getBytes(StandardCharsets.UTF_8));
    }

    @Operation(operationId = "downloadRoutedModelRouter", summary = "Download router.safetensors")
    @GetMapping(path = "/{id}/router.safetensors", produces = MediaType.APPLICATION_OCTET_STREAM_VALUE)
    ResponseEntity<InputStreamResource> router(@PathVariable UUID id) throws IOException {
        StoredRoutedModel model = catalog.find(id);
        if (model.routerSha256() == null) {
            throw new ApiProblem(HttpStatus.NOT_FOUND, ProblemType.NOT_FOUND,
                    "Routed model " + id + " (" + model.kind() + ") has no router weights; see description.json");
        }
        return ResponseEntity.ok()
                .header(HttpHeaders.CONTENT_DISPOSITION, "attachment; filename=\"router.safetensors\"")
                .contentLength(model.routerBytes())
                .eTag("\"" + model.routerSha256() + "\"")
                .contentType(MediaType.APPLICATION_OCTET_STREAM)
                .body(new InputStreamResource(blobs.open(model.routerSha256())));
    }

    @Operation(operationId = "deleteRoutedModel", summary = "Delete a routed model",
            description = "409 while a queued or running job uses it. Its experts' checkpoints stay.")
    @ApiResponse(responseCode = "204", description = "Deleted")
    @DeleteMapping("/{id}")
    ResponseEntity<Void> delete(@PathVariable UUID id) {
        catalog.delete(id);
        return ResponseEntity.noContent().build();
    }
}
