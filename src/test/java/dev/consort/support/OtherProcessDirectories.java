package dev.consort.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import dev.consort.storage.ProcessDirectory;

/**
 * Per-process directories of other processes under one parent, each holding a half-written file: a process that
 * has exited ({@link #dead}), one still running ({@link #live}), the running one's pid with another start time (a
 * reused pid, so dead too: {@link #reusedPid}) and a process of another host ({@link #otherHost}): the latter named
 * as a host with this host's name but another PID namespace would be (a container with host networking), with a pid
 * that is dead here. What a {@link ProcessDirectory} must reclaim when the next process starts, and what it must leave.
 */
public final class OtherProcessDirectories implements AutoCloseable {

    public final Path dead;
    public final Path live;
    public final Path reusedPid;
    public final Path otherHost;
    private final Process running;

    private OtherProcessDirectories(Path dead, Path live, Path reusedPid, Path otherHost, Process running) {
        this.dead = dead;
        this.live = live;
        this.reusedPid = reusedPid;
        this.otherHost = otherHost;
        this.running = running;
    }

    /** Makes the four directories under {@code parent}, each with a file named {@code file}. */
    public static OtherProcessDirectories under(Path parent, String file) throws IOException, InterruptedException {
        String thisProcess = ProcessDirectory.name();
        String host = thisProcess.substring(0, thisProcess.lastIndexOf('_', thisProcess.lastIndexOf('_') - 1));
        String otherNamespace = host.replaceAll("-pidns[0-9]+$", "") + "-pidns1";
        Process exited = new ProcessBuilder("true").start();
        exited.waitFor();
        Process running = new ProcessBuilder("sleep", "120").start();
        long runningStart = running.info().startInstant().orElseThrow().toEpochMilli();
        OtherProcessDirectories dirs = new OtherProcessDirectories(
                Files.createDirectories(parent.resolve(host + "_" + exited.pid() + "_1")),
                Files.createDirectories(parent.resolve(host + "_" + running.pid() + "_" + runningStart)),
                Files.createDirectories(parent.resolve(host + "_" + running.pid() + "_1")),
                Files.createDirectories(parent.resolve(otherNamespace + "_" + exited.pid() + "_1")), running);
        for (Path dir : List.of(dirs.dead, dirs.live, dirs.reusedPid, dirs.otherHost)) {
            Files.writeString(dir.resolve(file), "half written");
        }
        return dirs;
    }

    @Override
    public void close() {
        running.destroyForcibly();
    }
}
