package dev.consort.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * HTTP tests of an api process with tiny resource limits, so that reaching them is cheap: 2 concurrent
 * uploads, 3 open event streams, 64 KB request bodies, a 200 ms stream heartbeat, a 1 s stream write timeout. No worker runs here
 * ({@code consort.role=api}), so submitted jobs stay queued. The subclasses share this one context, with a
 * database and a data directory of its own (some of them break the data directory on purpose).
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "consort.role=api",
        "consort.limits.concurrent-uploads=2",
        "consort.limits.event-streams=3",
        "consort.limits.event-streams-per-tenant=3",
        "consort.limits.event-stream-heartbeat=200ms",
        "consort.limits.event-stream-write-timeout=1s",
        "consort.limits.request-body=64KB",
        // Some tests here hold an upload half sent on purpose; the body rate is RequestBodyRateTest's.
        "consort.limits.request-body-min-rate=0"})
public abstract class LowLimitsApiTest extends ApiTest {

    @DynamicPropertySource
    static void ownDatabase(DynamicPropertyRegistry registry) {
        TestDatabase.useOwnDatabase(registry, "low-limits");
    }

    @Value("${consort.data-dir}")
    protected Path dataDir;

    /** Everything an upload could leave behind: rows, and files in the blob store and the work directories. */
    public record Traces(long checkpoints, long datasets, long blobs, long blobReferences, Set<String> blobFiles,
            Set<String> stagingFiles, Set<String> multipartFiles, Set<String> tempFiles) {}

    protected Traces traces() throws IOException {
        return new Traces(
                jdbc.queryForObject("select count(*) from checkpoint", Long.class),
                jdbc.queryForObject("select count(*) from dataset", Long.class),
                jdbc.queryForObject("select count(*) from blob", Long.class),
                jdbc.queryForObject("select count(*) from blob_ref", Long.class),
                files(dataDir.resolve("blobs").resolve("sha256")),
                files(dataDir.resolve("blobs").resolve("staging")),
                files(dataDir.resolve("multipart")),
                files(dataDir.resolve("tmp")));
    }

    protected static Set<String> files(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return Set.of();
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(Files::isRegularFile).map(Path::toString).collect(Collectors.toSet());
        }
    }
}
