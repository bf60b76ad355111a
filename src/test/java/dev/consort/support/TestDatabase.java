package dev.consort.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * The real PostgreSQL every test talks to, one per test JVM: Testcontainers when a Docker engine is
 * present, otherwise the service's own embedded PostgreSQL under a temporary data directory.
 */
public final class TestDatabase {

    private static PostgreSQLContainer container;
    private static final java.util.Map<String, io.zonky.test.db.postgres.embedded.EmbeddedPostgres> OWN =
            new java.util.HashMap<>();
    private static Path dataDir;
    private static final java.util.Map<org.springframework.test.context.DynamicPropertyRegistry, Path> OWN_DATA_DIRS =
            java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

    private TestDatabase() {}

    public static synchronized boolean dockerAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (Throwable e) {
            return false;
        }
    }

    /** A JDBC URL to a Testcontainers PostgreSQL, or null when the embedded one should be used. */
    public static synchronized PostgreSQLContainer container() {
        if (container == null && dockerAvailable()) {
            container = new PostgreSQLContainer("postgres:17-alpine");
            container.start();
        }
        return container;
    }

    /** The data directory (blobs, and the embedded database when there is no Docker) of the test JVM. */
    public static synchronized Path dataDir() {
        if (dataDir == null) {
            try {
                dataDir = Files.createTempDirectory("consort-test-");
                Path created = dataDir;
                Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteQuietly(created)));
            } catch (IOException e) {
                throw new IllegalStateException(e);
            }
        }
        return dataDir;
    }

    /** The data directory of the context {@code registry} configures: its own if it asked for one, else the shared one. */
    public static Path dataDirFor(org.springframework.test.context.DynamicPropertyRegistry registry) {
        Path own = OWN_DATA_DIRS.get(registry);
        return own != null ? own : dataDir();
    }

    private static void deleteQuietly(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | RuntimeException ignored) {
            // best effort: a temp directory
        }
    }

    /**
     * For a test class that needs a Spring context of its own (other properties): without Docker every
     * context would start the embedded PostgreSQL on the shared data directory, which the first context
     * holds locked, so this context gets a PostgreSQL of its own, named {@code key} (stopped by the
     * library's shutdown hook) and a data directory of its own. With Docker the shared container is used, as by every context.
     */
    public static void useOwnDatabase(org.springframework.test.context.DynamicPropertyRegistry registry, String key) {
        // Its own blobs too: blob collection in one database must not delete files another one uses. Recorded
        // rather than only registered, because ApiTest's registration of the shared directory runs after this
        // one (superclass methods last) and would replace it.
        OWN_DATA_DIRS.put(registry, dataDir().resolve("context-" + key));
        registry.add("consort.data-dir", () -> dataDirFor(registry).toString());
        if (container() == null) {
            registry.add("spring.datasource.url", () -> ownEmbedded(key).getJdbcUrl("postgres", "postgres"));
            registry.add("spring.datasource.username", () -> "postgres");
        }
    }

    private static synchronized io.zonky.test.db.postgres.embedded.EmbeddedPostgres ownEmbedded(String key) {
        return OWN.computeIfAbsent(key, k -> {
            try {
                return io.zonky.test.db.postgres.embedded.EmbeddedPostgres.builder().start();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }
}
