package dev.consort.generation;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

import ai.djl.Device;
import dev.consort.dataset.Gpt2Tokenizer;
import dev.consort.engine.Gpt2Config;
import dev.consort.engine.Gpt2Model;
import dev.consort.support.ApiTest;
import dev.consort.support.FullForwardGreedy;
import dev.consort.support.Multipart;
import dev.consort.support.TinyGpt2;
import io.micrometer.core.instrument.MeterRegistry;
import java.net.http.HttpResponse;
import tools.jackson.databind.JsonNode;

/**
 * {@code POST /checkpoints/{id}/completions} over HTTP: greedy decoding answers the argmax of the model's logits at
 * each step (checked against forward passes over the whole sequence, without the service's cache), a seed
 * reproduces a sample, stop strings, streaming, and the 4xx/503 refusals.
 */
class CompletionApiTest extends ApiTest {

    /** A model whose vocabulary is GPT-2's, so that text prompts tokenize into it; context 24. */
    private static final TinyGpt2 MODEL = new TinyGpt2().vocab(50257).seed(21);

    static {
        MODEL.nPositions = 24;
    }

    @Autowired
    CompletionService service;

    @Autowired
    MeterRegistry meters;

    @TempDir
    Path dir;

    private static String checkpoint;

    @BeforeEach
    void upload() {
        if (checkpoint == null) {
            HttpResponse<String> created = post("/checkpoints", Multipart.checkpoint(MODEL));
            assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
            checkpoint = json(created).path("id").asText();
        }
    }

    private HttpResponse<String> complete(String body) {
        return postJson("/checkpoints/" + checkpoint + "/completions", body);
    }

    @Test
    void greedyDecodingIsTheArgmaxOfTheLogitsAtEveryStep() throws Exception {
        HttpResponse<String> response = complete("{\"prompt\": \"The quick brown fox\", \"max_tokens\": 8, "
                + "\"temperature\": 0}");

        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        JsonNode choice = json(response).path("choices").get(0);
        assertThat(choice.path("finish_reason").asText()).isIn("length", "eos");
        int[] generated = ids(choice.path("token_ids"));
        int[] prompt = new Gpt2Tokenizer().encode("The quick brown fox");
        assertThat(generated).isEqualTo(argmaxContinuation(prompt, generated.length));
        assertThat(choice.path("text").asText()).isEqualTo(new Gpt2Tokenizer().decode(generated));
        assertThat(json(response).path("usage").path("prompt_tokens").asInt()).isEqualTo(prompt.length);
        assertThat(json(response).path("usage").path("completion_tokens").asInt()).isEqualTo(generated.length);
        assertThat(choice.path("tokens_per_second").asDouble()).isPositive();
    }

    /** The continuation by full forward passes: at each step the argmax of the last position's logits. */
    private int[] argmaxContinuation(int[] prompt, int length) throws Exception {
        Path weights = dir.resolve("model.safetensors");
        Files.write(weights, MODEL.weights());
        Gpt2Config config = Gpt2Config.parse(MODEL.config());
        try (Gpt2Model model = Gpt2Model.load(weights, config, Device.cpu())) {
            return FullForwardGreedy.continuation(model, prompt, length);
        }
    }

