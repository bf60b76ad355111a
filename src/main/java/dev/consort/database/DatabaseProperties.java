package dev.consort.database;

import java.time.Duration;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The service's own limits on its database sessions, bound from {@code consort.database.*} (environment
 * {@code CONSORT_DATABASE_STATEMENT_TIMEOUT}).
 *
 * @param statementTimeout PostgreSQL's {@code statement_timeout} for every connection of the application's
 *                         pool: a statement running longer (a hung lock wait, a runaway query, a server that
 *                         stopped answering) fails instead of holding its thread and connection forever;
 *                         {@code 0} turns it off. Migrations run on connections of their own without it.
 */
@ConfigurationProperties("consort.database")
public record DatabaseProperties(@DefaultValue("60s") Duration statementTimeout) {
}
