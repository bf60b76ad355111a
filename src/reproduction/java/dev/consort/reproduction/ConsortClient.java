package dev.consort.reproduction;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.UUID;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * A small typed client of Consort's public HTTP API, as a user's script would use it: submit jobs with an
 * {@code Idempotency-Key} (so a rerun with the same tag follows the first run's jobs instead of starting new
 * ones), wait for them, read their results and download what the service draws. Any 4xx or 5xx stops the run
 * with the service's problem.
 */
final class ConsortClient {

    /** The service answered with an error status; the message holds its RFC 9457 problem. */
    static final class ApiException extends RuntimeException {
        ApiException(String message) {
            super(message);
        }
    }

    static final ObjectMapper JSON = JsonMapper.builder().build();

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final String url;
    private final String apiKey;
    private final Duration poll;

    ConsortClient(String url, String apiKey, Duration poll) {
        this.url = url.replaceAll("/+$", "");
        this.apiKey = apiKey;
        this.poll = poll;
    }

    JsonNode get(String path) {
        return JSON.readTree(send(request(path).GET().build(), path));
    }

    /** POST /jobs under {@code key}; the same key and body a second time returns the first job. */
    JsonNode submit(String key, ObjectNode body) {
        HttpRequest request = request("/jobs").header("Content-Type", "application/json")
                .header("Idempotency-Key", key)
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build();
        JsonNode job = JSON.readTree(send(request, "/jobs"));
        log("job " + key + ": " + job.path("id").asString() + " (" + job.path("status").asString() + ")");
        return job;
    }

    /** Polls until the job ends, logging its progress as it changes; the finished job, or an exception unless it succeeded. */
    JsonNode await(JsonNode submitted, String label) throws InterruptedException {
        String id = submitted.path("id").asString();
        String last = "";
        while (true) {
            JsonNode job = get("/jobs/" + id);
            String status = job.path("status").asString();
            if (status.equals("succeeded")) {
                log(label + ": succeeded");
                return job;
            }
            if (status.equals("failed") || status.equals("cancelled")) {
                throw new ApiException("job " + label + " (" + id + ") " + status + ": " + job.path("error"));
            }
            String line = status + progress(job.path("progress"));
            if (!line.equals(last)) {
                log(label + ": " + line);
                last = line;
            }
            Thread.sleep(poll.toMillis());
        }
    }

    private static String progress(JsonNode progress) {
        if (progress.has("step") && progress.has("steps")) {
            return String.format(" step %d/%d%s", progress.path("step").asLong(), progress.path("steps").asLong(),
                    progress.has("loss") ? String.format(" loss %.3f", progress.path("loss").asDouble()) : "");
        }
        return progress.isMissingNode() || progress.isNull() ? "" : " " + progress;
    }

    /** Saves GET {@code path} (with {@code accept}) to {@code file}. */
    void download(String path, String accept, Path file) throws IOException {
        HttpRequest request = request(path).header("Accept", accept).GET().build();
        Files.createDirectories(file.getParent());
        Files.write(file, sendBytes(request, path));
    }

    /** This tenant's dataset called {@code name}, or the file uploaded under that name. */
    String dataset(String name, Path file, String template, Path validationFile) throws IOException {
        String after = null;
        do {
            JsonNode page = get("/datasets?limit=500" + (after == null ? "" : "&after=" + after));
            for (JsonNode item : page.path("items")) {
                if (item.path("name").asString().equals(name)) {
                    log("dataset " + name + ": reusing " + item.path("id").asString());
                    return item.path("id").asString();
                }
            }
            after = page.path("has_more").asBoolean() ? page.path("next_after").asString() : null;
        } while (after != null);
        Multipart body = new Multipart().field("name", name).field("template", template).file("file", file);
        if (validationFile != null) {
            body.file("validation_file", validationFile);
        }
        HttpRequest request = request("/datasets").header("Content-Type", body.contentType())
                .POST(HttpRequest.BodyPublishers.ofByteArray(body.bytes())).build();
        String id = JSON.readTree(send(request, "/datasets")).path("id").asString();
        log("dataset " + name + ": uploaded " + id);
        return id;
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(url + path)).timeout(Duration.ofMinutes(5));
        if (apiKey != null && !apiKey.isBlank()) {
            builder.header("Authorization", "Bearer " + apiKey);
        }
        return builder;
    }

    private String send(HttpRequest request, String path) {
        return new String(sendBytes(request, path), StandardCharsets.UTF_8);
    }

    private byte[] sendBytes(HttpRequest request, String path) {
        HttpResponse<byte[]> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofByteArray());
        } catch (IOException e) {
            throw new ApiException("cannot reach " + url + path + " (is the service running? see --url): " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException("interrupted calling " + path);
        }
        if (response.statusCode() >= 400) {
            throw new ApiException(request.method() + " " + path + " answered " + response.statusCode() + ": "
                    + new String(response.body(), StandardCharsets.UTF_8));
        }
        return response.body();
    }

    static void log(String message) {
        System.out.println("[" + LocalTime.now().truncatedTo(ChronoUnit.SECONDS) + "] " + message);
    }

    /** A multipart/form-data body: text fields and files (the JDK's client has no builder for one). */
    private static final class Multipart {
        private final String boundary = "consort-" + UUID.randomUUID();
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();

        Multipart field(String name, String value) {
            part("Content-Disposition: form-data; name=\"" + name + "\"", value.getBytes(StandardCharsets.UTF_8));
            return this;
        }

        Multipart file(String name, Path file) throws IOException {
            part("Content-Disposition: form-data; name=\"" + name + "\"; filename=\"" + file.getFileName() + "\"\r\n"
                    + "Content-Type: application/octet-stream", Files.readAllBytes(file));
            return this;
        }

        private void part(String headers, byte[] content) {
            out.writeBytes(("--" + boundary + "\r\n" + headers + "\r\n\r\n").getBytes(StandardCharsets.UTF_8));
            out.writeBytes(content);
            out.writeBytes("\r\n".getBytes(StandardCharsets.UTF_8));
        }

        String contentType() {
            return "multipart/form-data; boundary=" + boundary;
        }

        byte[] bytes() {
            out.writeBytes(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
            return out.toByteArray();
        }
    }
}
