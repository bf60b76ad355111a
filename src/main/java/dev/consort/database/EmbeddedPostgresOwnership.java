package dev.consort.database;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Who owns the embedded PostgreSQL of a data directory, so that a service killed with SIGKILL does not lock out
 * the next start. The running service writes its process id and start time next to the data directory
 * ({@code postgres.owner}). On start, a postmaster still running for the directory whose owner is gone is a
 * leftover: it is shut down (SIGTERM, PostgreSQL's smart shutdown, which its dead clients no longer delay) before
 * the new server starts. One whose owner is alive is another running service: the start fails with a message
 * saying so. And a watchdog process ({@code sh}, where the platform has one) stops the server with a fast
 * shutdown as soon as the service's JVM is gone, however it ended.
 */
final class EmbeddedPostgresOwnership {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgresOwnership.class);
    private static final Duration SHUTDOWN_TIMEOUT = Duration.ofSeconds(60);

    private final Path dataDirectory;
    private final Path ownerFile;

    EmbeddedPostgresOwnership(Path dataDirectory) {
        this.dataDirectory = dataDirectory;
        this.ownerFile = dataDirectory.resolveSibling(dataDirectory.getFileName() + ".owner");
    }

    /** Before starting: stops a postmaster a dead service left running here; refuses one a live service runs. */
    void stopLeftBehindServer() throws IOException {
        Optional<ProcessHandle> postmaster = runningPostmaster();
        if (postmaster.isEmpty()) {
            return;
        }
        Optional<ProcessHandle> owner = owner();
        if (owner.isPresent() && owner.get().pid() != ProcessHandle.current().pid()) {
            throw new IllegalStateException("The embedded PostgreSQL in " + dataDirectory + " belongs to the Consort "
                    + "process " + owner.get().pid() + ", which is still running: stop it first, or give this one "
                    + "another consort.data-dir (CONSORT_DATA_DIR)");
        }
        ProcessHandle server = postmaster.get();
        log.warn("An embedded PostgreSQL (pid {}) was left running in {} by a service that is gone; shutting it down",
                server.pid(), dataDirectory);
        server.destroy();
        try {
            server.onExit().get(SHUTDOWN_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new IllegalStateException("The PostgreSQL (pid " + server.pid() + ") left running in " + dataDirectory
                    + " did not shut down within " + SHUTDOWN_TIMEOUT.toSeconds() + " s; stop it by hand", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        log.info("The left-behind PostgreSQL (pid {}) has shut down", server.pid());
    }

    /** After starting: records this process as the owner, and starts the watchdog; returns it, or null. */
    Process claim() throws IOException {
        ProcessHandle self = ProcessHandle.current();
        Files.writeString(ownerFile, self.pid() + "\n" + self.info().startInstant().map(Instant::toString).orElse("")
                + "\n", StandardCharsets.UTF_8);
        Optional<ProcessHandle> postmaster = runningPostmaster();
        if (postmaster.isEmpty() || !Files.isExecutable(Path.of("/bin/sh"))) {
            return null;
        }
        // Polls the JVM; once it is gone, SIGINT (fast shutdown) to this very postmaster, never to a later one.
        String script = "while kill -0 " + self.pid() + " 2>/dev/null; do sleep 1; done; kill -INT "
                + postmaster.get().pid() + " 2>/dev/null";
        return new ProcessBuilder("/bin/sh", "-c", script).redirectInput(ProcessBuilder.Redirect.from(nullFile()))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
    }

    /** After a clean stop: this process no longer owns the directory. */
    void release() throws IOException {
        Optional<ProcessHandle> owner = owner();
        if (owner.isPresent() && owner.get().pid() == ProcessHandle.current().pid()) {
            Files.deleteIfExists(ownerFile);
        }
    }

    /** The postmaster that {@code postmaster.pid} names, if that process runs and is a PostgreSQL server. */
    Optional<ProcessHandle> runningPostmaster() throws IOException {
        List<String> lines = lines(dataDirectory.resolve("postmaster.pid"));
        return runningProcess(lines)
                .filter(process -> process.info().command().map(command -> command.contains("postgres")).orElse(true));
    }

    /** The service process that last claimed the directory, if it still runs (the same process, not a reused pid). */
    private Optional<ProcessHandle> owner() throws IOException {
        List<String> lines = lines(ownerFile);
        String started = lines.size() > 1 ? lines.get(1).trim() : "";
        return runningProcess(lines).filter(process -> started.isEmpty() || process.info().startInstant()
                .map(Instant::toString).map(started::equals).orElse(true));
    }

    /** A pid file's lines; none when it does not exist. */
    private static List<String> lines(Path file) throws IOException {
        return Files.isRegularFile(file) ? Files.readAllLines(file, StandardCharsets.UTF_8) : List.of();
    }

    /** The running process whose pid is the first of {@code lines}, if there is one. */
    private static Optional<ProcessHandle> runningProcess(List<String> lines) {
        if (lines.isEmpty() || !lines.get(0).trim().matches("\\d+")) {
            return Optional.empty();
        }
        return ProcessHandle.of(Long.parseLong(lines.get(0).trim())).filter(ProcessHandle::isAlive);
    }

    private static File nullFile() {
        return new File(System.getProperty("os.name").startsWith("Windows") ? "NUL" : "/dev/null");
    }
}
