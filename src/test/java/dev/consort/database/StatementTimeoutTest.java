package dev.consort.database;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;

import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.dao.QueryTimeoutException;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import dev.consort.support.ApiTest;
import dev.consort.support.TestDatabase;

/**
 * A statement that runs past {@code consort.database.statement-timeout} fails with PostgreSQL's own error
 * instead of holding its thread and connection; migrations are exempt.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "consort.role=api",
        "consort.database.statement-timeout=1s"})
class StatementTimeoutTest extends ApiTest {

    @Autowired
    Flyway flyway;

    @DynamicPropertySource
    static void ownDatabase(DynamicPropertyRegistry registry) {
        TestDatabase.useOwnDatabase(registry, "statement-timeout");
    }

    @Test
    void aStatementPastTheTimeoutFailsWithAClearError() {
        long started = System.nanoTime();
        assertThatThrownBy(() -> jdbc.queryForObject("select pg_sleep(30)::text", String.class))
                .isInstanceOf(QueryTimeoutException.class)
                .hasMessageContaining("canceling statement due to statement timeout");
        assertThat((System.nanoTime() - started) / 1_000_000).as("milliseconds until it failed").isLessThan(10_000);
        assertThat(jdbc.queryForObject("show statement_timeout", String.class)).isEqualTo("1s");
        // The connection is fine afterwards: short statements go on working.
        assertThat(jdbc.queryForObject("select 1", Integer.class)).isOne();
    }

    @Test
    void migrationsRunOnConnectionsWithoutTheTimeout() throws Exception {
        try (Connection connection = flyway.getConfiguration().getDataSource().getConnection();
             Statement statement = connection.createStatement();
             ResultSet timeout = statement.executeQuery("show statement_timeout")) {
            assertThat(timeout.next()).isTrue();
            assertThat(timeout.getString(1)).isEqualTo("0");
        }
    }
}
