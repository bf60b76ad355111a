package dev.consort.generation;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.media.ArraySchema;
import io.swagger.v3.oas.annotations.media.Schema;

/** A completion request, as sent: {@link CompletionSettings#of} checks it and fills in the defaults. */
@Schema(name = "CompletionRequest")
public record CompletionRequest(
        @Schema(description = "The text to continue: a string, or a list of up to 8 strings (each gets its own "
                + "choices); none may be empty.",
                requiredMode = Schema.RequiredMode.REQUIRED)
        Object prompt,
        @JsonProperty("max_tokens") @Schema(description = "Tokens to generate at most, 1 to 1024; the prompt and "
                + "these must fit the model's n_positions. Default 16", minimum = "1", maximum = "1024")
        Integer maxTokens,
        @Schema(description = "Softmax temperature, 0 to 5; 0 is greedy decoding (the argmax of the logits at each "
                + "step). Default 1", minimum = "0", maximum = "5")
        Double temperature,
        @JsonProperty("top_k") @Schema(description = "Sample among the k most likely tokens only; 0 (default) "
                + "keeps all", minimum = "0")
        Integer topK,
        @JsonProperty("top_p") @Schema(description = "Nucleus sampling: the most likely tokens up to this total "
                + "probability, in (0, 1]. Default 1", minimum = "0", exclusiveMinimum = true, maximum = "1")
        Double topP,
        @Schema(description = "Seed of the sampling; choice k of the response uses seed + k, so the same request "
                + "and seed give the same text. Unset: one is drawn and returned")
        Long seed,
        @ArraySchema(maxItems = 4, schema = @Schema(description = "Generation of a choice stops when its text "
                + "contains one of these (1 to 64 characters each); the text ends before it"))
        List<String> stop,
        @Schema(description = "Choices per prompt, 1 to 8 (prompts × n at most 16). Default 1", minimum = "1",
                maximum = "8")
        Integer n,
        @Schema(description = "Send the tokens as Server-Sent Events as they are made (text/event-stream): "
                + "`token` events ({index, text, token_id}), a `choice` event when a choice ends, then `done` with "
                + "the usage. Default false")
        Boolean stream) {}
