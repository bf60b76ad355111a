package dev.consort.storage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Temporary files of one running process, kept apart from those of other processes sharing the same
 * data directory: {@code <parent>/<host>_<pid>_<start millis>/}. A process killed without warning
 * (SIGKILL, the OOM killer) cannot delete its half-written files, so whoever next opens the parent
 * removes the directories of processes of this host that no longer run, at once rather than after a
 * grace period. Directories of other hosts (a shared volume) are judged by the age of their files.
 */
public final class ProcessDirectory {

    private static final Logger log = LoggerFactory.getLogger(ProcessDirectory.class);
    private static final Pattern NAME = Pattern.compile("(.+)_(\\d+)_(\\d+)");
    private static final String HOST = lookUpHostName();
    private static final String THIS_PROCESS = HOST + "_" + ProcessHandle.current().pid() + "_" + startMillis(ProcessHandle.current()).orElse(0L);

    private ProcessDirectory() {}

    /** This process's directory under {@code parent}, created if missing, after removing those of dead processes. */
    public static Path of(Path parent) throws IOException {
        Path root = parent.toAbsolutePath();
        Files.createDirectories(root);
        reclaim(root, Long.MAX_VALUE);
        Path own = root.resolve(THIS_PROCESS);
        Files.createDirectories(own);
        return own;
    }

    /** The name of this process's directory under any parent. */
    public static String name() {
        return THIS_PROCESS;
    }

    /**
     * Removes what other processes left under {@code parent}: the directories of dead processes of this
     * host; files older than {@code olderThanMillis} in other hosts' directories; and loose files of that
     * age (written by versions without per-process directories).
     *
     * @return how many files and directories were removed
     */
    public static int reclaim(Path parent, long olderThanMillis) throws IOException {
        if (!Files.isDirectory(parent)) {
            return 0;
        }
        long cutoff = olderThanMillis == Long.MAX_VALUE ? Long.MIN_VALUE : System.currentTimeMillis() - olderThanMillis;
        int removed = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(parent)) {
            for (Path entry : entries) {
                String name = entry.getFileName().toString();
                if (name.equals(THIS_PROCESS)) {
                    continue;
                }
                Matcher process = NAME.matcher(name);
                if (Files.isDirectory(entry) && process.matches()) {
                    if (process.group(1).equals(HOST)) {
                        if (!isRunning(Long.parseLong(process.group(2)), Long.parseLong(process.group(3)))) {
                            int deleted = deleteTree(entry);
                            if (deleted > 0) {
                                log.info("Removed {} temporary file(s) and directories left by the dead process {}",
                                        deleted, entry);
                            }
                            removed += deleted;
                        }
                    } else {
                        removed += deleteFilesOlderThan(entry, cutoff);
                    }
                } else if (Files.isRegularFile(entry) && modifiedBefore(entry, cutoff)) {
                    if (Files.deleteIfExists(entry)) {
                        removed++;
                    }
                }
            }
        }
        return removed;
    }

    private static boolean isRunning(long pid, long startMillis) {
        Optional<ProcessHandle> handle = ProcessHandle.of(pid);
        if (handle.isEmpty() || !handle.get().isAlive()) {
            return false;
        }
        // The pid may have been reused (a container's JVM is often pid 1 on every start): compare start times.
        return startMillis == 0 || startMillis(handle.get()).map(start -> start == startMillis).orElse(true);
    }

    /** Removes {@code dir} and everything in it; how many entries went (another process may race it). */
    static int deleteTree(Path dir) throws IOException {
        int removed = 0;
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                try {
                    if (Files.deleteIfExists(path)) {
                        removed++;
                    }
                } catch (NoSuchFileException ignored) {
                    // another process reclaimed it at the same moment
                }
            }
        } catch (NoSuchFileException | UncheckedIOException raced) {
            return removed;
        }
        return removed;
    }

    private static int deleteFilesOlderThan(Path dir, long cutoff) throws IOException {
        int removed = 0;
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path file : paths.filter(Files::isRegularFile).filter(p -> modifiedBefore(p, cutoff)).toList()) {
                if (Files.deleteIfExists(file)) {
                    removed++;
                }
            }
        } catch (NoSuchFileException | UncheckedIOException raced) {
            return removed;
        }
        return removed;
    }

    private static boolean modifiedBefore(Path file, long cutoffMillis) {
        try {
            return Files.getLastModifiedTime(file).toMillis() < cutoffMillis;
        } catch (IOException e) {
            return false;
        }
    }

    private static Optional<Long> startMillis(ProcessHandle process) {
        return process.info().startInstant().map(instant -> instant.toEpochMilli());
    }

    /** This machine's name, as it appears in process directory names (also names worker pools). */
    public static String hostName() {
        return HOST;
    }

    /**
     * The host name, with the id of this process's PID namespace where Linux shows it. Containers with host networking
     * share the host's name, and each may run its service as pid 1: without the namespace, one container would take
     * the other's live directory on a shared volume for that of a dead process of its own, and delete it.
     */
    private static String lookUpHostName() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            host = "localhost";
        }
        return (host + pidNamespace()).replaceAll("[^A-Za-z0-9.-]", "-");
    }

    /** {@code -pidns<inode>} from {@code /proc/self/ns/pid} ("pid:[4026531836]"), or empty where there is none. */
    private static String pidNamespace() {
        try {
            String link = Files.readSymbolicLink(Path.of("/proc/self/ns/pid")).toString();
            String id = link.replaceAll("[^0-9]", "");
            return id.isEmpty() ? "" : "-pidns" + id;
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            return "";
        }
    }
}
