package dev.consort.analysis;

import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * Accumulates, in one streaming pass over minibatches of rows (tokens or sequence means), what linear
 * and debiased CKA need between every pair of R representations of the same rows, without an n × n
 * Gram matrix: representation r of a minibatch is a [b, d_r] matrix, widths may differ.
 *
 * <p>Layout: a minibatch's representations are shifted (by the first minibatch's column means, which
 * CKA ignores), concatenated column-wise into one [b, D] float32 matrix (D = Σ d_r) and buffered until
 * {@code rowsPerProduct} rows are waiting. Then, for each r, one float32 GEMM X_rᵀ · X[:, r..R) gives
 * block row r of the upper triangle of the [D, D] Gram matrix, which is added into a float64
 * accumulator of [d_r, Σ_{s≥r} d_s] on the engine. Only the upper triangle is kept:
 * (D² + Σ d_r²) / 2 doubles, 1.4 GB of engine (native, off-heap) memory for 24 representations of
 * width 768; the Java heap holds only R × R numbers. Small float64 accumulators hold the column sums,
 * Xᵀ N and Nᵀ N, where N is the [b, R] matrix of the rows' squared norms per representation.
 *
 * <p>Not thread-safe. Owns engine memory until {@link #close()}.
 */
public final class CkaAccumulator implements AutoCloseable {

    /** Rows buffered per Gram product: large enough that the GEMM, not the float64 add, dominates. */
    public static final int DEFAULT_ROWS_PER_PRODUCT = 2048;

    private final int[] widths;
    private final int[] offsets;
    private final int totalWidth;
    private final int rowsPerProduct;

    private final NDManager manager;
    private final NDArray[] gramBlockRows;
    private final NDArray columnSums;
    private final NDArray featuresTimesNorms;
    private final NDArray normProducts;
    private final NDArray normSums;
    private NDArray shift;

    private NDManager pendingManager;
    private final List<NDArray> pending = new ArrayList<>();
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
     * @param rowsPerProduct rows buffered before a Gram product (1: one product per {@link #add})
     */
    public CkaAccumulator(NDManager parent, List<Integer> widths, int rowsPerProduct) {
        if (widths.isEmpty()) {
            throw new IllegalArgumentException("CKA needs at least one representation");
        }
        if (rowsPerProduct < 1) {
            throw new IllegalArgumentException("rowsPerProduct must be positive, got " + rowsPerProduct);
        }
        this.widths = new int[widths.size()];
        this.offsets = new int[widths.size()];
        int offset = 0;
        for (int r = 0; r < widths.size(); r++) {
            int width = widths.get(r);
            if (width < 1) {
                throw new IllegalArgumentException("representation " + r + " has width " + width);
            }
            this.widths[r] = width;
            this.offsets[r] = offset;
            offset = Math.addExact(offset, width);
        }
        this.totalWidth = offset;
        this.rowsPerProduct = rowsPerProduct;

        int count = widths.size();
        this.manager = parent.newSubManager();
        this.gramBlockRows = new NDArray[count];
        for (int r = 0; r < count; r++) {
            gramBlockRows[r] = manager.zeros(new Shape(this.widths[r], totalWidth - offsets[r]), DataType.FLOAT64);
        }
        this.columnSums = manager.zeros(new Shape(totalWidth), DataType.FLOAT64);
        this.featuresTimesNorms = manager.zeros(new Shape(totalWidth, count), DataType.FLOAT64);
        this.normProducts = manager.zeros(new Shape(count, count), DataType.FLOAT64);
        this.normSums = manager.zeros(new Shape(count), DataType.FLOAT64);
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
        long batchRows = representations.get(0).getShape().getShape().length == 2
                ? representations.get(0).getShape().get(0) : -1;
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

            NDList parts = new NDList(representations.size());
            for (NDArray representation : representations) {
                parts.add(representation.toType(DataType.FLOAT32, false).toDevice(manager.getDevice(), false));
            }
            NDArray batch = NDArrays.concat(parts, 1);
            if (shift == null) {
                shift = batch.mean(new int[] {0});
                shift.attach(manager);
            }
            NDArray shifted = batch.sub(shift);
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
        try (NDManager step = manager.newSubManager()) {
            NDArray x = pending.size() == 1 ? pending.get(0) : NDArrays.concat(new NDList(pending), 0);
            x.attach(step);
            NDList squaredNorms = new NDList(widths.length);
            for (int r = 0; r < widths.length; r++) {
                squaredNorms.add(columnsOf(x, r).square().sum(new int[] {1}));
            }
            NDArray norms = NDArrays.stack(squaredNorms, 1);
            for (int r = 0; r < widths.length; r++) {
                NDArray fromR = x.get(new NDIndex(":, {}:", offsets[r]));
                // float32 GEMM on the engine, added into float64 (in place, mixed types)
                gramBlockRows[r].addi(columnsOf(x, r).transpose().matMul(fromR));
            }
            columnSums.addi(x.sum(new int[] {0}));
            featuresTimesNorms.addi(x.transpose().matMul(norms));
            normProducts.addi(norms.transpose().matMul(norms));
            normSums.addi(norms.sum(new int[] {0}));
        }
        rows += pendingRows;
        pendingRows = 0;
        pending.clear();
        pendingManager.close();
        pendingManager = manager.newSubManager();
    }

    private NDArray columnsOf(NDArray x, int representation) {
        return x.get(new NDIndex(":, {}:{}", offsets[representation], offsets[representation] + widths[representation]));
    }

    /** Reduces the accumulators to the per-pair sums of {@link CkaStatistics}; float64 throughout. */
    private CkaStatistics statistics() {
        requireOpen();
        multiplyPending();
        int count = widths.length;
        double[] sums = columnSums.toDoubleArray();
        double[][] gramSquares = new double[count][count];
        double[][] sumGramSum = new double[count][count];
        for (int r = 0; r < count; r++) {
            double[] columnSquares;
            double[] sumTimesGram;
            try (NDManager scope = manager.newSubManager()) {
                scope.tempAttachAll(gramBlockRows[r], columnSums);
                NDArray blockRow = gramBlockRows[r];
                columnSquares = blockRow.square().sum(new int[] {0}).toDoubleArray();
                sumTimesGram = columnSums.get(new NDIndex("{}:{}", offsets[r], offsets[r] + widths[r]))
                        .matMul(blockRow).toDoubleArray();
            }
            for (int s = r; s < count; s++) {
                double squares = 0;
                double weighted = 0;
                for (int column = offsets[s]; column < offsets[s] + widths[s]; column++) {
                    squares += columnSquares[column - offsets[r]];
                    weighted += sumTimesGram[column - offsets[r]] * sums[column];
                }
                gramSquares[r][s] = gramSquares[s][r] = squares;
                sumGramSum[r][s] = sumGramSum[s][r] = weighted;
            }
        }

        double[] sumSquares = new double[count];
        double[][] sumNormWeighted = new double[count][count];
        double[] featuresNorms = featuresTimesNorms.toDoubleArray();
        for (int r = 0; r < count; r++) {
            for (int column = offsets[r]; column < offsets[r] + widths[r]; column++) {
                sumSquares[r] += sums[column] * sums[column];
                for (int s = 0; s < count; s++) {
                    sumNormWeighted[r][s] += sums[column] * featuresNorms[column * count + s];
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
