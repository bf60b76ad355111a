package dev.consort.database;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;

import javax.sql.DataSource;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.jdbc.core.JdbcTemplate;

import com.zaxxer.hikari.HikariDataSource;

import dev.consort.ConsortProperties;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/** The bare-machine default keeps its data under the data directory across restarts. */
class EmbeddedPostgresConfigurationTest {

    @TempDir
    Path dataDir;

    @Test
    void dataSurvivesARestart() throws Exception {
        ConsortProperties properties = new ConsortProperties(dataDir, ConsortProperties.Role.BOTH,
                new ConsortProperties.Upload(org.springframework.util.unit.DataSize.ofGigabytes(2)),
                new ConsortProperties.Worker(List.of("cpu"), java.time.Duration.ofSeconds(60),
                        java.time.Duration.ofSeconds(10), java.time.Duration.ofSeconds(1),
                        java.time.Duration.ofSeconds(15), 3));
        EmbeddedPostgresConfiguration configuration = new EmbeddedPostgresConfiguration();

        try (EmbeddedPostgres postgres = configuration.embeddedPostgres(properties)) {
            DataSource dataSource = configuration.dataSource(postgres);
            new JdbcTemplate(dataSource).execute("create table kept (v text); insert into kept values ('still here')");
            ((HikariDataSource) dataSource).close();
        }
        assertThat(dataDir.resolve("postgres").resolve("PG_VERSION")).exists();

        try (EmbeddedPostgres postgres = configuration.embeddedPostgres(properties)) {
            DataSource dataSource = configuration.dataSource(postgres);
            assertThat(new JdbcTemplate(dataSource).queryForObject("select v from kept", String.class))
                    .isEqualTo("still here");
            ((HikariDataSource) dataSource).close();
        }
    }
}
