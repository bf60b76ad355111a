package dev.consort.merge.weights;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

import dev.consort.engine.Gpt2Config;
import dev.consort.engine.Gpt2TensorLayout;
import dev.consort.merge.weights.MergeCompatibility.MergeInput;
import dev.consort.safetensors.DType;
import dev.consort.safetensors.SafetensorsReader;
import dev.consort.safetensors.SafetensorsWriter;

/**
 * {@code ties} over a GPT-2 124M-shaped base and three experts (random F32 checkpoints, ~500 MB each, the
 * experts MLP-only fine-tunes of the base), against a plain read-and-copy of the same bytes in the same
 * JVM: read every input tensor, write an output of the merged size. Prints seconds (and the process's CPU
 * seconds, since the machines this runs on are shared), GB/s of input read,
 * the ratio, and memory: the process's peak RSS (VmHWM, reset before each phase through
 * /proc/self/clear_refs) and the peak of its anonymous part (RssAnon, sampled every 20 ms; the rest of
 * RSS is file pages of the memory-mapped inputs, which the kernel can drop at will).
 *
 * <pre>
 * mvn -B -q test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/test-classpath.txt
 * java -Xmx1g -cp target/test-classes:target/classes:$(cat target/test-classpath.txt) \
 *     dev.consort.merge.weights.MergeBenchmark [work-dir] [repetitions]
 * </pre>
 */
public final class MergeBenchmark {

    private static final Gpt2Config GPT2_124M = new Gpt2Config(12, 768, 12, 3072, 50257, 1024, 1e-5);

