package dev.consort.cka;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Accumulates, in one streaming pass over minibatches of rows (tokens or sequence means), what linear
 * and debiased CKA need between every pair of R representations of the same rows, without an n × n
 * Gram matrix: representation r of a minibatch is a [b, d_r] matrix, widths may differ.
 *
 * <p>Layout: each representation's rows are shifted (by its first minibatch's column means, which CKA
 * ignores) and buffered in float32 until {@code rowsPerProduct} rows are waiting. Then, for every pair
 * r ≤ s, one float32 GEMM X_rᵀ X_s is added into a float64 [d_r, d_s] accumulator on the engine: the upper
 * triangle of the [D, D] Gram matrix (D = Σ d_r) block by block, (D² + Σ d_r²) / 2 doubles in all, i.e.
 * 1.4 GB of engine (native, off-heap) memory for 24 representations of width 768, while the Java heap
 * holds only R × R numbers. Pair-sized products stay in cache for the float64 add and need no
 * [d_r, D]-sized temporaries (measured faster here than one wide GEMM per block row). Small float64
 * accumulators hold the column sums, X_rᵀ N and Nᵀ N, N being the [b, R] squared row norms.
 *
 * <p>Not thread-safe. Owns engine memory until {@link #close()}.
 */
public final class CkaAccumulator implements AutoCloseable {

    /** Rows buffered per Gram product: enough that the GEMMs, not the float64 adds, dominate. */
    public static final int DEFAULT_ROWS_PER_PRODUCT = 2048;

    private final int[] widths;
    private final int rowsPerProduct;

    private final NDManager manager;
    /** gram[r][s] for s ≥ r: Σ x_r x_sᵀ over the shifted rows; null below the diagonal. */
    private final NDArray[][] gram;
    private final NDArray[] columnSums;
    private final NDArray[] featuresTimesNorms;
    private final NDArray normProducts;
    private final NDArray normSums;
    private final NDArray[] shifts;

    private NDManager pendingManager;
    /** Buffered minibatches, each the R shifted float32 representations of its rows. */
    private final List<NDList> pending = new ArrayList<>();
    private long pendingRows;
    private long rows;
    private boolean closed;

    /** Accumulates representations of the given widths with {@link #DEFAULT_ROWS_PER_PRODUCT}. */
    public CkaAccumulator(NDManager parent, List<Integer> widths) {
        this(parent, widths, DEFAULT_ROWS_PER_PRODUCT);
    }

    /**
     * @param parent         the engine memory (and device) to accumulate in; a sub-manager is taken from it
     * @param widths         d_r of each representation, in the order {@link #add} receives them
     * @param rowsPerProduct rows buffered before the Gram products (1: products on every {@link #add})
     */
    public CkaAccumulator(NDManager parent, List<Integer> widths, int rowsPerProduct) {
        if (widths.isEmpty()) {
            throw new IllegalArgumentException("CKA needs at least one representation");
        }
        if (rowsPerProduct < 1) {
            throw new IllegalArgumentException("rowsPerProduct must be positive, got " + rowsPerProduct);
        }
        int count = widths.size();
        this.widths = new int[count];
        for (int r = 0; r < count; r++) {
            if (widths.get(r) < 1) {
                throw new IllegalArgumentException("representation " + r + " has width " + widths.get(r));
            }
            this.widths[r] = widths.get(r);
        }
        this.rowsPerProduct = rowsPerProduct;

        this.manager = parent.newSubManager();
        this.gram = new NDArray[count][count];
        this.columnSums = new NDArray[count];
        this.featuresTimesNorms = new NDArray[count];
        for (int r = 0; r < count; r++) {
            for (int s = r; s < count; s++) {
                gram[r][s] = manager.zeros(new Shape(this.widths[r], this.widths[s]), DataType.FLOAT64);
            }
            columnSums[r] = manager.zeros(new Shape(this.widths[r]), DataType.FLOAT64);
            featuresTimesNorms[r] = manager.zeros(new Shape(this.widths[r], count), DataType.FLOAT64);
        }
        this.normProducts = manager.zeros(new Shape(count, count), DataType.FLOAT64);
        this.normSums = manager.zeros(new Shape(count), DataType.FLOAT64);
        this.shifts = new NDArray[count];
        this.pendingManager = manager.newSubManager();
    }

    /** Number of representations R. */
    public int representations() {
        return widths.length;
    }

    /** Rows added so far. */
    public long rows() {
        return rows + pendingRows;
    }

    /**
     * Adds one minibatch: the R representations of the same b rows, each a [b, d_r] floating-point array
     * (float32 is used as is; float16 and float64 are converted; bfloat16 is refused, as converting it
     * aborts the JVM). The arrays stay the caller's; nothing computed here lands in their manager.
     */
    public void add(List<NDArray> representations) {
        requireOpen();
        if (representations.size() != widths.length) {
            throw new IllegalArgumentException("expected " + widths.length + " representations, got "
                    + representations.size());
        }
        Shape firstShape = representations.get(0).getShape();
        long batchRows = firstShape.dimension() == 2 ? firstShape.get(0) : -1;
        for (int r = 0; r < widths.length; r++) {
            NDArray representation = representations.get(r);
            Shape shape = representation.getShape();
            if (shape.dimension() != 2 || shape.get(0) != batchRows || shape.get(1) != widths[r]) {
                throw new IllegalArgumentException("representation " + r + " has shape " + shape + ", expected ("
                        + batchRows + ", " + widths[r] + ")");
            }
            DataType type = representation.getDataType();
            if (type != DataType.FLOAT32 && type != DataType.FLOAT16 && type != DataType.FLOAT64) {
                throw new IllegalArgumentException("representation " + r + " is " + type
                        + "; expected float32, float16 or float64");
            }
        }
        if (batchRows == 0) {
            return;
        }
        try (NDManager scope = manager.newSubManager()) {
            // Borrow the caller's arrays so that every intermediate lands in this scope; one array may appear
            // twice (a representation compared with itself) but must be borrowed once.
            Set<NDArray> distinct = Collections.newSetFromMap(new IdentityHashMap<>());
            distinct.addAll(representations);
            scope.tempAttachAll(distinct.toArray(NDArray[]::new));

            NDList shifted = new NDList(widths.length);
            for (int r = 0; r < widths.length; r++) {
                NDArray x = representations.get(r).toType(DataType.FLOAT32, false)
                        .toDevice(manager.getDevice(), false);
                if (shifts[r] == null) {
                    shifts[r] = x.mean(new int[] {0});
                    shifts[r].attach(manager);
                }
                shifted.add(x.sub(shifts[r]));
            }
            shifted.attach(pendingManager);
            pending.add(shifted);
        }
        pendingRows += batchRows;
        if (pendingRows >= rowsPerProduct) {
            multiplyPending();
        }
    }

    /** CKA between every pair of representations added so far: an R × R symmetric matrix. */
    public CkaMatrix similarity(CkaEstimator estimator) {
        CkaStatistics statistics = statistics();
        return switch (estimator) {
            case LINEAR -> statistics.linear();
            case DEBIASED -> statistics.debiased();
        };
    }

    private void multiplyPending() {
        if (pending.isEmpty()) {
            return;
        }
        int count = widths.length;
        try (NDManager step = manager.newSubManager()) {
            NDArray[] x = new NDArray[count];
            NDList squaredNorms = new NDList(count);
            for (int r = 0; r < count; r++) {
                NDList parts = new NDList(pending.size());
                for (NDList batch : pending) {
                    parts.add(batch.get(r));
                }
                x[r] = parts.size() == 1 ? parts.get(0) : NDArrays.concat(parts, 0);
                x[r].attach(step);
                squaredNorms.add(x[r].square().sum(new int[] {1}));
            }
            NDArray norms = NDArrays.stack(squaredNorms, 1);
            for (int r = 0; r < count; r++) {
                NDArray transposed = x[r].transpose();
                for (int s = r; s < count; s++) {
                    // one product at a time, freed at once, so it is still in cache for the float64 add
                    try (NDManager pair = step.newSubManager()) {
                        pair.tempAttachAll(transposed);
                        gram[r][s].addi(transposed.matMul(x[s]));
                    }
                }
                columnSums[r].addi(x[r].sum(new int[] {0}));
                featuresTimesNorms[r].addi(transposed.matMul(norms));
            }
            normProducts.addi(norms.transpose().matMul(norms));
            normSums.addi(norms.sum(new int[] {0}));
        }
        rows += pendingRows;
        pendingRows = 0;
        pending.clear();
        pendingManager.close();
        pendingManager = manager.newSubManager();
    }

    /** Reduces the accumulators to the per-pair sums of {@link CkaStatistics}; float64 throughout. */
    private CkaStatistics statistics() {
        requireOpen();
        multiplyPending();
        int count = widths.length;
        double[][] gramSquares = new double[count][count];
        double[][] sumGramSum = new double[count][count];
        double[] sumSquares = new double[count];
        double[][] sumNormWeighted = new double[count][count];
        for (int r = 0; r < count; r++) {
            try (NDManager scope = manager.newSubManager()) {
                scope.tempAttachAll(columnSums[r]);
                NDArray sum = columnSums[r];
                sumSquares[r] = sum.dot(sum).getDouble();
                sumNormWeighted[r] = sum.matMul(featuresTimesNorms[r]).toDoubleArray();
                for (int s = r; s < count; s++) {
                    try (NDManager pair = scope.newSubManager()) {
                        pair.tempAttachAll(gram[r][s]);
                        gramSquares[r][s] = gramSquares[s][r] = gram[r][s].square().sum().getDouble();
                    }
                    sumGramSum[r][s] = sumGramSum[s][r] = sum.matMul(gram[r][s]).dot(columnSums[s]).getDouble();
                }
            }
        }
        double[] products = normProducts.toDoubleArray();
        double[][] normProductMatrix = new double[count][count];
        for (int r = 0; r < count; r++) {
            System.arraycopy(products, r * count, normProductMatrix[r], 0, count);
        }
        return new CkaStatistics(rows, gramSquares, sumGramSum, sumSquares, sumNormWeighted, normProductMatrix,
                normSums.toDoubleArray());
    }

    private void requireOpen() {
        if (closed) {
            throw new IllegalStateException("the CKA accumulator is closed");
        }
    }

    /** Frees the engine memory of the accumulators and of any buffered rows. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            manager.close();
        }
    }
}
