package dev.consort.training;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

import dev.consort.safetensors.SafetensorsHeader;
import dev.consort.safetensors.TensorInfo;
import dev.consort.support.ApiTest;
import dev.consort.support.Multipart;
import tools.jackson.databind.JsonNode;

/** What the training-job tests share: a small text dataset, polling a job, reading tensors back. */
abstract class TrainingJobsSupport extends ApiTest {

    /** A short text repeated: a tiny model can learn it quickly, and every loss is easy to reason about. */
    protected String uploadRepeatedTextDataset(int records) {
        HttpResponse<String> response = post("/datasets", Multipart.repeatedTextDataset(records));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return json(response).path("id").asText();
    }

    protected JsonNode submit(String body) {
        HttpResponse<String> response = postJson("/jobs", body);
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return json(response);
    }

    protected byte[] download(String path) {
        HttpResponse<byte[]> response = getBytes(path);
        assertThat(response.statusCode()).isEqualTo(200);
        return response.body();
    }

    /** Each tensor's raw bytes, by stored name, read with the service's own strict header parser. */
    protected static Map<String, byte[]> tensors(byte[] safetensors) throws IOException {
        Path file = Files.createTempFile("tensors-", ".safetensors");
        try {
            Files.write(file, safetensors);
            SafetensorsHeader header = SafetensorsHeader.read(file);
            Map<String, byte[]> tensors = new LinkedHashMap<>();
            for (TensorInfo tensor : header.tensors()) {
                byte[] bytes = new byte[Math.toIntExact(tensor.byteLength())];
                ByteBuffer.wrap(safetensors, Math.toIntExact(header.dataStart() + tensor.begin()), bytes.length)
                        .order(ByteOrder.LITTLE_ENDIAN).get(bytes);
                tensors.put(tensor.name(), bytes);
            }
            return tensors;
        } finally {
            Files.deleteIfExists(file);
        }
    }
}
