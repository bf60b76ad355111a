package dev.consort.engine;

import ai.djl.Device;
import ai.djl.engine.Engine;

/**
 * Devices by the names workers use: {@code cpu}, {@code gpu:0}, {@code gpu:1}, ... ({@code gpu} alone
 * means {@code gpu:0}).
 */
public final class Devices {

    private Devices() {}

    /** The DJL device a name denotes; throws IllegalArgumentException for any other name. */
    public static Device parse(String name) {
        if (name.equals("cpu")) {
            return Device.cpu();
        }
        if (name.equals("gpu")) {
            return Device.gpu(0);
        }
        if (name.matches("gpu:(0|[1-9][0-9]{0,3})")) {
            return Device.gpu(Integer.parseInt(name.substring(4)));
        }
        throw new IllegalArgumentException("unknown device \"" + name + "\": expected cpu or gpu:N");
    }

    /** The name {@link #parse} reads back: {@code cpu} or {@code gpu:N}. */
    public static String name(Device device) {
        return device.isGpu() ? "gpu:" + device.getDeviceId() : "cpu";
    }

    /** GPUs the PyTorch engine sees (0 with the CPU-only natives). */
    public static int gpuCount() {
        return Engine.getInstance().getGpuCount();
    }

    /** Whether the device can be used here: the CPU always, gpu:N when the engine sees more than N GPUs. */
    public static boolean available(Device device) {
        return !device.isGpu() || device.getDeviceId() < gpuCount();
    }
}
