package dev.consort.database;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.jdbc.core.JdbcTemplate;

import com.zaxxer.hikari.HikariDataSource;

import dev.consort.ConsortProperties;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * The bare-machine default keeps its data under the data directory across restarts, and does not touch a server
 * another live service runs there. (A server left behind by a killed service is a matter of processes:
 * {@code EmbeddedPostgresCrashIT}.)
 */
class EmbeddedPostgresConfigurationTest {

    @TempDir
    Path dataDir;

    private final EmbeddedPostgresConfiguration configuration = new EmbeddedPostgresConfiguration();

    private ConsortProperties properties() {
        return new ConsortProperties(dataDir, ConsortProperties.Role.BOTH,
                new ConsortProperties.Upload(org.springframework.util.unit.DataSize.ofGigabytes(2), null),
                new ConsortProperties.Worker(List.of("cpu"), Duration.ofSeconds(60), Duration.ofSeconds(10),
                        Duration.ofSeconds(1), Duration.ofSeconds(15), 3));
    }

    @Test
    void dataSurvivesARestart() throws Exception {
        Process watchdog;
        try (EmbeddedPostgresConfiguration.EmbeddedServer server = configuration.embeddedPostgres(properties())) {
            // The owner is this process, and a watchdog would stop the server if this JVM died.
            assertThat(Files.readString(dataDir.resolve("postgres.owner"))).startsWith(ProcessHandle.current().pid() + "\n");
            watchdog = server.watchdog();
            assertThat(watchdog.isAlive()).isTrue();
            DataSource dataSource = configuration.dataSource(server);
            new JdbcTemplate(dataSource).execute("create table kept (v text); insert into kept values ('still here')");
            ((HikariDataSource) dataSource).close();
        }
        assertThat(dataDir.resolve("postgres").resolve("PG_VERSION")).exists();
        assertThat(dataDir.resolve("postgres.owner")).as("released on a clean stop").doesNotExist();
        assertThat(watchdog.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)).as("the watchdog ends with it").isTrue();

        try (EmbeddedPostgresConfiguration.EmbeddedServer server = configuration.embeddedPostgres(properties())) {
            DataSource dataSource = configuration.dataSource(server);
            assertThat(new JdbcTemplate(dataSource).queryForObject("select v from kept", String.class))
                    .isEqualTo("still here");
            ((HikariDataSource) dataSource).close();
        }
    }

    /** A postmaster whose owner still runs is another service's: the start fails, saying so, and touches nothing. */
    @Test
    void aServerAnotherLiveServiceOwnsIsLeftAloneAndTheStartRefused() throws Exception {
        Path dir = dataDir.resolve("postgres");
        Files.createDirectories(dir);
        Process otherService = new ProcessBuilder("sleep", "120").start();
        try (EmbeddedPostgres running = EmbeddedPostgres.builder().setDataDirectory(dir).setCleanDataDirectory(false)
                .start()) {
            Files.writeString(dataDir.resolve("postgres.owner"), otherService.pid() + "\n"
                    + otherService.info().startInstant().orElseThrow() + "\n");
            assertThatThrownBy(() -> configuration.embeddedPostgres(properties()))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("process " + otherService.pid() + ", which is still running");
            assertThat(new JdbcTemplate(running.getPostgresDatabase()).queryForObject("select 1", Integer.class))
                    .as("the other service's server still runs").isEqualTo(1);
        } finally {
            otherService.destroyForcibly();
        }
    }
}
