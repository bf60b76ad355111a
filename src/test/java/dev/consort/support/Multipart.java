package dev.consort.support;

import java.io.ByteArrayOutputStream;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.util.UUID;

/** A multipart/form-data body built by hand, as curl -F would send it. */
public final class Multipart {

    private final String boundary = "consort-" + UUID.randomUUID();
    private final ByteArrayOutputStream body = new ByteArrayOutputStream();

    /**
     * A dataset upload of one short sentence pair repeated as {@code records} records, a quarter held out:
     * a tiny model learns it quickly, and every loss is easy to reason about.
     */
    public static Multipart repeatedTextDataset(int records) {
        String record = "The quick brown fox jumps over the lazy dog. The dog sleeps.\n\n";
        return new Multipart().file("file", "fox.txt", record.repeat(records).getBytes(StandardCharsets.UTF_8))
                .field("val_fraction", "0.25");
    }

    /** A checkpoint upload of a tiny model: its config.json and model.safetensors. */
    public static Multipart checkpoint(TinyGpt2 model) {
        return new Multipart().file("config", "config.json", model.config())
                .file("weights", "model.safetensors", model.weights());
    }

    public Multipart field(String name, String value) {
        write("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n");
        write(value);
        write("\r\n");
        return this;
    }

    public Multipart file(String name, String filename, byte[] content) {
        write("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"; filename=\""
                + filename + "\"\r\nContent-Type: application/octet-stream\r\n\r\n");
        body.writeBytes(content);
        write("\r\n");
        return this;
    }

    public String contentType() {
        return "multipart/form-data; boundary=" + boundary;
    }

    public HttpRequest.BodyPublisher publisher() {
        return HttpRequest.BodyPublishers.ofByteArray(toBytes());
    }

    /** The whole body, closing boundary included. */
    public byte[] toBytes() {
        ByteArrayOutputStream copy = new ByteArrayOutputStream();
        copy.writeBytes(body.toByteArray());
        copy.writeBytes(("--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        return copy.toByteArray();
    }

    private void write(String s) {
        body.writeBytes(s.getBytes(StandardCharsets.UTF_8));
    }
}
