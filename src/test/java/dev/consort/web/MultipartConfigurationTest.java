package dev.consort.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import jakarta.servlet.MultipartConfigElement;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.util.unit.DataSize;

import dev.consort.ConsortProperties;
import dev.consort.storage.ProcessDirectory;

/** Half-received uploads of a killed process do not outlive it: the next process removes them as it starts. */
class MultipartConfigurationTest {

    @TempDir
    Path dataDir;

    @Test
    void removesTheUploadPartsOfADeadProcessButNotOfALiveOne() throws Exception {
        String thisProcess = ProcessDirectory.name();
        String host = thisProcess.substring(0, thisProcess.lastIndexOf('_', thisProcess.lastIndexOf('_') - 1));
        Process exited = new ProcessBuilder("true").start();
        exited.waitFor();
        Process running = new ProcessBuilder("sleep", "120").start();
        try {
            long runningStart = running.info().startInstant().orElseThrow().toEpochMilli();
            Path multipart = dataDir.resolve("multipart");
            Path dead = Files.createDirectories(multipart.resolve(host + "_" + exited.pid() + "_1"));
            Path live = Files.createDirectories(multipart.resolve(host + "_" + running.pid() + "_" + runningStart));
            Path otherHost = Files.createDirectories(multipart.resolve("elsewhere_" + exited.pid() + "_1"));
            for (Path dir : List.of(dead, live, otherHost)) {
                Files.writeString(dir.resolve("upload_part.tmp"), "half a request body");
            }

            MultipartConfigElement element = new MultipartConfiguration().multipartConfigElement(properties());

            assertThat(dead).doesNotExist();
            assertThat(live.resolve("upload_part.tmp")).exists();
            assertThat(otherHost.resolve("upload_part.tmp")).exists();
            Path own = multipart.resolve(thisProcess).toAbsolutePath();
            assertThat(Path.of(element.getLocation())).isEqualTo(own).isDirectory();
            assertThat(MultipartConfiguration.location(properties())).isEqualTo(own);
        } finally {
            running.destroyForcibly();
        }
    }

    private ConsortProperties properties() {
        return new ConsortProperties(dataDir, ConsortProperties.Role.BOTH,
                new ConsortProperties.Upload(DataSize.ofMegabytes(1), null),
                new ConsortProperties.Worker(List.of("cpu"), Duration.ofSeconds(60), Duration.ofSeconds(10),
                        Duration.ofSeconds(1), Duration.ofSeconds(15), 3));
    }
}
