package dev.consort.storage;

import java.io.IOException;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.scheduling.annotation.Scheduled;
import org.springframework.stereotype.Component;

/**
 * Catches what a crash left behind: pins of publications that never attached, blob rows nobody references
 * or pins, files with no row, and staging and scratch files of processes that died. Everything it touches
 * is older than a grace period (or belongs to a process that no longer runs). An old file may still be
 * wanted by a new upload of the same bytes: its deletion and that upload's pin take turns on one lock
 * ({@link BlobReferences#deleteIfStray}).
 */
@Component
public class BlobSweeper {

    private static final Logger log = LoggerFactory.getLogger(BlobSweeper.class);
    static final Duration GRACE = Duration.ofHours(1);

    private final JdbcTemplate jdbc;
    private final BlobStore store;
    private final BlobReferences references;
    private final ScratchDirectory scratch;

    BlobSweeper(JdbcTemplate jdbc, BlobStore store, BlobReferences references, ScratchDirectory scratch) {
        this.jdbc = jdbc;
        this.store = store;
        this.references = references;
        this.scratch = scratch;
    }

    @Scheduled(initialDelayString = "PT1M", fixedDelayString = "PT10M")
    public void sweep() {
        sweep(GRACE);
    }

    /**
     * One sweep with the given grace period. A zero grace is safe only while no upload, job or other
     * process is writing blobs (tests use it to collect at once what a killed process left).
     *
     * @return how many blob rows, stray files and staging or scratch leftovers were removed
     */
    public int sweep(Duration grace) {
        try {
            double graceSeconds = grace.toMillis() / 1000.0;
            // Pins this old belong to publications that will never attach (their process died, or their
            // owner's transaction failed and the unpin did not get through).
            int stalePins = jdbc.update("delete from blob_pin where created_at < now() - make_interval(secs => ?)",
                    graceSeconds);
            int rows = 0;
            List<String> unreferenced = jdbc.queryForList("""
                    select b.sha256 from blob b
                    where b.created_at < now() - make_interval(secs => ?)
                      and not exists (select 1 from blob_ref r where r.sha256 = b.sha256)
                      and not exists (select 1 from blob_pin p where p.sha256 = b.sha256)""",
                    String.class, graceSeconds);
            for (String sha : unreferenced) {
                if (references.collectIfUnreferenced(sha)) {
                    rows++;
                }
            }
            // Only old files: a young file with no visible row may belong to an upload not yet committed.
            Set<String> files = new HashSet<>(store.listOlderThan(grace.toMillis()));
            int strays = 0;
            for (String sha : files) {
                if (references.deleteIfStray(sha)) {
                    strays++;
                }
            }
            int staging = store.purgeStaleStaging(grace.toMillis()) + scratch.reclaim(grace.toMillis());
            if (stalePins + rows + strays + staging > 0) {
                log.info("Blob sweep removed {} stale pins, {} unreferenced blobs, {} stray files, {} stale staging or "
                        + "scratch files", stalePins, rows, strays, staging);
            }
            return rows + strays + staging;
        } catch (IOException | RuntimeException e) {
            log.warn("Blob sweep failed: {}", e.toString());
            return 0;
        }
    }
}
