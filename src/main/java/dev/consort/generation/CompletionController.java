package dev.consort.generation;

import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

import dev.consort.web.ApiProblem;
import dev.consort.web.LimitsProperties;
import dev.consort.web.ProblemType;
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
    private static final String AT_CAPACITY = "consort.generation.concurrent-requests requests are generating, or "
            + CompletionController.STREAM_WRITERS + " streams are being written (`capacity-exceeded`); retry after "
            + "Retry-After seconds";

    /**
     * Writers of streamed completions at once. A writer whose client stopped reading stays blocked until the
     * connection's timeout ends its write, after its request has given back its permit; past this many the next
     * stream is refused rather than starting yet another thread.
     */
    static final int STREAM_WRITERS = 64;

    private final CompletionService completions;
    private final Duration writeTimeout;
    // Streams generate off the request thread; the service's permits bound how many run at once.
    private final ExecutorService generators = Executors.newCachedThreadPool(daemonThreads("completion-stream-"));
    private final ThreadPoolExecutor writers = new ThreadPoolExecutor(0, STREAM_WRITERS, 30, TimeUnit.SECONDS,
            new SynchronousQueue<>(), daemonThreads("completion-writer-"));

    CompletionController(CompletionService completions, LimitsProperties limits) {
        this.completions = completions;
        this.writeTimeout = limits.eventStreamWriteTimeout();
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
        CompletionEventStream stream = new CompletionEventStream(emitter, writeTimeout);
        try {
            stream.startWriter(writers);
        } catch (RejectedExecutionException busy) {
            admitted.close();
            throw ApiProblem.retryLater(HttpStatus.SERVICE_UNAVAILABLE, ProblemType.CAPACITY_EXCEEDED, STREAM_WRITERS
                    + " completion streams are being written, the most this server writes at once; retry in "
                    + LimitsProperties.RETRY_AFTER_SECONDS + " s or ask without stream", LimitsProperties.RETRY_AFTER_SECONDS);
        }
        try {
            generators.execute(() -> stream.generate(completions, admitted));
        } catch (RuntimeException e) {
            admitted.close();
            stream.end(e);
            throw e;
        }
        return ResponseEntity.ok().contentType(MediaType.TEXT_EVENT_STREAM).body(emitter);
    }

    /** The listener of a request that is not streamed. */
    private enum Listeners implements CompletionService.ChoiceListener {
        NONE;

        @Override
        public void text(int index, String text, Integer tokenId) {}

        @Override
        public void choice(CompletionResponse.Choice choice) {}
    }

    private static java.util.concurrent.ThreadFactory daemonThreads(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }

    @PreDestroy
    void stopStreams() {
        generators.shutdownNow();
        writers.shutdownNow();
    }
}
