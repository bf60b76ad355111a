package dev.consort.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.consort.support.LowLimitsApiTest;
import dev.consort.support.Multipart;
import dev.consort.support.TinyGpt2;

/**
 * Uploads beyond {@code consort.limits.concurrent-uploads} (2 here) are refused with a 503 problem and
 * {@code Retry-After} before their bodies are read, while the uploads in progress finish normally and a
 * freed slot takes the next one.
 */
class ConcurrentUploadLimitTest extends LowLimitsApiTest {

    private static Multipart checkpoint(long seed) {
        TinyGpt2 model = new TinyGpt2().seed(seed);
        return new Multipart().file("config", "config.json", model.config())
                .file("weights", "model.safetensors", model.weights());
    }

    /**
     * An upload over a plain socket that sends its headers and the first third of its body, then waits:
     * {@link #finish()} sends the rest and returns the status code.
     */
    private final class SlowUpload implements AutoCloseable {
        private final Socket socket;
        private final byte[] body;
        private final int head;

        SlowUpload(Multipart form) throws IOException {
            this.body = form.toBytes();
            this.head = body.length / 3;
            this.socket = new Socket("localhost", port);
            socket.setSoTimeout(120_000);
            OutputStream out = socket.getOutputStream();
            out.write(("POST /checkpoints HTTP/1.1\r\nHost: localhost\r\nContent-Type: " + form.contentType()
                    + "\r\nContent-Length: " + body.length + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(body, 0, head);
            out.flush();
        }

        int finish() throws IOException {
            OutputStream out = socket.getOutputStream();
            out.write(body, head, body.length - head);
            out.flush();
            String status = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                    StandardCharsets.US_ASCII)).readLine();
            return Integer.parseInt(status.split(" ")[1]);
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    private double uploadsInProgress() {
        String metrics = get("/actuator/prometheus").body();
        return metrics.lines().filter(l -> l.startsWith("consort_uploads_in_progress "))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.indexOf(' ') + 1))).findFirst().orElseThrow();
    }

    private void awaitUploadsInProgress(double expected) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (uploadsInProgress() != expected) {
            assertThat(System.nanoTime()).as("waiting for %s uploads in progress", expected).isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    @Test
    void aThirdConcurrentUploadIsRefusedWith503AndRetryAfterAndTheSlowOnesStillSucceed() throws Exception {
        try (SlowUpload first = new SlowUpload(checkpoint(601)); SlowUpload second = new SlowUpload(checkpoint(602))) {
            awaitUploadsInProgress(2);
            Traces before = traces();

            HttpResponse<String> refused = post("/checkpoints", checkpoint(603));

            assertThat(refused.statusCode()).as(refused.body()).isEqualTo(503);
            assertThat(refused.headers().firstValue("Retry-After")).hasValue("5");
            assertThat(refused.headers().firstValue("Content-Type")).hasValueSatisfying(
                    ct -> assertThat(ct).startsWith("application/problem+json"));
            assertThat(json(refused).path("type").asText()).isEqualTo("https://consort.dev/problems/capacity-exceeded");
            assertThat(json(refused).path("detail").asText()).contains("consort.limits.concurrent-uploads");
            assertThat(traces().checkpoints()).isEqualTo(before.checkpoints());
            // A dataset is an upload too; other requests are not limited.
            assertThat(post("/datasets", new Multipart().file("file", "a.txt", "x\n\ny".getBytes(StandardCharsets.UTF_8)))
                    .statusCode()).isEqualTo(503);
            assertThat(get("/checkpoints").statusCode()).isEqualTo(200);

            assertThat(first.finish()).isEqualTo(201);
            assertThat(second.finish()).isEqualTo(201);
        }
        awaitUploadsInProgress(0);
        HttpResponse<String> next = post("/checkpoints", checkpoint(603));
        assertThat(next.statusCode()).as(next.body()).isEqualTo(201);
    }
}
