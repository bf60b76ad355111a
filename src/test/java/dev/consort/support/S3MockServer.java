package dev.consort.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A real S3-compatible server for tests: Adobe S3Mock's standalone jar (copied from Maven Central into
 * target/s3mock by the build), started once per test JVM in a JVM of its own, since it is a Spring Boot
 * application of its own. It serves plain HTTP on a free port with one bucket, {@value #BUCKET}.
 */
public final class S3MockServer {

    public static final String BUCKET = "consort-test";
    public static final String ACCESS_KEY = "test-access-key";
    public static final String SECRET_KEY = "test-secret-key";

    private static Process process;
    private static String endpoint;

    private S3MockServer() {}

    /** The server's endpoint, e.g. {@code http://127.0.0.1:41234}; starts it on first use. */
    public static synchronized String endpoint() {
        if (endpoint == null) {
            start();
        }
        return endpoint;
    }

    private static void start() {
        Path jar = Path.of(System.getProperty("consort.test.s3mock.jar", "target/s3mock/s3mock.jar"));
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: run the tests through Maven (mvn test), which copies "
                    + "com.adobe.testing:s3mock:exec there");
        }
        try {
            int port = freePort();
            Path root = Files.createTempDirectory("consort-s3mock-");
            Path log = root.resolveSibling(root.getFileName() + ".log");
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            process = new ProcessBuilder(List.of(java, "-Xmx384m", "-jar", jar.toString(),
                    "--server.port=0", "--http.port=" + port,
                    "--com.adobe.testing.s3mock.store.initial-buckets=" + BUCKET,
                    "--com.adobe.testing.s3mock.store.root=" + root,
                    "--com.adobe.testing.s3mock.max-payload-size=64MB",
                    "--logging.level.root=WARN"))
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile())
                    .start();
            Process started = process;
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                started.destroy();
                try {
                    started.waitFor();
                } catch (InterruptedException ignored) {
                    Thread.currentThread().interrupt();
                }
                deleteQuietly(root);
                deleteQuietly(log);
            }));
            String url = "http://127.0.0.1:" + port;
            awaitReady(url, Duration.ofSeconds(90), log);
            endpoint = url;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void awaitReady(String url, Duration timeout, Path log) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("S3Mock exited with " + process.exitValue() + ": " + Files.readString(log));
            }
            try {
                HttpURLConnection connection = (HttpURLConnection) URI.create(url + "/").toURL().openConnection();
                connection.setConnectTimeout(500);
                connection.setReadTimeout(2000);
                if (connection.getResponseCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // still starting
            }
            try {
                Thread.sleep(250);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        process.destroy();
        throw new IllegalStateException("S3Mock did not start within " + timeout + ": " + Files.readString(log));
    }

    private static void deleteQuietly(Path path) {
        try (var paths = Files.walk(path)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException | RuntimeException ignored) {
            // best effort: temporary files
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
