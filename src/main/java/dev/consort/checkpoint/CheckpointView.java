package dev.consort.checkpoint;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

import com.fasterxml.jackson.annotation.JsonProperty;

import io.swagger.v3.oas.annotations.media.Schema;

/** A checkpoint as the API shows it. */
@Schema(name = "Checkpoint")
public record CheckpointView(
        UUID id,
        @Schema(description = "optional name given at upload") String name,
        @JsonProperty("created_at") Instant createdAt,
        @Schema(description = "the architecture read from config.json") ConfigSummary config,
        @JsonProperty("parameter_count")
        @Schema(description = "elements of all parameter tensors; lm_head.weight counts only when stored")
        long parameterCount,
        @Schema(description = "dtype of the stored weights (F32, F16, BF16, F64), or \"mixed\"") String dtype,
        @Schema(description = "sha256 of model.safetensors, hex") String sha256,
        @Schema(description = "size of model.safetensors in bytes") long bytes,
        @JsonProperty("parent_id") @Schema(description = "the checkpoint this one was trained or merged from")
        UUID parentId,
        @JsonProperty("producing_job_id") @Schema(description = "the job that produced it; absent for uploads")
        UUID producingJobId,
        @JsonProperty("merged_from")
        @Schema(description = "the checkpoints a weight-space merge combined, in expert order (parent_id is their "
                + "common base); empty for uploads and trained checkpoints")
        List<UUID> mergedFrom,
        @Schema(description = "the training step it was saved at") Long step,
        @Schema(description = "whether its job marked it as the best of its series") boolean best) {

    /** The GPT-2 architecture fields of config.json ({@code n_inner} resolved to 4·n_embd when absent). */
    @Schema(name = "Gpt2ConfigSummary")
    public record ConfigSummary(
            @JsonProperty("n_layer") int nLayer,
            @JsonProperty("n_embd") int nEmbd,
            @JsonProperty("n_head") int nHead,
            @JsonProperty("n_inner") int nInner,
            @JsonProperty("vocab_size") int vocabSize,
            @JsonProperty("n_positions") int nPositions) {}

    static CheckpointView of(Checkpoint c) {
        return new CheckpointView(c.id(), c.name(), c.createdAt(),
                new ConfigSummary(c.nLayer(), c.nEmbd(), c.nHead(), c.nInner(), c.vocabSize(), c.nPositions()),
                c.parameterCount(), c.dtype(), c.weightsSha256(), c.weightsBytes(), c.parentId(),
                c.producingJobId(), c.mergedFrom(), c.step(), c.best());
    }
}
