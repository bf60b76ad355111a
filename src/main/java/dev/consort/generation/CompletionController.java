package dev.consort.generation;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.responses.ApiResponse;
import io.swagger.v3.oas.annotations.tags.Tag;
import jakarta.annotation.PreDestroy;
import tools.jackson.databind.JsonNode;

/** {@code POST /checkpoints/{id}/completions} and {@code /routed-models/{id}/completions}: text generation. */
@Tag(name = "generation", description = "Text generation from checkpoints and routed models")
@RestController
class CompletionController {

    private static final long STREAM_TIMEOUT_MILLIS = 10 * 60 * 1000L;
    private static final String DESCRIPTION = "Continues each prompt one token at a time with a KV cache: greedy at "
            + "temperature 0 (the argmax of the logits at each step), else sampled with the seed. Runs on the api "
            + "process's CPU, at most consort.generation.concurrent-requests at once; weights stay loaded for the next "
            + "request within consort.generation.model-cache. With `stream: true` the answer is text/event-stream: "
            + "`token` events ({index, text, token_id}; the text may be empty while it could be the start of a stop "
            + "string, and a last event with token_id null carries what was held back), a `choice` event (a "
            + "CompletionChoice) when each choice ends, then `done` (the CompletionUsage).";
    private static final String UNPROCESSABLE = "A field is invalid, or a prompt and max_tokens do not fit the model's "
            + "n_positions (errors[] names each)";
    private static final String AT_CAPACITY = "consort.generation.concurrent-requests requests are generating "
            + "(`capacity-exceeded`); retry after Retry-After seconds";

    private final CompletionService completions;
    // Streams generate off the request thread; the service's permits bound how many run at once.
    private final ExecutorService streams = Executors.newCachedThreadPool(daemonThreads());

    CompletionController(CompletionService completions) {
        this.completions = completions;
    }

    @Operation(operationId = "completeCheckpoint", summary = "Generate text with a checkpoint",
            description = DESCRIPTION, requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(
                    required = true, content = @Content(mediaType = MediaType.APPLICATION_JSON_VALUE,
                            schema = @Schema(implementation = CompletionRequest.class))))
    @ApiResponse(responseCode = "200", description = "The choices (or, with stream, their events)",
            content = {@Content(mediaType = MediaType.APPLICATION_JSON_VALUE,
                    schema = @Schema(implementation = CompletionResponse.class)),
                    @Content(mediaType = MediaType.TEXT_EVENT_STREAM_VALUE, schema = @Schema(type = "string"))})
    @ApiResponse(responseCode = "404", description = "No checkpoint with this id in the caller's tenant",
            content = @Content(mediaType = "application/problem+json"))
    @ApiResponse(responseCode = "422", description = UNPROCESSABLE, content = @Content(mediaType = "application/problem+json"))
    @ApiResponse(responseCode = "503", description = AT_CAPACITY, content = @Content(mediaType = "application/problem+json"))
    @PostMapping(path = "/checkpoints/{id}/completions", consumes = MediaType.APPLICATION_JSON_VALUE,
            produces = {MediaType.APPLICATION_JSON_VALUE, MediaType.TEXT_EVENT_STREAM_VALUE})
    ResponseEntity<?> completeCheckpoint(@PathVariable UUID id, @RequestBody(required = false) JsonNode body)
            throws Exception {
        return complete(completions.admit(GenerationSources.Kind.CHECKPOINT, id, body));
    }

