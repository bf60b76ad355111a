package dev.consort.generation;

import java.util.List;
import java.util.UUID;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.media.Schema;

/** What a completion request generated: one choice per prompt and sample. */
@Schema(name = "CompletionResponse")
public record CompletionResponse(
        @Schema(description = "The checkpoint or routed model that generated the text") UUID model,
        @Schema(description = "The seed used (the request's, or the one drawn); choice k used seed + k") long seed,
        List<Choice> choices,
        Usage usage) {

    /** One generated sequence. */
    @Schema(name = "CompletionChoice")
    public record Choice(
            @Schema(description = "Position in choices: prompt_index × n + sample") int index,
            @JsonProperty("prompt_index") @Schema(description = "Which prompt of the request it continues")
            int promptIndex,
            @Schema(description = "The generated text, without the prompt; it ends before a stop string") String text,
            @JsonProperty("token_ids") @Schema(description = "The generated tokens (GPT-2 ids), without "
                    + "<|endoftext|>; with a stop, up to the token that completed it") int[] tokenIds,
            @JsonProperty("finish_reason") @Schema(description = "length: max_tokens were generated; stop: a stop "
                    + "string appeared; eos: the model generated <|endoftext|>",
                    allowableValues = {"length", "stop", "eos"}) String finishReason,
            @JsonProperty("tokens_per_second") @Schema(description = "Generated tokens over the choice's wall time, "
                    + "its prompt's forward pass included") double tokensPerSecond) {}

    /** Tokens read and written. */
    @Schema(name = "CompletionUsage")
    public record Usage(
            @JsonProperty("prompt_tokens") @Schema(description = "Prompt tokens, counted once per choice")
            int promptTokens,
            @JsonProperty("completion_tokens") int completionTokens) {}
}
