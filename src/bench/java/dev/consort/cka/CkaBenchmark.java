package dev.consort.cka;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Times the CKA of two models' layers the way a {@code cka} job computes it: intra A, intra B and
 * inter A × B from one {@link CkaAccumulator} over all 2L representations, both estimators, and relates
 * the achieved GFLOP/s to a plain 2048³ float32 matmul in the same JVM.
 *
 * <p>Features are random Gaussian (no GPT-2 engine on this branch); CKA's cost does not depend on the
 * values. Not a test (Surefire runs {@code *Test} only); run after {@code mvn test-compile}:
 * <pre>
 * mvn -B -q test-compile dependency:build-classpath -Dmdep.outputFile=target/classpath.txt
 * java -Xmx4g -Dai.djl.offline=true -cp target/classes:target/test-classes:$(cat target/classpath.txt) \
 *     dev.consort.cka.CkaBenchmark [layers=12] [tokens=8192] [width=768] [batchRows=512] [repeats=3] [rowsPerProduct=2048]
 * </pre>
 */
public final class CkaBenchmark {

    private CkaBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        int layers = args.length > 0 ? Integer.parseInt(args[0]) : 12;
        int tokens = args.length > 1 ? Integer.parseInt(args[1]) : 8192;
        int width = args.length > 2 ? Integer.parseInt(args[2]) : 768;
        int batchRows = args.length > 3 ? Integer.parseInt(args[3]) : 512;
        int repeats = args.length > 4 ? Integer.parseInt(args[4]) : 3;
        int rowsPerProduct = args.length > 5 ? Integer.parseInt(args[5]) : CkaAccumulator.DEFAULT_ROWS_PER_PRODUCT;
        int representations = 2 * layers;
        // the useful work: X_rᵀ X_s for every pair r ≤ s, 2 n d_r d_s flops each
        double flops = 2.0 * tokens * width * (double) width * representations * (representations + 1) / 2;
        System.out.printf(Locale.ROOT, "representations: 2 models x %d layers, %d tokens, width %d, batches of %d rows, "
                + "%d rows per product; %.2f TFLOP of Gram products%n", layers, tokens, width, batchRows,
                rowsPerProduct, flops / 1e12);

        try (NDManager manager = NDManager.newBaseManager()) {
            // the features exist before the clock starts, as a model's activations would
            List<NDList> batches = new ArrayList<>();
            for (int from = 0; from < tokens; from += batchRows) {
                int rows = Math.min(batchRows, tokens - from);
                NDList batch = new NDList(representations);
                for (int r = 0; r < representations; r++) {
                    batch.add(manager.randomNormal(new Shape(rows, width)));
                }
                batches.add(batch);
            }

            // the machine is shared: measure the reference matmul right before each run, report every pair
            for (int run = 1; run <= repeats; run++) {
                double[] matmul = matmulGflops(manager);
                double matmulGflops = matmul[0];
                long cpuStart = processCpuNanos();
                long start = System.nanoTime();
                long added;
                long linearDone;
                double cpuSeconds;
                CkaMatrix linear;
                CkaMatrix debiased;
                try (CkaAccumulator accumulator =
                             new CkaAccumulator(manager, Collections.nCopies(representations, width), rowsPerProduct)) {
                    for (NDList batch : batches) {
                        accumulator.add(batch);
                    }
                    added = System.nanoTime();
                    linear = accumulator.similarity(CkaEstimator.LINEAR);
                    linearDone = System.nanoTime();
                    cpuSeconds = (processCpuNanos() - cpuStart) / 1e9;
                    debiased = accumulator.similarity(CkaEstimator.DEBIASED);
                }
                long end = System.nanoTime();
                CkaMatrix intraA = linear.block(0, 0, layers, layers);
                CkaMatrix interAB = linear.block(0, layers, layers, layers);

                double seconds = (linearDone - start) / 1e9;
                double gflops = flops / seconds / 1e9;
                System.out.printf(Locale.ROOT, "run %d: plain 2048^3 fp32 matmul %.1f GFLOP/s; accumulate + linear CKA "
                                + "(intra A, intra B, inter A x B) %.2f s (add() %.2f s), %.1f GFLOP/s = %.2f x matmul; "
                                + "debiased from the same accumulators %.2f s more; load average %s%n",
                        run, matmulGflops, seconds, (added - start) / 1e9, gflops, gflops / matmulGflops,
                        (end - linearDone) / 1e9, loadAverage());
                double perCpu = flops / cpuSeconds / 1e9;
                System.out.printf(Locale.ROOT, "run %d per CPU-second (less sensitive to other processes): matmul %.1f, "
                        + "CKA %.1f GFLOP/cpu-s = %.2f x matmul%n", run, matmul[1], perCpu, perCpu / matmul[1]);
                if (run == repeats) {
                    System.out.printf(Locale.ROOT, "random features: intra A (0,1) %.4f, inter A x B (0,0) linear %.4f, "
                            + "debiased %.4f%n", intraA.get(0, 1), interAB.get(0, 0), debiased.get(0, layers));
                }
            }
            Runtime runtime = Runtime.getRuntime();
            System.out.printf(Locale.ROOT, "heap used %d MiB of %d MiB max; process peak resident %s%n",
                    (runtime.totalMemory() - runtime.freeMemory()) >> 20, runtime.maxMemory() >> 20, peakResident());
        }
    }

    /** Median GFLOP/s of five 2048³ float32 matmuls after a warm-up, per wall second and per process CPU second. */
    private static double[] matmulGflops(NDManager manager) {
        int size = 2048;
        double flops = 2.0 * size * size * (double) size;
        double[] perWall = new double[5];
        double[] perCpu = new double[5];
        try (NDManager scope = manager.newSubManager()) {
            NDArray a = scope.randomNormal(new Shape(size, size));
            NDArray b = scope.randomNormal(new Shape(size, size));
            a.matMul(b).getFloat(0, 0);
            for (int i = 0; i < perWall.length; i++) {
                long cpu = processCpuNanos();
                long start = System.nanoTime();
                a.matMul(b).getFloat(0, 0);
                perWall[i] = flops / ((System.nanoTime() - start) / 1e9) / 1e9;
                perCpu[i] = flops / ((processCpuNanos() - cpu) / 1e9) / 1e9;
            }
        }
        Arrays.sort(perWall);
        Arrays.sort(perCpu);
        return new double[] {perWall[2], perCpu[2]};
    }

    /** CPU time of all the process's threads, the engine's native ones included. */
    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    private static String loadAverage() throws Exception {
        return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
    }

    private static String peakResident() throws Exception {
        return Files.readAllLines(Path.of("/proc/self/status")).stream()
                .filter(line -> line.startsWith("VmHWM:"))
                .map(line -> line.substring("VmHWM:".length()).trim())
                .findFirst().orElse("unknown");
    }
}
