package dev.consort.merge;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

import com.fasterxml.jackson.annotation.JsonProperty;

import io.swagger.v3.oas.annotations.media.Schema;
import tools.jackson.databind.JsonNode;

/** A routed model as the API shows it. */
public record RoutedModelView(
        UUID id,
        String name,
        @Schema(description = "activation_interpolation, single_router, layer_routing or multi_layer_routing")
        String kind,
        @JsonProperty("expert_ids") List<UUID> expertIds,
        @JsonProperty("shared_checkpoint_id")
        @Schema(description = "The checkpoint whose non-MLP weights the routed model uses")
        UUID sharedCheckpointId,
        @JsonProperty("producing_job_id") UUID producingJobId,
        @JsonProperty("router_sha256") String routerSha256,
        @JsonProperty("router_bytes") Long routerBytes,
        @Schema(description = "How the experts are mixed: kind, span, top_k, router kind, alpha, ...")
        JsonNode description,
        @JsonProperty("created_at") Instant createdAt) {
}
