package dev.consort.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import jakarta.servlet.MultipartConfigElement;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.util.unit.DataSize;

import dev.consort.ConsortProperties;
import dev.consort.storage.ProcessDirectory;
import dev.consort.support.OtherProcessDirectories;

/** Half-received uploads of a killed process do not outlive it: the next process removes them as it starts. */
class MultipartConfigurationTest {

    @TempDir
    Path dataDir;

    @Test
    void removesTheUploadPartsOfADeadProcessButNotOfALiveOne() throws Exception {
        Path multipart = dataDir.resolve("multipart");
        try (OtherProcessDirectories others = OtherProcessDirectories.under(multipart, "upload_part.tmp")) {
            MultipartConfigElement element = new MultipartConfiguration().multipartConfigElement(properties());

            assertThat(others.dead).doesNotExist();
            assertThat(others.reusedPid).doesNotExist();
            assertThat(others.live.resolve("upload_part.tmp")).exists();
            assertThat(others.otherHost.resolve("upload_part.tmp")).exists();
            Path own = multipart.resolve(ProcessDirectory.name()).toAbsolutePath();
            assertThat(Path.of(element.getLocation())).isEqualTo(own).isDirectory();
            assertThat(MultipartConfiguration.location(properties())).isEqualTo(own);
        }
    }

    private ConsortProperties properties() {
        return new ConsortProperties(dataDir, ConsortProperties.Role.BOTH,
                new ConsortProperties.Upload(DataSize.ofMegabytes(1), null),
                new ConsortProperties.Worker(List.of("cpu"), Duration.ofSeconds(60), Duration.ofSeconds(10),
                        Duration.ofSeconds(1), Duration.ofSeconds(15), 3));
    }
}
