package dev.consort.database;

import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;

import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.TransientDataAccessResourceException;
import org.springframework.transaction.CannotCreateTransactionException;

/**
 * Tells a failure to reach PostgreSQL (stopped, restarting, unreachable, out of connections) from
 * other errors: the API answers it with 503 and {@code Retry-After}, and a worker puts its job back
 * in the queue instead of failing it.
 */
public final class DatabaseUnavailable {

    private DatabaseUnavailable() {}

    /** Whether {@code failure}, or anything in its cause chain, says the database could not be reached. */
    public static boolean isCause(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof CannotCreateTransactionException
                    || t instanceof DataAccessResourceFailureException // CannotGetJdbcConnectionException included
                    || t instanceof TransientDataAccessResourceException
                    || t instanceof SQLTransientConnectionException // Hikari: no connection within the timeout
                    || t instanceof SQLNonTransientConnectionException
                    || t.getClass().getName().equals("org.hibernate.exception.JDBCConnectionException")) {
                return true;
            }
            if (t instanceof SQLException sql && (isConnectionState(sql.getSQLState()) || isClosedPoolConnection(sql))) {
                return true;
            }
        }
        return false;
    }

    /**
     * SQLSTATE class 08 (connection exception) and 57P01-57P03 (admin shutdown, crash shutdown, cannot
     * connect now: the server is stopping or still starting).
     */
    private static boolean isConnectionState(String state) {
        return state != null
                && (state.startsWith("08") || state.equals("57P01") || state.equals("57P02") || state.equals("57P03"));
    }

    /**
     * HikariCP closes a connection it found broken and answers every later call on it (typically the
     * rollback of the failed transaction, whose exception then replaces the original) with this
     * exception, which carries no SQLSTATE.
     */
    private static boolean isClosedPoolConnection(SQLException sql) {
        return sql.getSQLState() == null && "Connection is closed".equals(sql.getMessage());
    }
}
