package dev.consort.evaluation;

import com.fasterxml.jackson.annotation.JsonProperty;

import io.swagger.v3.oas.annotations.media.Schema;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.Size;

/**
 * How exact_match reads a record, as a request gives it (evaluate jobs, and merge jobs' {@code evaluation}): its
 * prompt ends at the first {@code prompt_end} (default a newline, as GSM8K's {@code {question}\n}), its answer
 * follows the last {@code answer_marker} (default GSM8K's {@code ####}; empty: the first line after the prompt).
 */
public record ExactMatchSpec(
        @JsonProperty("prompt_end") @Size(min = 1, max = 100) String promptEnd,
        @JsonProperty("answer_marker") @Size(max = 100) String answerMarker,
        @JsonProperty("max_records") @Min(1) @Max(1000)
        @Schema(description = "Records scored per dataset, the first ones with a prompt and an answer (default 50)")
        Integer maxRecords,
        @JsonProperty("max_tokens") @Min(1) @Max(1024)
        @Schema(description = "Tokens generated per record at most (default 128)") Integer maxTokens) {}
