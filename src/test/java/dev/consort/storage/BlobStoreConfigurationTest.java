package dev.consort.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Configuration;

import dev.consort.ConsortProperties;
import dev.consort.support.S3MockServer;

/** consort.blobs.store picks the store; the S3 settings reach the S3 store. */
class BlobStoreConfigurationTest {

    @TempDir
    Path dataDir;

    @Configuration(proxyBeanMethods = false)
    @EnableConfigurationProperties({ConsortProperties.class, BlobStoreProperties.class})
    static class Properties {
    }

    private ApplicationContextRunner runner() {
        return new ApplicationContextRunner()
                .withUserConfiguration(Properties.class, BlobStoreConfiguration.class)
                .withPropertyValues("consort.data-dir=" + dataDir);
    }

    @Test
    void theFilesystemStoreIsTheDefault() {
        runner().run(context -> assertThat(context.getBean(BlobStore.class)).isInstanceOf(FilesystemBlobStore.class));
    }

    @Test
    void s3IsChosenByConfiguration() {
        runner().withPropertyValues("consort.blobs.store=s3",
                        "consort.blobs.s3.bucket=" + S3MockServer.BUCKET,
                        "consort.blobs.s3.endpoint=" + S3MockServer.endpoint(),
                        "consort.blobs.s3.path-style=true",
                        "consort.blobs.s3.prefix=configured",
                        "consort.blobs.s3.access-key-id=" + S3MockServer.ACCESS_KEY,
                        "consort.blobs.s3.secret-access-key=" + S3MockServer.SECRET_KEY)
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    BlobStore store = context.getBean(BlobStore.class);
                    assertThat(store).isInstanceOf(S3BlobStore.class);
                    try (StagedBlob staged = store.stage(new java.io.ByteArrayInputStream("configured".getBytes()))) {
                        store.publish(staged);
                        assertThat(store.exists(staged.sha256())).isTrue();
                    }
                });
    }

    @Test
    void s3WithoutABucketRefusesToStart() {
        runner().withPropertyValues("consort.blobs.store=s3")
                .run(context -> assertThat(context).getFailure().rootCause()
                        .hasMessageContaining("consort.blobs.s3.bucket"));
    }
}
