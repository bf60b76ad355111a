package dev.consort.cka;

import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.annotation.JsonProperty;

import io.swagger.v3.oas.annotations.media.Schema;

/** The CKA matrices of a cka job, with what they were computed from. */
public record CkaView(
        @JsonProperty("job_id") UUID jobId,
        @JsonProperty("model_a_id") UUID modelAId,
        @JsonProperty("model_b_id") UUID modelBId,
        @JsonProperty("dataset_id") UUID datasetId,
        String split,
        @Schema(description = "mlp or residual") String representation,
        @Schema(description = "token or mean") String pooling,
        @Schema(description = "linear or debiased") String estimator,
        int context,
        int windows,
        @Schema(description = "Rows each representation had: tokens, or windows with mean pooling") long rows,
        @JsonProperty("layers_a") int layersA,
        @JsonProperty("layers_b") Integer layersB,
        @Schema(description = "intra_a (A's layers × A's), intra_b, inter (A's layers × B's): row-major L×L values")
        Map<String, double[][]> matrices) {
}
