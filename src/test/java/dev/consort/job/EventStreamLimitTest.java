package dev.consort.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

import dev.consort.support.LowLimitsApiTest;

/**
 * Open event streams are bounded ({@code consort.limits.event-streams}, 3 here): the next one is refused
 * with a 503 problem and {@code Retry-After}, and a stream that ends, or whose client went away, frees its
 * slot. No worker runs in this context, so the jobs stay queued and their streams stay open.
 */
class EventStreamLimitTest extends LowLimitsApiTest {

    private final List<HttpResponse<InputStream>> opened = new ArrayList<>();

    @Autowired
    private JobEventStreams streams;

    /**
     * Streams an earlier test closed free their slots only at their next heartbeat; each test starts with all
     * three free, so its counts are its own.
     */
    @BeforeEach
    void allSlotsFree() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (streams.openStreams() > 0) {
            assertThat(System.nanoTime()).as("waiting for earlier tests' event streams to close").isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    @AfterEach
    void closeStreams() throws IOException {
        for (HttpResponse<InputStream> stream : opened) {
            stream.body().close();
        }
    }

    private String queuedJob() {
        HttpResponse<String> created = postJson("/jobs", "{\"type\": \"test.count\", \"spec\": {\"steps\": 3}}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        return json(created).path("id").asText();
    }

    private HttpResponse<InputStream> stream(String job) throws Exception {
        HttpResponse<InputStream> response = HTTP.send(HttpRequest.newBuilder(uri("/jobs/" + job + "/events"))
                        .header("Accept", "text/event-stream").timeout(Duration.ofSeconds(60)).GET().build(),
                HttpResponse.BodyHandlers.ofInputStream());
        opened.add(response);
        return response;
    }

    private static String bodyOf(HttpResponse<InputStream> response) throws IOException {
        try (InputStream in = response.body()) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private HttpResponse<InputStream> openOnceASlotIsFree(String job) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (true) {
            HttpResponse<InputStream> response = stream(job);
            if (response.statusCode() == 200) {
                return response;
            }
            assertThat(response.statusCode()).isEqualTo(503);
            assertThat(System.nanoTime()).as("waiting for a free event stream slot").isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    @Test
    void aFourthStreamIsRefusedWith503AndEndedOrAbandonedStreamsFreeTheirSlots() throws Exception {
        String first = queuedJob();
        String second = queuedJob();
        String third = queuedJob();
        HttpResponse<InputStream> abandoned = stream(first);
        for (HttpResponse<InputStream> open : List.of(abandoned, stream(second), stream(third))) {
            assertThat(open.statusCode()).isEqualTo(200);
            assertThat(open.headers().firstValue("Content-Type").orElse("")).startsWith("text/event-stream");
        }

        HttpResponse<InputStream> refused = stream(first);
        assertThat(refused.statusCode()).isEqualTo(503);
        assertThat(refused.headers().firstValue("Retry-After")).hasValue("5");
        assertThat(refused.headers().firstValue("Content-Type").orElse("")).startsWith("application/problem+json");
        String problem = bodyOf(refused);
        assertThat(problem).contains("https://consort.dev/problems/capacity-exceeded")
                .contains("consort.limits.event-streams");
        // The JSON form of the same events is a plain request, not a stream: never refused for this.
        assertThat(get("/jobs/" + first + "/events").statusCode()).isEqualTo(200);

        // A client that goes away frees its slot (noticed at the next heartbeat, 200 ms here).
        abandoned.body().close();
        HttpResponse<InputStream> replacement = openOnceASlotIsFree(first);
        assertThat(stream(second).statusCode()).isEqualTo(503);

        // A stream whose job ends is completed by the server and frees its slot.
        assertThat(postJson("/jobs/" + third + "/cancel", "").statusCode()).isEqualTo(202);
        HttpResponse<InputStream> ended = opened.get(2);
        assertThat(bodyOf(ended)).contains("event:queued").contains("event:cancelled");
        assertThat(openOnceASlotIsFree(second).statusCode()).isEqualTo(200);
        assertThat(replacement.statusCode()).isEqualTo(200);
    }

    /** A raw connection that asks for a job's event stream and then never reads a byte of it. */
    private Socket stalledStream(String job) throws IOException {
        Socket socket = new Socket();
        socket.setReceiveBufferSize(4096);
        socket.connect(new InetSocketAddress("localhost", port));
        socket.getOutputStream().write(("GET /jobs/" + job + "/events HTTP/1.1\r\nHost: localhost\r\n"
                + "Accept: text/event-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        return socket;
    }

    @Test
    void clientsThatStopReadingStallNoOtherStreamAndLoseTheirSlotsAfterTheWriteTimeout() throws Exception {
        // 20 MB of events, far more than the socket buffers hold: writing them to a client that does not read
        // blocks.
        String busy = queuedJob();
        jdbc.update("""
                insert into job_event (job_id, kind, message)
                select ?::uuid, 'progress', repeat('x', 1000) from generate_series(1, 20000)""", busy);
        String finished = queuedJob();
        assertThat(postJson("/jobs/" + finished + "/cancel", "").statusCode()).isEqualTo(202);

        // Two stalled clients: as many as the threads that poll every stream.
        try (Socket first = stalledStream(busy); Socket second = stalledStream(busy)) {
            Thread.sleep(500);
            // Another stream still gets all of its events and its end.
            HttpResponse<InputStream> other = HTTP.send(HttpRequest.newBuilder(uri("/jobs/" + finished + "/events"))
                            .header("Accept", "text/event-stream").timeout(Duration.ofSeconds(30)).GET().build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertThat(other.statusCode()).isEqualTo(200);
            assertThat(bodyOf(other)).contains("event:queued").contains("event:cancelled");

            // Past the write timeout (1 s here) the stalled streams are closed: all three slots open again.
            List<HttpResponse<InputStream>> reopened = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                reopened.add(openOnceASlotIsFree(queuedJob()));
            }
            assertThat(reopened).allSatisfy(r -> assertThat(r.statusCode()).isEqualTo(200));
        }
    }
}
