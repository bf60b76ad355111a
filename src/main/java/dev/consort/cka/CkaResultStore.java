package dev.consort.cka;

import java.sql.Array;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Repository;

/** The CKA matrices of cka jobs in PostgreSQL, one row per matrix ({@code intra_a}, {@code intra_b}, {@code inter}). */
@Repository
public class CkaResultStore {

    private final JdbcTemplate jdbc;

    CkaResultStore(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    /** Stores (or, for a re-run attempt, replaces) one matrix of a job. */
    public void save(UUID jobId, String name, CkaMatrix matrix) {
        Double[] cells = new Double[matrix.rows() * matrix.columns()];
        for (int r = 0; r < matrix.rows(); r++) {
            for (int c = 0; c < matrix.columns(); c++) {
                cells[r * matrix.columns() + c] = matrix.get(r, c);
            }
        }
        jdbc.execute((java.sql.Connection connection) -> {
            Array array = connection.createArrayOf("float8", cells);
            try (var statement = connection.prepareStatement("""
                    insert into cka_matrix (job_id, name, row_count, col_count, cells) values (?, ?, ?, ?, ?)
                    on conflict (job_id, name) do update set row_count = excluded.row_count,
                        col_count = excluded.col_count, cells = excluded.cells""")) {
                statement.setObject(1, jobId);
                statement.setString(2, name);
                statement.setInt(3, matrix.rows());
                statement.setInt(4, matrix.columns());
                statement.setArray(5, array);
                return statement.executeUpdate();
            } finally {
                array.free();
            }
        });
    }

    /** The job's matrices by name, in the order intra_a, intra_b, inter (those that exist). */
    public Map<String, CkaMatrix> load(UUID jobId) {
        Map<String, CkaMatrix> matrices = new LinkedHashMap<>();
        jdbc.query("""
                select name, row_count, col_count, cells from cka_matrix where job_id = ?
                order by case name when 'intra_a' then 0 when 'intra_b' then 1 else 2 end""", rs -> {
            int rows = rs.getInt("row_count");
            int columns = rs.getInt("col_count");
            Double[] cells = (Double[]) rs.getArray("cells").getArray();
            double[][] values = new double[rows][columns];
            for (int r = 0; r < rows; r++) {
                for (int c = 0; c < columns; c++) {
                    values[r][c] = cells[r * columns + c];
                }
            }
            matrices.put(rs.getString("name"), new CkaMatrix(values));
        }, jobId);
        return matrices;
    }
}
