package dev.consort.database;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ConnectException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;

import org.hibernate.TransactionException;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;
import org.postgresql.util.PSQLState;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.DataIntegrityViolationException;
import org.springframework.jdbc.BadSqlGrammarException;
import org.springframework.jdbc.CannotGetJdbcConnectionException;
import org.springframework.orm.jpa.JpaSystemException;
import org.springframework.transaction.CannotCreateTransactionException;

/** Which failures mean "PostgreSQL cannot be reached" (503, job requeued) rather than a bug or bad data. */
class DatabaseUnavailableTest {

    @Test
    void connectionFailuresAreOutages() {
        assertThat(DatabaseUnavailable.isCause(new CannotGetJdbcConnectionException("no connection",
                new SQLTransientConnectionException("HikariPool-1 - Connection is not available")))).isTrue();
        assertThat(DatabaseUnavailable.isCause(new CannotCreateTransactionException("could not open"))).isTrue();
        assertThat(DatabaseUnavailable.isCause(new DataAccessResourceFailureException("gone"))).isTrue();
        // The server going down mid-statement, and refusing connections while it is down.
        assertThat(DatabaseUnavailable.isCause(new RuntimeException(new SQLException(
                "FATAL: terminating connection due to administrator command", "57P01")))).isTrue();
        assertThat(DatabaseUnavailable.isCause(new IllegalStateException(new PSQLException(
                "Connection refused", PSQLState.CONNECTION_UNABLE_TO_CONNECT, new ConnectException())))).isTrue();
        // The rollback of a transaction whose connection the pool already closed replaces the original error.
        assertThat(DatabaseUnavailable.isCause(new JpaSystemException(new TransactionException(
                "Unable to rollback against JDBC Connection", new SQLException("Connection is closed"))))).isTrue();
    }

    @Test
    void otherDatabaseErrorsAreNot() {
        assertThat(DatabaseUnavailable.isCause(new BadSqlGrammarException("query", "select nonsense",
                new SQLException("syntax error", "42601")))).isFalse();
        assertThat(DatabaseUnavailable.isCause(new DataIntegrityViolationException("duplicate key",
                new SQLException("duplicate key", "23505")))).isFalse();
        assertThat(DatabaseUnavailable.isCause(new SQLException("no state"))).isFalse();
        assertThat(DatabaseUnavailable.isCause(new IllegalArgumentException("not a database error"))).isFalse();
    }
}
