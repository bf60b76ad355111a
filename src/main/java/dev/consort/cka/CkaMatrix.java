package dev.consort.cka;

import java.util.Arrays;

/**
 * A matrix of CKA similarities: entry (i, j) compares row representation i with column representation j.
 * Undefined entries (a representation with no variance) are NaN.
 */
public final class CkaMatrix {

    private final double[][] values;

    /** Copies {@code values}, which must be rectangular and non-empty. */
    public CkaMatrix(double[][] values) {
        if (values.length == 0 || values[0].length == 0) {
            throw new IllegalArgumentException("a CKA matrix needs at least one row and one column");
        }
        this.values = new double[values.length][];
        for (int i = 0; i < values.length; i++) {
            if (values[i].length != values[0].length) {
                throw new IllegalArgumentException("row " + i + " has " + values[i].length
                        + " columns, row 0 has " + values[0].length);
            }
            this.values[i] = values[i].clone();
        }
    }

    public int rows() {
        return values.length;
    }

    public int columns() {
        return values[0].length;
    }

    public double get(int row, int column) {
        return values[row][column];
    }

    /**
     * The sub-matrix of {@code rows} × {@code columns} entries from ({@code firstRow}, {@code firstColumn}):
     * with representations ordered A's layers then B's, intra A, intra B and inter A × B are three blocks.
     */
    public CkaMatrix block(int firstRow, int firstColumn, int rows, int columns) {
        if (firstRow < 0 || firstColumn < 0 || rows < 1 || columns < 1
                || firstRow + rows > rows() || firstColumn + columns > columns()) {
            throw new IllegalArgumentException("block (" + firstRow + ", " + firstColumn + ") of " + rows + " × "
                    + columns + " lies outside a " + rows() + " × " + columns() + " matrix");
        }
        double[][] block = new double[rows][];
        for (int i = 0; i < rows; i++) {
            block[i] = Arrays.copyOfRange(values[firstRow + i], firstColumn, firstColumn + columns);
        }
        return new CkaMatrix(block);
    }

    /** The mean of the diagonal entries (i, i), i below the smaller dimension: same-layer similarity. */
    public double diagonalMean() {
        int n = Math.min(rows(), columns());
        double sum = 0;
        for (int i = 0; i < n; i++) {
            sum += values[i][i];
        }
        return sum / n;
    }

    /** A copy of the entries, row by row. */
    public double[][] toArray() {
        double[][] copy = new double[values.length][];
        for (int i = 0; i < values.length; i++) {
            copy[i] = values[i].clone();
        }
        return copy;
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof CkaMatrix matrix && Arrays.deepEquals(values, matrix.values);
    }

    @Override
    public int hashCode() {
        return Arrays.deepHashCode(values);
    }

    @Override
    public String toString() {
        return "CkaMatrix" + Arrays.deepToString(values);
    }
}
