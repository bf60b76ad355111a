package dev.consort.storage;

import java.io.IOException;

import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.consort.ConsortProperties;

@Configuration(proxyBeanMethods = false)
class BlobStoreConfiguration {

    @Bean
    BlobStore blobStore(ConsortProperties properties) throws IOException {
        return new FilesystemBlobStore(properties.dataDir().resolve("blobs"));
    }
}
