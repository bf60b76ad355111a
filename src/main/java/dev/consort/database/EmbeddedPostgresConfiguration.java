package dev.consort.database;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import com.zaxxer.hikari.HikariDataSource;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.condition.ConditionalOnExpression;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import dev.consort.ConsortProperties;

/**
 * The bare-machine default: with no {@code spring.datasource.url} the service runs a real PostgreSQL
 * (binaries from Maven Central) whose data directory lives under {@code consort.data-dir}, so data
 * survives a restart. A server a killed service left running there is shut down before the new one starts, and
 * the server goes down with the service however it ends ({@link EmbeddedPostgresOwnership}). With a URL
 * configured this configuration stays out of the way.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnExpression("'${spring.datasource.url:}'.isEmpty()")
class EmbeddedPostgresConfiguration {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedPostgresConfiguration.class);

    /** The running server, its owner file and its watchdog; closing it stops all three. */
    record EmbeddedServer(EmbeddedPostgres postgres, EmbeddedPostgresOwnership ownership, Process watchdog)
            implements AutoCloseable {

        @Override
        public void close() throws IOException {
            postgres.close();
            ownership.release();
            if (watchdog != null) {
                watchdog.destroy();
            }
        }
    }

    @Bean(destroyMethod = "close")
    EmbeddedServer embeddedPostgres(ConsortProperties properties) throws IOException {
        Path dir = properties.dataDir().resolve("postgres").toAbsolutePath();
        Files.createDirectories(dir);
        EmbeddedPostgresOwnership ownership = new EmbeddedPostgresOwnership(dir);
        ownership.stopLeftBehindServer();
        EmbeddedPostgres postgres = EmbeddedPostgres.builder()
                .setDataDirectory(dir)
                .setCleanDataDirectory(false)
                .setServerConfig("max_connections", "100")
                .start();
        log.info("Started embedded PostgreSQL on port {} with data in {}", postgres.getPort(), dir);
        return new EmbeddedServer(postgres, ownership, ownership.claim());
    }

    /** Bound to {@code spring.datasource.hikari.*} like the pool Boot builds for a configured URL. */
    @Bean(destroyMethod = "close")
    @ConfigurationProperties("spring.datasource.hikari")
    HikariDataSource dataSource(EmbeddedServer server) {
        HikariDataSource dataSource = new HikariDataSource();
        dataSource.setJdbcUrl(server.postgres().getJdbcUrl("postgres", "postgres"));
        dataSource.setUsername("postgres");
        dataSource.setMaximumPoolSize(20);
        dataSource.setPoolName("consort-embedded");
        return dataSource;
    }
}
