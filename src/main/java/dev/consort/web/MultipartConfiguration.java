package dev.consort.web;

import java.io.IOException;
import java.nio.file.Path;

import jakarta.servlet.MultipartConfigElement;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.consort.ConsortProperties;
import dev.consort.storage.ProcessDirectory;

/**
 * Uploads are written to disk part by part (threshold 0) under the data directory, given as an
 * absolute path so the servlet container cannot resolve it against its own temp directory; each file
 * is limited to {@code consort.upload.max-bytes} and the whole request to {@code consort.upload.max-request-bytes},
 * beyond which the client gets a 413 problem. Each process
 * receives into a {@link ProcessDirectory} of its own, so the half-received parts of a killed process are
 * removed when the next one starts.
 */
@Configuration(proxyBeanMethods = false)
class MultipartConfiguration {

    @Bean
    MultipartConfigElement multipartConfigElement(ConsortProperties properties) throws IOException {
        Path location = ProcessDirectory.of(parent(properties));
        return new MultipartConfigElement(location.toString(), properties.upload().maxBytes().toBytes(),
                properties.upload().maxRequestBytes().toBytes(), 0);
    }

    /** Where the container writes the parts of an upload while this process receives it. */
    static Path location(ConsortProperties properties) {
        return parent(properties).resolve(ProcessDirectory.name());
    }

    private static Path parent(ConsortProperties properties) {
        return properties.dataDir().resolve("multipart").toAbsolutePath();
    }
}
