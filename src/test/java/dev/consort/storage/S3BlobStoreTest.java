package dev.consort.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

import org.junit.jupiter.api.Test;
import org.springframework.util.unit.DataSize;

import dev.consort.support.S3MockServer;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The S3 store against a real S3-compatible server (S3Mock, started from its Maven Central jar): the same
 * contract as the filesystem store, with 5 MB parts so the contract's large blob goes up in parts.
 */
class S3BlobStoreTest extends BlobStoreContract {

    private static S3Client client;

    /** Every test's objects under a prefix of their own, in the one bucket. */
    private final String prefix = "test-" + UUID.randomUUID() + "/";

    private static synchronized S3Client client() {
        if (client == null) {
            client = BlobStoreConfiguration.s3Client(settings("unused/", DataSize.ofGigabytes(1)));
        }
        return client;
    }

    private static BlobStoreProperties.S3 settings(String prefix, DataSize cacheMaxSize) {
        return new BlobStoreProperties.S3(S3MockServer.BUCKET, S3MockServer.endpoint(), "us-east-1", true, prefix,
                S3MockServer.ACCESS_KEY, S3MockServer.SECRET_KEY, DataSize.ofMegabytes(5), DataSize.ofMegabytes(5),
                cacheMaxSize);
    }

    @Override
    BlobStore createStore(Path root) throws IOException {
        return new S3BlobStore(client(), settings(prefix, DataSize.ofGigabytes(1)), root);
    }

    private String publish(BlobStore store, byte[] bytes) throws IOException {
        try (StagedBlob staged = store.stage(new ByteArrayInputStream(bytes))) {
            store.publish(staged);
            return staged.sha256();
        }
    }

    private String key(String sha) {
        return prefix + "sha256/" + sha.substring(0, 2) + "/" + sha;
    }

    @Test
    void blobsAreObjectsKeyedBySha256UnderThePrefix() throws Exception {
        BlobStore store = createStore(root);
        String sha = publish(store, "an object".getBytes());
        assertThat(client().headObject(b -> b.bucket(S3MockServer.BUCKET).key(key(sha))).contentLength()).isEqualTo(9);
    }

    @Test
    void largeBlobsGoUpInParts() throws Exception {
        BlobStore store = createStore(root);
        String sha = publish(store, randomBytes(12 * 1024 * 1024, 3));
        // A multipart object's ETag ends in -<parts>: 5 MB + 5 MB + 2 MB.
        assertThat(client().headObject(b -> b.bucket(S3MockServer.BUCKET).key(key(sha))).eTag()).endsWith("-3\"");
        String small = publish(store, randomBytes(1024, 4));
        assertThat(client().headObject(b -> b.bucket(S3MockServer.BUCKET).key(key(small))).eTag()).doesNotContain("-");
    }

    @Test
    void aLocalCopyIsDownloadedOnceAndCheckedAgainstItsSha256() throws Exception {
        BlobStore store = createStore(root);
        byte[] bytes = randomBytes(50_000, 5);
        String sha = publish(store, bytes);
        Path copy = store.localCopy(sha);
        assertThat(copy).startsWith(root.resolve("cache").toAbsolutePath());

        // Served from the cache from now on: not downloaded again.
        client().putObject(b -> b.bucket(S3MockServer.BUCKET).key(key(sha)), RequestBody.fromString("changed"));
        assertThat(Files.readAllBytes(store.localCopy(sha))).isEqualTo(bytes);

        // Bytes that do not hash to their key never become a local copy.
        String claimed = sha256("what it should be".getBytes());
        client().putObject(b -> b.bucket(S3MockServer.BUCKET).key(key(claimed)), RequestBody.fromString("corrupt"));
        assertThatThrownBy(() -> store.localCopy(claimed)).isInstanceOf(IOException.class).hasMessageContaining("corrupt");
        try (var cached = Files.walk(root.resolve("cache"))) {
            assertThat(cached.filter(Files::isRegularFile).map(p -> p.getFileName().toString())).containsExactly(sha);
        }
    }

    /** An object cut short (a torn copy, a bucket restored from a bad backup) is not trusted as the blob. */
    @Test
    void anExistingObjectOfTheWrongSizeIsReplacedWhenTheSameBytesArePublishedAgain() throws Exception {
        BlobStore store = createStore(root);
        byte[] bytes = randomBytes(20_000, 31);
        String sha = sha256(bytes);
        client().putObject(b -> b.bucket(S3MockServer.BUCKET).key(key(sha)), RequestBody.fromString("truncated"));

        publish(store, bytes);

        try (var in = store.open(sha)) {
            assertThat(in.readAllBytes()).isEqualTo(bytes);
        }
        assertThat(client().headObject(b -> b.bucket(S3MockServer.BUCKET).key(key(sha))).metadata())
                .containsEntry("sha256", sha);
    }

    @Test
    void theCacheEvictsTheLeastRecentlyUsedCopiesBeyondItsBudget() throws Exception {
        BlobStore store = new S3BlobStore(client(), settings(prefix, DataSize.ofKilobytes(1000)), root);
        String first = publish(store, randomBytes(400_000, 11));
        String second = publish(store, randomBytes(400_000, 12));
        String third = publish(store, randomBytes(400_000, 13));

        Path firstCopy = store.localCopy(first);
        Files.setLastModifiedTime(firstCopy, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 60_000));
        Path secondCopy = store.localCopy(second);
        Path thirdCopy = store.localCopy(third);

        assertThat(firstCopy).doesNotExist();
        assertThat(secondCopy).exists();
        assertThat(thirdCopy).exists();
        assertThat(Files.readAllBytes(store.localCopy(first))).hasSize(400_000);
    }

    @Test
    void deletingABlobDropsItsLocalCopyToo() throws Exception {
        BlobStore store = createStore(root);
        String sha = publish(store, randomBytes(10_000, 21));
        Path copy = store.localCopy(sha);
        store.delete(sha);
        assertThat(copy).doesNotExist();
        assertThat(store.exists(sha)).isFalse();
    }

    @Test
    void aBucketThatIsNotThereFailsAtStart() {
        BlobStoreProperties.S3 missing = new BlobStoreProperties.S3("no-such-bucket", S3MockServer.endpoint(),
                "us-east-1", true, "", S3MockServer.ACCESS_KEY, S3MockServer.SECRET_KEY, DataSize.ofMegabytes(5),
                DataSize.ofMegabytes(5), DataSize.ofGigabytes(1));
        assertThatThrownBy(() -> new S3BlobStore(client(), missing, root))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("no-such-bucket");
    }
}