    private static int[] ids(JsonNode array) {
        int[] ids = new int[array.size()];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = array.get(i).asInt();
        }
        return ids;
    }

    @Test
    void aSeedReproducesTheSamplesAndEachChoiceHasItsOwn() {
        String request = "{\"prompt\": [\"Once upon\", \"In 1990\"], \"max_tokens\": 6, \"n\": 2, \"seed\": 5, "
                + "\"temperature\": 1.5, \"top_k\": 1000, \"top_p\": 0.95}";
        JsonNode first = json(complete(request));
        JsonNode again = json(complete(request));

        assertThat(first.path("seed").asLong()).isEqualTo(5);
        assertThat(first.path("choices")).hasSize(4);
        for (int i = 0; i < 4; i++) {
            JsonNode choice = first.path("choices").get(i);
            assertThat(choice.path("index").asInt()).isEqualTo(i);
            assertThat(choice.path("prompt_index").asInt()).isEqualTo(i / 2);
            // tokens_per_second differs between runs; the text and tokens must not.
            assertThat(again.path("choices").get(i).path("token_ids")).isEqualTo(choice.path("token_ids"));
            assertThat(again.path("choices").get(i).path("text")).isEqualTo(choice.path("text"));
        }
        assertThat(first.path("choices").get(0).path("token_ids"))
                .isNotEqualTo(first.path("choices").get(1).path("token_ids"));
        // Unset, a seed is drawn and returned, and replaying it reproduces the text.
        JsonNode drawn = json(complete("{\"prompt\": \"Once upon\", \"max_tokens\": 6}"));
        JsonNode replayed = json(complete("{\"prompt\": \"Once upon\", \"max_tokens\": 6, \"seed\": "
                + drawn.path("seed").asLong() + "}"));
        assertThat(replayed.path("choices").get(0).path("token_ids"))
                .isEqualTo(drawn.path("choices").get(0).path("token_ids"));
    }

    @Test
    void aStopStringEndsTheChoiceBeforeIt() {
        String greedy = json(complete("{\"prompt\": \"Hello\", \"max_tokens\": 12, \"temperature\": 0}"))
                .path("choices").get(0).path("text").asText();
        assertThat(greedy.length()).as(greedy).isGreaterThan(6);
        String stop = greedy.substring(4, 6);

        JsonNode choice = json(complete("{\"prompt\": \"Hello\", \"max_tokens\": 12, \"temperature\": 0, \"stop\": "
                + JSON.writeValueAsString(List.of(stop)) + "}")).path("choices").get(0);

        assertThat(choice.path("finish_reason").asText()).isEqualTo("stop");
        assertThat(choice.path("text").asText()).isEqualTo(greedy.substring(0, greedy.indexOf(stop)));
    }

    @Test
    void aStreamSendsTheTokensAsTheyAreMadeThenTheChoiceAndTheUsage() {
        JsonNode whole = json(complete("{\"prompt\": \"Hello\", \"max_tokens\": 10, \"temperature\": 0}"))
                .path("choices").get(0);

        HttpResponse<String> stream = complete("{\"prompt\": \"Hello\", \"max_tokens\": 10, \"temperature\": 0, "
                + "\"stream\": true}");

        assertThat(stream.statusCode()).as(stream.body()).isEqualTo(200);
        assertThat(stream.headers().firstValue("Content-Type")).hasValueSatisfying(
                ct -> assertThat(ct).startsWith("text/event-stream"));
        List<String> names = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        List<Integer> tokens = new ArrayList<>();
        JsonNode choice = null;
        for (String event : stream.body().split("\n\n")) {
            String name = event.lines().filter(l -> l.startsWith("event:")).map(l -> l.substring(6).trim())
                    .findFirst().orElse("");
            String data = event.lines().filter(l -> l.startsWith("data:")).map(l -> l.substring(5))
                    .reduce("", String::concat);
            if (name.isEmpty()) {
                continue;
            }
            names.add(name);
            JsonNode node = JSON.readTree(data);
            if (name.equals("token")) {
                text.append(node.path("text").asText());
                if (!node.path("token_id").isNull()) {
                    tokens.add(node.path("token_id").asInt());
                }
            } else if (name.equals("choice")) {
                choice = node;
            }
        }
        assertThat(names.get(names.size() - 1)).isEqualTo("done");
        assertThat(names.get(names.size() - 2)).isEqualTo("choice");
        assertThat(names.stream().filter("token"::equals).count()).isGreaterThanOrEqualTo(tokens.size());
        assertThat(tokens).hasSize(whole.path("token_ids").size());
        assertThat(text.toString()).isEqualTo(whole.path("text").asText());
        assertThat(choice.path("token_ids")).isEqualTo(whole.path("token_ids"));
    }

    @Test
    void requestsThatCannotBeServedAreRefusedNamingTheField() {
        assertProblem(complete("{\"prompt\": \"The quick brown fox\", \"max_tokens\": 21}"), 422, "prompt",
                "max_tokens 21", "n_positions 24");
        assertProblem(complete("{\"prompt\": \"Hi\", \"max_token\": 4}"), 422, "max_token", "unknown field");
        assertProblem(complete("{\"prompt\": \"Hi\", \"temperature\": -1}"), 422, "temperature", "0 to 5");
        assertProblem(complete("{\"prompt\": \"Hi\", \"top_p\": 0}"), 422, "top_p", "(0, 1]");
        assertProblem(complete("{\"prompt\": [\"a\", 3]}"), 422, "prompt[1]", "string");
        assertProblem(complete("{\"prompt\": \"\"}"), 422, "prompt", "not be empty");
        assertProblem(complete("{\"prompt\": \"Hi\", \"max_tokens\": 100000}"), 422, "max_tokens", "1 to 1024");
        assertProblem(complete("{\"max_tokens\": 4}"), 422, "prompt", "required");
        assertProblem(complete("{\"prompt\": \"Hi\", \"n\": 9}"), 422, "n", "1 to 8");
        assertProblem(complete("{\"prompt\": \"Hi\", \"stop\": [\"\"]}"), 422, "stop[0]", "1 to 64");
        HttpResponse<String> unknown = postJson("/checkpoints/" + UUID.randomUUID() + "/completions",
                "{\"prompt\": \"Hi\"}");
        assertThat(unknown.statusCode()).isEqualTo(404);

        TinyGpt2 small = new TinyGpt2().seed(3);
        String smallVocab = json(post("/checkpoints", Multipart.checkpoint(small))).path("id").asText();
        HttpResponse<String> outside = postJson("/checkpoints/" + smallVocab + "/completions",
                "{\"prompt\": \"Hello\", \"max_tokens\": 4}");
        assertProblem(outside, 422, "prompt", "outside the model's vocabulary of 64");
    }

    private static void assertProblem(HttpResponse<String> response, int status, String field, String... detail) {
        assertThat(response.statusCode()).as(response.body()).isEqualTo(status);
        JsonNode problem = json(response);
        assertThat(problem.path("errors").get(0).path("field").asText()).isEqualTo(field);
        assertThat(problem.path("errors").get(0).path("message").asText()).contains(detail);
    }

    @Test
    void beyondTheConcurrentRequestsA503TellsWhenToRetryAndTheModelStaysLoaded() throws Exception {
        assertThat(complete("{\"prompt\": \"Hi\", \"max_tokens\": 2}").statusCode()).isEqualTo(200);
        double hits = meters.counter("consort.generation.model.cache", "result", "hit").count();
        JsonNode body = JSON.readTree("{\"prompt\": \"Hi\", \"max_tokens\": 2}");
        // Both of this process's permits (consort.generation.concurrent-requests, 2) held by admitted requests.
        try (CompletionService.Admitted one = service.admit(GenerationSources.Kind.CHECKPOINT, UUID.fromString(checkpoint), body);
             CompletionService.Admitted two = service.admit(GenerationSources.Kind.CHECKPOINT, UUID.fromString(checkpoint), body)) {
            HttpResponse<String> refused = complete("{\"prompt\": \"Hi\", \"max_tokens\": 2}");
            assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
            assertThat(refused.headers().firstValue("Retry-After")).hasValue("5");
            assertThat(json(refused).path("type").asText()).isEqualTo("https://consort.dev/problems/capacity-exceeded");
            assertThat(json(refused).path("detail").asText()).contains("consort.generation.concurrent-requests");
        }
        assertThat(complete("{\"prompt\": \"Hi\", \"max_tokens\": 2}").statusCode()).isEqualTo(200);
        // Both leases and the last request found the model loaded.
        assertThat(meters.counter("consort.generation.model.cache", "result", "hit").count()).isEqualTo(hits + 3);
    }

    /**
     * Clients that stop reading their streams: their writes block, but their requests still generate to the end
     * and give back their permits, so the next request is answered rather than refused. (Before, each stream wrote
     * from its generating thread, and two stalled clients held both permits until their connections timed out.)
     */
    @Test
    void streamsWhoseClientsStopReadingGiveBackTheirPermits() throws Exception {
        CountDownLatch unblock = new CountDownLatch(1);
        ExecutorService threads = Executors.newCachedThreadPool();
        List<CompletionEventStream> stalled = new ArrayList<>();
        try {
            JsonNode body = JSON.readTree("{\"prompt\": \"Hi\", \"max_tokens\": 8, \"stream\": true}");
            for (int i = 0; i < 2; i++) {
                CompletionService.Admitted admitted = service.admit(GenerationSources.Kind.CHECKPOINT,
                        UUID.fromString(checkpoint), body);
                CompletionEventStream stream = new CompletionEventStream(new BlockedEmitter(unblock),
                        Duration.ofMillis(200));
                stream.startWriter(threads);
                threads.execute(() -> stream.generate(service, admitted));
                stalled.add(stream);
            }
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            HttpResponse<String> next = complete("{\"prompt\": \"Hi\", \"max_tokens\": 2}");
            while (next.statusCode() == 503 && System.nanoTime() < deadline) {
                Thread.sleep(50);
                next = complete("{\"prompt\": \"Hi\", \"max_tokens\": 2}");
            }
            assertThat(next.statusCode()).as(next.body()).isEqualTo(200);
            // A write blocked past the write timeout (200 ms here) means the client stopped reading.
            Thread.sleep(300);
            assertThat(stalled).noneMatch(CompletionEventStream::listening);
        } finally {
            unblock.countDown();
            threads.shutdown();
        }
    }

    /** An emitter whose every send blocks, as a write to a client that does not read does once its buffers fill. */
    private static final class BlockedEmitter extends SseEmitter {
        private final CountDownLatch unblock;

        BlockedEmitter(CountDownLatch unblock) {
            this.unblock = unblock;
        }

        @Override
        public void send(SseEventBuilder builder) throws IOException {
            try {
                unblock.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new IOException("the client went away");
        }
    }
}
