package dev.consort.database;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariDataSource;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.flyway.autoconfigure.FlywayConfigurationCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * Puts {@code consort.database.statement-timeout} on every connection of the application's pool, the
 * embedded database's as well as one Boot builds for an external URL (appended to any
 * {@code spring.datasource.hikari.connection-init-sql} of the operator's). Flyway gets connections of its own
 * without the timeout: a migration may legitimately run for long on a big table.
 */
@Configuration(proxyBeanMethods = false)
class StatementTimeoutConfiguration {

    /** Static and bound by hand: a post-processor comes before the beans that configuration properties make. */
    @Bean
    static BeanPostProcessor statementTimeoutOnPools(Environment environment) {
        return new BeanPostProcessor() {
            @Override
            public Object postProcessAfterInitialization(Object bean, String name) {
                if (bean instanceof HikariDataSource pool) {
                    DatabaseProperties database = Binder.get(environment).bindOrCreate("consort.database",
                            DatabaseProperties.class);
                    pool.setConnectionInitSql(initSql(database, pool.getConnectionInitSql()));
                }
                return bean;
            }
        };
    }

    static String initSql(DatabaseProperties database, String operators) {
        String timeout = "set statement_timeout = " + database.statementTimeout().toMillis();
        return operators == null || operators.isBlank() ? timeout : operators + "; " + timeout;
    }

    /**
     * Migrations connect on their own (unpooled, with the pool's URL and credentials), so they run without
     * the timeout and leave no changed session setting behind in a pooled connection. A Flyway data source
     * the operator configured ({@code spring.flyway.url}) is left alone.
     */
    @Bean
    FlywayConfigurationCustomizer migrationsWithoutStatementTimeout(DataSource dataSource) {
        return flyway -> {
            if (flyway.getDataSource() == dataSource && dataSource instanceof HikariDataSource pool) {
                flyway.dataSource(pool.getJdbcUrl(), pool.getUsername(), pool.getPassword());
            }
        };
    }
}