    public static void main(String[] args) throws Exception {
        Path dir = args.length > 0 ? Path.of(args[0]) : Files.createTempDirectory("merge-benchmark");
        int repetitions = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        Files.createDirectories(dir);
        try {
            run(dir, repetitions);
        } finally {
            if (args.length == 0) {
                try (Stream<Path> files = Files.walk(dir)) {
                    for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
                        Files.delete(file);
                    }
                }
            }
        }
    }

    private static void run(Path dir, int repetitions) throws Exception {
        long start = System.nanoTime();
        MergeInput base = new MergeInput("base_model", GPT2_124M, dir.resolve("base.safetensors"));
        writeRandom(base.weights(), null, 1);
        List<MergeInput> experts = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            MergeInput expert = new MergeInput("models[" + i + "]", GPT2_124M, dir.resolve("expert-" + i + ".safetensors"));
            writeRandom(expert.weights(), base.weights(), 2 + i);
            experts.add(expert);
        }
        System.out.printf(Locale.ROOT, "wrote 4 checkpoints of %.1f MB in %.1f s%n",
                Files.size(base.weights()) / 1e6, (System.nanoTime() - start) / 1e9);

        MergeRecipe ties = MergeRecipe.of(MergekitConfig.parse("""
                merge_method: ties
                base_model: base
                models:
                  - model: math
                    parameters: {weight: 1.0, density: 0.5}
                  - model: code
                    parameters: {weight: 0.8, density: 0.5}
                  - model: chat
                    parameters: {weight: 0.6, density: 0.3}
                parameters: {normalize: true}
                """));
        Path output = dir.resolve("merged.safetensors");
        List<MergeInput> inputs = new ArrayList<>(List.of(base));
        inputs.addAll(experts);
        for (int r = 1; r <= repetitions; r++) {
            Phase copy = Phase.run(() -> readAndCopy(inputs, output));
            Phase merge = Phase.run(() -> WeightMerger.merge(ties, base, experts, 7, output, (t, d, n) -> {})
                    .bytesRead());
            System.out.printf(Locale.ROOT, "run %d: read-and-copy %s | ties %s | ratio %.2f%n", r, copy, merge,
                    copy.seconds / merge.seconds);
        }
    }

    /** Reads every tensor of every input and writes the first expert's as the output: the bytes a merge moves. */
    private static long readAndCopy(List<MergeInput> inputs, Path output) throws IOException {
        List<SafetensorsReader> readers = new ArrayList<>();
        try {
            for (MergeInput input : inputs) {
                readers.add(SafetensorsReader.open(input.weights()));
            }
            AtomicLong bytes = new AtomicLong();
            List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
            for (Map.Entry<String, long[]> tensor : Gpt2TensorLayout.expected(GPT2_124M).entrySet()) {
                tensors.add(new SafetensorsWriter.Tensor(tensor.getKey(), tensor.getValue(), () -> {
                    List<float[]> values = new ArrayList<>();
                    for (SafetensorsReader reader : readers) {
                        values.add(reader.floats(tensor.getKey()));
                        bytes.addAndGet(reader.tensors().get(tensor.getKey()).byteLength());
                    }
                    return values.get(1);
                }));
            }
            SafetensorsWriter.write(output, tensors, DType.F32);
            return bytes.get();
        } finally {
            for (SafetensorsReader reader : readers) {
                reader.close();
            }
        }
    }

    /** A GPT-2-shaped checkpoint of N(0, 0.02)-ish weights, or, given a base, the base with its MLPs moved. */
    private static void writeRandom(Path file, Path base, long seed) throws IOException {
        SplittableRandom random = new SplittableRandom(seed);
        try (SafetensorsReader reader = base == null ? null : SafetensorsReader.open(base)) {
            List<SafetensorsWriter.Tensor> tensors = new ArrayList<>();
            for (Map.Entry<String, long[]> tensor : Gpt2TensorLayout.expected(GPT2_124M).entrySet()) {
                String name = tensor.getKey();
                tensors.add(new SafetensorsWriter.Tensor(name, tensor.getValue(), () -> {
                    if (reader == null) {
                        float[] values = new float[Math.toIntExact(count(tensor.getValue()))];
                        for (int i = 0; i < values.length; i++) {
                            values[i] = (float) ((random.nextDouble() - 0.5) * 0.07);
                        }
                        return values;
                    }
                    float[] values = reader.floats(name);
                    if (name.contains(".mlp.")) {
                        for (int i = 0; i < values.length; i++) {
                            values[i] += (float) ((random.nextDouble() - 0.5) * 0.002);
                        }
                    }
                    return values;
                }));
            }
            SafetensorsWriter.write(file, tensors, DType.F32);
        }
    }

    private static long count(long[] shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        return n;
    }

    @FunctionalInterface
    private interface Work {
        long bytesRead() throws Exception;
    }

    private static final com.sun.management.OperatingSystemMXBean CPU =
            (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();

    /** One timed phase: seconds, input bytes read, peak RSS and peak anonymous RSS during it. */
    private record Phase(double seconds, double cpuSeconds, long bytes, long peakRssKb, long peakAnonKb) {

        static Phase run(Work work) throws Exception {
            System.gc();
            resetPeak();
            long[] peakAnon = {status("RssAnon")};
            Thread sampler = new Thread(() -> {
                while (!Thread.currentThread().isInterrupted()) {
                    peakAnon[0] = Math.max(peakAnon[0], status("RssAnon"));
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            });
            sampler.setDaemon(true);
            sampler.start();
            long start = System.nanoTime();
            long cpuStart = CPU.getProcessCpuTime();
            long bytes = work.bytesRead();
            double seconds = (System.nanoTime() - start) / 1e9;
            double cpuSeconds = (CPU.getProcessCpuTime() - cpuStart) / 1e9;
            sampler.interrupt();
            sampler.join();
            return new Phase(seconds, cpuSeconds, bytes, status("VmHWM"), peakAnon[0]);
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%.2f s (CPU %.2f s), %.2f GB read, %.2f GB/s, peak RSS %.0f MB (anonymous %.0f MB)",
                    seconds, cpuSeconds, bytes / 1e9, bytes / 1e9 / seconds, peakRssKb / 1024.0, peakAnonKb / 1024.0);
        }

        /** Resets VmHWM to the current RSS (Linux clear_refs 5); ignored where not permitted. */
        private static void resetPeak() {
            try {
                Files.writeString(Path.of("/proc/self/clear_refs"), "5");
            } catch (IOException | RuntimeException e) {
                // VmHWM then covers the process's lifetime so far
            }
        }

        /** A kB field of /proc/self/status. */
        private static long status(String field) {
            try {
                for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                    if (line.startsWith(field + ":")) {
                        return Long.parseLong(line.substring(field.length() + 1).replace("kB", "").trim());
                    }
                }
            } catch (IOException e) {
                return -1;
            }
            return -1;
        }
    }

    private MergeBenchmark() {}
}
