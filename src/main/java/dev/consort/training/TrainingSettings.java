package dev.consort.training;

import com.fasterxml.jackson.annotation.JsonProperty;

import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;

/**
 * Optimiser and schedule settings shared by pretrain and finetune. Absent values take the engine's
 * defaults (the paper's: AdamW (0.9, 0.99), weight decay 0.1, cosine to 0.1×, clip 1.0).
 */
public record TrainingSettings(
        @NotNull @Min(1) @Max(10_000_000) Integer steps,
        @JsonProperty("batch_size") @Min(1) @Max(4096) Integer batchSize,
        @Min(2) @Max(65536) Integer context,
        @JsonProperty("learning_rate") @DecimalMin(value = "0", inclusive = false) @DecimalMax("1") Double learningRate,
        @JsonProperty("weight_decay") @DecimalMin("0") @DecimalMax("10") Double weightDecay,
        @DecimalMin("0") @DecimalMax(value = "1", inclusive = false) Double beta1,
        @DecimalMin("0") @DecimalMax(value = "1", inclusive = false) Double beta2,
        @JsonProperty("warmup_steps") @Min(0) Integer warmupSteps,
        @JsonProperty("min_lr_ratio") @DecimalMin("0") @DecimalMax("1") Double minLrRatio,
        @JsonProperty("grad_clip") @DecimalMin("0") Double gradClip,
        @JsonProperty("grad_accum") @Min(1) @Max(1024) Integer gradAccum,
        @JsonProperty("eval_every") @Min(1) Integer evalEvery,
        @JsonProperty("eval_windows") @Min(1) @Max(1_000_000) Integer evalWindows,
        @JsonProperty("checkpoint_every") @Min(1) Integer checkpointEvery,
        @JsonProperty("state_every") @Min(1) Integer stateEvery,
        Long seed) {
}
