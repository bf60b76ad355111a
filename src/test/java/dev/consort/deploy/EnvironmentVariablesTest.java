package dev.consort.deploy;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.ConfigurationPropertySources;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;
import org.springframework.util.unit.DataSize;

import dev.consort.ConsortProperties;
import dev.consort.database.DatabaseProperties;
import dev.consort.storage.BlobStoreProperties;
import dev.consort.tenant.AuthProperties;
import dev.consort.tenant.QuotaProperties;
import dev.consort.web.LimitsProperties;

/** The environment variables docker-compose.yml, the Helm chart and README use reach the settings they mean. */
class EnvironmentVariablesTest {

    private static Binder binder(Map<String, Object> variables) {
        StandardEnvironment environment = new StandardEnvironment();
        environment.getPropertySources().replace(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                new SystemEnvironmentPropertySource(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME, variables));
        ConfigurationPropertySources.attach(environment);
        return Binder.get(environment);
    }

    @Test
    void serviceSettings() {
        ConsortProperties consort = binder(Map.of(
                "CONSORT_DATA_DIR", "/data",
                "CONSORT_ROLE", "worker",
                "CONSORT_UPLOAD_MAX_BYTES", "5GB",
                "CONSORT_WORKER_DEVICES", "gpu:0,gpu:1",
                "CONSORT_WORKER_MAX_ATTEMPTS", "5"))
                .bind("consort", ConsortProperties.class).get();
        assertThat(consort.dataDir()).isEqualTo(Path.of("/data"));
        assertThat(consort.role()).isEqualTo(ConsortProperties.Role.WORKER);
        assertThat(consort.upload().maxBytes()).isEqualTo(DataSize.ofGigabytes(5));
        assertThat(consort.worker().devices()).isEqualTo(List.of("gpu:0", "gpu:1"));
        assertThat(consort.worker().maxAttempts()).isEqualTo(5);
    }

    @Test
    void quotaSettings() {
        QuotaProperties quotas = binder(Map.of(
                "CONSORT_QUOTAS_MAX_QUEUED_JOBS", "50",
                "CONSORT_QUOTAS_MAX_RUNNING_JOBS", "2",
                "CONSORT_QUOTAS_MAX_STORED_BYTES", "100GB"))
                .bind("consort.quotas", QuotaProperties.class).get();
        assertThat(quotas.maxQueuedJobs()).isEqualTo(50);
        assertThat(quotas.maxRunningJobs()).isEqualTo(2);
        assertThat(quotas.maxStoredBytes()).isEqualTo(DataSize.ofGigabytes(100));
        // The queue's claim reads the running limit by its property name, as an environment variable sets it.
        StandardEnvironment environment = new StandardEnvironment();
        environment.getPropertySources().replace(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                new SystemEnvironmentPropertySource(StandardEnvironment.SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
                        Map.of("CONSORT_QUOTAS_MAX_RUNNING_JOBS", "2")));
        assertThat(environment.resolvePlaceholders("${consort.quotas.max-running-jobs:none}")).isEqualTo("2");
    }

    @Test
    void databaseSettings() {
        DatabaseProperties database = binder(Map.of("CONSORT_DATABASE_STATEMENT_TIMEOUT", "5m"))
                .bind("consort.database", DatabaseProperties.class).get();
        assertThat(database.statementTimeout()).isEqualTo(Duration.ofMinutes(5));
    }

    @Test
    void blobSettings() {
        BlobStoreProperties blobs = binder(Map.of(
                "CONSORT_BLOBS_STORE", "s3",
                "CONSORT_BLOBS_S3_BUCKET", "consort-blobs",
                "CONSORT_BLOBS_S3_ENDPOINT", "http://minio:9000",
                "CONSORT_BLOBS_S3_REGION", "eu-west-1",
                "CONSORT_BLOBS_S3_PATH_STYLE", "true",
                "CONSORT_BLOBS_S3_PREFIX", "consort/",
                "CONSORT_BLOBS_S3_ACCESS_KEY_ID", "id",
                "CONSORT_BLOBS_S3_PART_SIZE", "128MB",
                "CONSORT_BLOBS_S3_CACHE_MAX_SIZE", "10GB"))
                .bind("consort.blobs", BlobStoreProperties.class).get();
        assertThat(blobs.store()).isEqualTo(BlobStoreProperties.Store.S3);
        assertThat(blobs.s3().bucket()).isEqualTo("consort-blobs");
        assertThat(blobs.s3().endpoint()).isEqualTo("http://minio:9000");
        assertThat(blobs.s3().region()).isEqualTo("eu-west-1");
        assertThat(blobs.s3().pathStyle()).isTrue();
        assertThat(blobs.s3().prefix()).isEqualTo("consort/");
        assertThat(blobs.s3().accessKeyId()).isEqualTo("id");
        assertThat(blobs.s3().partSize()).isEqualTo(DataSize.ofMegabytes(128));
        assertThat(blobs.s3().cacheMaxSize()).isEqualTo(DataSize.ofGigabytes(10));
        assertThat(blobs.s3().multipartThreshold()).isEqualTo(DataSize.ofMegabytes(64));
    }

    @Test
    void limitSettings() {
        LimitsProperties limits = binder(Map.of(
                "CONSORT_LIMITS_CONCURRENT_UPLOADS", "3",
                "CONSORT_LIMITS_REQUEST_BODY", "2MB",
                "CONSORT_LIMITS_EVENT_STREAMS", "50",
                "CONSORT_LIMITS_EVENT_STREAMS_PER_TENANT", "5",
                "CONSORT_LIMITS_EVENT_STREAM_HEARTBEAT", "5s"))
                .bind("consort.limits", LimitsProperties.class).get();
        assertThat(limits.concurrentUploads()).isEqualTo(3);
        assertThat(limits.requestBody()).isEqualTo(DataSize.ofMegabytes(2));
        assertThat(limits.eventStreams()).isEqualTo(50);
        assertThat(limits.eventStreamsPerTenant()).isEqualTo(5);
        assertThat(limits.eventStreamHeartbeat()).isEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void authSettings() {
        AuthProperties auth = binder(Map.of("CONSORT_AUTH_KEY_CACHE_TTL", "30s"))
                .bind("consort.auth", AuthProperties.class).get();
        assertThat(auth.keyCacheTtl()).isEqualTo(Duration.ofSeconds(30));
    }
}