    @Operation(operationId = "completeRoutedModel", summary = "Generate text with a routed model",
            description = DESCRIPTION + " A routed model runs its shared model's embeddings and attention and, in every "
                    + "block, its mixture of the experts' MLPs as its stored routers (or α) weigh them, each token "
                    + "routed as in the merge job's evaluation.",
            requestBody = @io.swagger.v3.oas.annotations.parameters.RequestBody(required = true,
                    content = @Content(mediaType = MediaType.APPLICATION_JSON_VALUE,
                            schema = @Schema(implementation = CompletionRequest.class))))
    @ApiResponse(responseCode = "200", description = "The choices (or, with stream, their events)",
            content = {@Content(mediaType = MediaType.APPLICATION_JSON_VALUE,
                    schema = @Schema(implementation = CompletionResponse.class)),
                    @Content(mediaType = MediaType.TEXT_EVENT_STREAM_VALUE, schema = @Schema(type = "string"))})
    @ApiResponse(responseCode = "404", description = "No routed model with this id in the caller's tenant",
            content = @Content(mediaType = "application/problem+json"))
    @ApiResponse(responseCode = "422", description = UNPROCESSABLE, content = @Content(mediaType = "application/problem+json"))
    @ApiResponse(responseCode = "503", description = AT_CAPACITY, content = @Content(mediaType = "application/problem+json"))
    @PostMapping(path = "/routed-models/{id}/completions", consumes = MediaType.APPLICATION_JSON_VALUE,
            produces = {MediaType.APPLICATION_JSON_VALUE, MediaType.TEXT_EVENT_STREAM_VALUE})
    ResponseEntity<?> completeRoutedModel(@PathVariable UUID id, @RequestBody(required = false) JsonNode body)
            throws Exception {
        return complete(completions.admit(GenerationSources.Kind.ROUTED_MODEL, id, body));
    }

    /** Generates an admitted request: answered whole, or streamed from a thread of its own. */
    private ResponseEntity<?> complete(CompletionService.Admitted admitted) {
        if (!admitted.settings.stream()) {
            try (admitted) {
                return ResponseEntity.ok().contentType(MediaType.APPLICATION_JSON)
                        .body(completions.generate(admitted, Listeners.NONE));
            }
        }
        SseEmitter emitter = new SseEmitter(STREAM_TIMEOUT_MILLIS);
        try {
            streams.execute(() -> stream(admitted, emitter));
        } catch (RuntimeException e) {
            admitted.close();
            throw e;
        }
        return ResponseEntity.ok().contentType(MediaType.TEXT_EVENT_STREAM).body(emitter);
    }

    private void stream(CompletionService.Admitted admitted, SseEmitter emitter) {
        try (admitted) {
            EventListener listener = new EventListener(emitter);
            CompletionResponse response = completions.generate(admitted, listener);
            if (listener.listening()) {
                emitter.send(SseEmitter.event().name("done").data(response.usage(), MediaType.APPLICATION_JSON));
                emitter.complete();
            }
        } catch (IOException gone) {
            emitter.completeWithError(gone);
        } catch (RuntimeException | Error e) {
            emitter.completeWithError(e);
            throw e;
        }
    }

    /** Sends each piece of text and each finished choice as an event; a failed send means the client left. */
    private static final class EventListener implements CompletionService.ChoiceListener {
        private final SseEmitter emitter;
        private volatile boolean listening = true;

        EventListener(SseEmitter emitter) {
            this.emitter = emitter;
        }

        @Override
        public void text(int index, String text, Integer tokenId) {
            Map<String, Object> event = new LinkedHashMap<>();
            event.put("index", index);
            event.put("text", text);
            event.put("token_id", tokenId);
            send("token", event);
        }

        @Override
        public void choice(CompletionResponse.Choice choice) {
            send("choice", choice);
        }

        @Override
        public boolean listening() {
            return listening;
        }

        private void send(String name, Object data) {
            if (!listening) {
                return;
            }
            try {
                emitter.send(SseEmitter.event().name(name).data(data, MediaType.APPLICATION_JSON));
            } catch (IOException | IllegalStateException gone) {
                listening = false;
            }
        }
    }

    /** The listener of a request that is not streamed. */
    private enum Listeners implements CompletionService.ChoiceListener {
        NONE;

        @Override
        public void text(int index, String text, Integer tokenId) {}

        @Override
        public void choice(CompletionResponse.Choice choice) {}
    }

    private static java.util.concurrent.ThreadFactory daemonThreads() {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, "completion-stream-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }

    @PreDestroy
    void stopStreams() {
        streams.shutdownNow();
    }
}
