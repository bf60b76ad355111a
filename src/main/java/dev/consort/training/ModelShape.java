package dev.consort.training;

import com.fasterxml.jackson.annotation.JsonProperty;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;

/** The GPT-2 architecture of a model to pretrain (HF config.json names). */
public record ModelShape(
        @JsonProperty("n_layer") @NotNull @Min(1) @Max(256) Integer nLayer,
        @JsonProperty("n_embd") @NotNull @Min(1) @Max(16384) Integer nEmbd,
        @JsonProperty("n_head") @NotNull @Min(1) @Max(256) Integer nHead,
        @JsonProperty("n_inner") @Min(1) @Max(65536) Integer nInner,
        @JsonProperty("n_positions") @NotNull @Min(1) @Max(65536) Integer nPositions,
        @JsonProperty("vocab_size") @Min(50257) @Max(1_000_000) Integer vocabSize) {
}
