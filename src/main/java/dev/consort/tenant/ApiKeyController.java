package dev.consort.tenant;

import java.net.URI;
import java.util.UUID;

import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.DeleteMapping;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.Parameter;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;

import dev.consort.web.CursorPage;

/** Key management, for the holder of the admin key ({@code CONSORT_ADMIN_KEY}) only. */
@Tag(name = "admin", description = "API keys and their tenants; needs the admin key")
@RestController
@RequestMapping("/admin/keys")
class ApiKeyController {

    private final ApiKeys keys;
    private final RequestRateLimiter rates;

    ApiKeyController(ApiKeys keys, RequestRateLimiter rates) {
        this.keys = keys;
        this.rates = rates;
    }

    @Operation(operationId = "createApiKey", summary = "Create an API key for a tenant",
            description = "The response is the only time the key is shown: only its SHA-256 is stored.")
    @ApiResponse(responseCode = "201", description = "Created; `key` is the secret to send as Authorization: Bearer")
    @PostMapping(consumes = MediaType.APPLICATION_JSON_VALUE, produces = MediaType.APPLICATION_JSON_VALUE)
    ResponseEntity<CreatedApiKey> create(@RequestBody NewApiKey request) {
        CreatedApiKey created = keys.create(request);
        return ResponseEntity.created(URI.create("/admin/keys/" + created.id())).body(created);
    }

    @Operation(operationId = "listApiKeys", summary = "List API keys, newest first (never the keys themselves)")
    @GetMapping(produces = MediaType.APPLICATION_JSON_VALUE)
    CursorPage<ApiKeyView> list(
            @Parameter(description = "Only this tenant's keys") @RequestParam(required = false) String tenant,
            @Parameter(description = "next_after of the previous page") @RequestParam(required = false) UUID after,
            @Parameter(description = "1 to 500, default 50") @RequestParam(required = false) Integer limit) {
        return keys.page(tenant, after, CursorPage.checkedLimit(limit));
    }

    @Operation(operationId = "getApiKey", summary = "Get an API key (not the key itself)")
    @GetMapping(path = "/{id}", produces = MediaType.APPLICATION_JSON_VALUE)
    ApiKeyView get(@PathVariable UUID id) {
        return keys.find(id);
    }

    @Operation(operationId = "revokeApiKey", summary = "Revoke an API key",
            description = "From now on its requests get 401 (within consort.auth.key-cache-ttl on other replicas). "
                    + "The key stays listed, with revoked_at.")
    @ApiResponse(responseCode = "204", description = "Revoked")
    @DeleteMapping("/{id}")
    ResponseEntity<Void> revoke(@PathVariable UUID id) {
        keys.revoke(id);
        rates.forget(id);
        return ResponseEntity.noContent().build();
    }
}
