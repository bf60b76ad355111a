package dev.consort.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.testcontainers.postgresql.PostgreSQLContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * The real PostgreSQL every test talks to, one per test JVM, chosen explicitly and never by probing for a Docker
 * engine: an engine may be present where no image registry is reachable, and a pull would hang the suite.
 * <ul>
 *   <li>{@code embedded} (the default): the service's own embedded PostgreSQL under a temporary data directory;</li>
 *   <li>{@code testcontainers}: a Testcontainers PostgreSQL from the image {@code consort.test.postgres-image}
 *       (default {@code postgres:17-alpine}; a locally built stand-in, such as {@code docker/local-images.sh}'s
 *       {@code consort-local/postgres}, where no registry is reachable).</li>
 * </ul>
 * Set with {@code -Dconsort.test.database=...} or {@code CONSORT_TEST_DATABASE}.
 */
public final class TestDatabase {

    private static PostgreSQLContainer container;
    private static final java.util.Map<String, io.zonky.test.db.postgres.embedded.EmbeddedPostgres> OWN =
            new java.util.HashMap<>();
    private static Path dataDir;
    private static final java.util.Map<org.springframework.test.context.DynamicPropertyRegistry, Path> OWN_DATA_DIRS =
            java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

    private TestDatabase() {}

    /** Whether this JVM's tests use a Testcontainers PostgreSQL ({@code consort.test.database=testcontainers}). */
    public static boolean testcontainers() {
        String chosen = System.getProperty("consort.test.database", System.getenv().getOrDefault("CONSORT_TEST_DATABASE",
                "embedded"));
        return switch (chosen) {
            case "embedded" -> false;
            case "testcontainers" -> true;
            default -> throw new IllegalStateException("consort.test.database must be embedded or testcontainers, not "
                    + chosen);
        };
    }

    /** The Testcontainers PostgreSQL when it was chosen, or null when the embedded one is used. */
    public static synchronized PostgreSQLContainer container() {
        if (container == null && testcontainers()) {
            String image = System.getProperty("consort.test.postgres-image", "postgres:17-alpine");
            container = new PostgreSQLContainer(DockerImageName.parse(image).asCompatibleSubstituteFor("postgres"));
            container.start();
        }
        return container;
    }

    /** The data directory (blobs, and the embedded database unless Testcontainers was chosen) of the test JVM. */
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
     * For a test class that needs a Spring context of its own (other properties): with the embedded database every
     * context would start the embedded PostgreSQL on the shared data directory, which the first context
     * holds locked, so this context gets a PostgreSQL of its own, named {@code key} (stopped by the
     * library's shutdown hook) and a data directory of its own. With Testcontainers the shared container is used,
     * as by every context.
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
