package dev.consort.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Consort as a separate JVM, started from the test classpath the way an operator starts the jar:
 * {@code java -cp ... dev.consort.ConsortApplication} with the role, database and data directory on
 * its command line, its output in {@code target/reliability-logs/<name>.log}. Killing it is a real
 * crash (SIGKILL) and stopping it a real SIGTERM, which no in-JVM worker pool can imitate.
 */
public final class WorkerProcess implements AutoCloseable {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private final String name;
    private final Process process;
    private final Path log;
    private final int port;

    private WorkerProcess(String name, Process process, Path log, int port) {
        this.name = name;
        this.process = process;
        this.log = log;
        this.port = port;
    }

    public static Builder named(String name) {
        return new Builder(name);
    }

    /** What the child is started with; {@link #start()} waits until it reports ready. */
    public static final class Builder {
        private final String name;
        private final Map<String, String> properties = new LinkedHashMap<>();
        private Duration startupTimeout = Duration.ofMinutes(4);

        private Builder(String name) {
            this.name = name;
            properties.put("consort.role", "worker");
            properties.put("consort.worker.devices", "cpu");
            properties.put("spring.main.banner-mode", "off");
        }

        public Builder database(String jdbcUrl, String username, String password) {
            properties.put("spring.datasource.url", jdbcUrl);
            properties.put("spring.datasource.username", username);
            if (password != null) {
                properties.put("spring.datasource.password", password);
            }
            return this;
        }

        public Builder dataDir(Path dataDir) {
            properties.put("consort.data-dir", dataDir.toAbsolutePath().toString());
            return this;
        }

        public Builder role(String role) {
            properties.put("consort.role", role);
            return this;
        }

        /** Lease, heartbeat, idle poll and reaper interval of the child's worker pool. */
        public Builder leases(Duration lease, Duration heartbeat, Duration poll, Duration reaperInterval) {
            properties.put("consort.worker.lease", lease.toMillis() + "ms");
            properties.put("consort.worker.heartbeat", heartbeat.toMillis() + "ms");
            properties.put("consort.worker.poll", poll.toMillis() + "ms");
            properties.put("consort.worker.reaper-interval", reaperInterval.toMillis() + "ms");
            return this;
        }

        public Builder property(String key, String value) {
            properties.put(key, value);
            return this;
        }

        public Builder startupTimeout(Duration timeout) {
            this.startupTimeout = timeout;
            return this;
        }

        public WorkerProcess start() {
            try {
                int port = freePort();
                Path logs = Path.of(System.getProperty("consort.test.logs", "target/reliability-logs"));
                Files.createDirectories(logs);
                Path log = logs.resolve(name + "-" + System.currentTimeMillis() + ".log");
                List<String> command = new ArrayList<>(List.of(
                        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                        "-Xmx1g",
                        "-Dai.djl.offline=true",
                        "-Dai.djl.pytorch.num_threads=1",
                        "-Dai.djl.pytorch.num_interop_threads=1",
                        "-cp", classpath(),
                        "dev.consort.ConsortApplication",
                        "--server.port=" + port,
                        "--server.address=127.0.0.1"));
                properties.forEach((key, value) -> command.add("--" + key + "=" + value));
                ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true)
                        .redirectOutput(log.toFile());
                // The child takes its settings from the command line only, not from this JVM's environment.
                builder.environment().keySet().removeIf(key -> key.startsWith("CONSORT_") || key.startsWith("SPRING_"));
                Process process = builder.start();
                // Never outlive the test JVM, whatever ends it.
                Runtime.getRuntime().addShutdownHook(new Thread(process::destroyForcibly));
                WorkerProcess worker = new WorkerProcess(name, process, log, port);
                worker.awaitReady(startupTimeout);
                return worker;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** The test JVM's own classpath (test classes, main classes, every dependency). */
    private static String classpath() {
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        if (classpath == null || !classpath.contains("classes")) {
            throw new IllegalStateException("no usable test classpath in this JVM: " + classpath);
        }
        return classpath;
    }

    private void awaitReady(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        URI readiness = URI.create("http://127.0.0.1:" + port + "/actuator/health/readiness");
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException(name + " exited with " + process.exitValue() + " while starting:\n" + logTail());
            }
            try {
                HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(readiness)
                        .timeout(Duration.ofSeconds(5)).GET().build(), HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // still starting
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            pause(Duration.ofMillis(250));
        }
        process.destroyForcibly();
        throw new IllegalStateException(name + " was not ready within " + timeout + ":\n" + logTail());
    }

    public String name() {
        return name;
    }

    public long pid() {
        return process.pid();
    }

    public int port() {
        return port;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** SIGKILL: the JVM gets no chance to run anything, like a power cut or the OOM killer. */
    public void kill() {
        process.destroyForcibly();
        awaitExit(Duration.ofMinutes(1));
    }

    /** SIGTERM: the JVM runs its shutdown hooks (Spring's graceful shutdown); returns the exit code. */
    public int terminate(Duration timeout) {
        process.destroy();
        return awaitExit(timeout);
    }

    private int awaitExit(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException(name + " did not exit within " + timeout + ":\n" + logTail());
            }
            return process.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** Everything the child has logged so far. */
    public String log() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(log unreadable: " + e + ")";
        }
    }

    public Path logFile() {
        return log;
    }

    private String logTail() {
        String text = log();
        return text.length() <= 8000 ? text : text.substring(text.length() - 8000);
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static void pause(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
