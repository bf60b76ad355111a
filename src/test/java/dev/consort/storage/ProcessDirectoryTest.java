package dev.consort.storage;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

/**
 * Containers with host networking share the host's name and may each run the service as pid 1. A process's
 * directory is therefore named after its PID namespace too, so that one container never takes another's live
 * directory on a shared volume for a dead process of its own host.
 */
class ProcessDirectoryTest {

    @Test
    void theDirectoryNamesThisProcesssPidNamespace() throws Exception {
        Path namespace = Path.of("/proc/self/ns/pid");
        String link = Files.readSymbolicLink(namespace).toString();                  // pid:[4026531836]
        String inode = link.replaceAll("[^0-9]", "");
        assertThat(ProcessDirectory.name()).contains("-pidns" + inode + "_" + ProcessHandle.current().pid() + "_");
    }
}
