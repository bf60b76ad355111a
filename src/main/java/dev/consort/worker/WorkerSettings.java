package dev.consort.worker;

import java.time.Duration;
import java.util.List;

import dev.consort.ConsortProperties;

/** How one worker pool behaves: its devices (one thread each) and its lease timings. */
public record WorkerSettings(List<String> devices, Duration lease, Duration heartbeat, Duration poll) {

    public static WorkerSettings from(ConsortProperties.Worker worker) {
        return new WorkerSettings(worker.devices(), worker.lease(), worker.heartbeat(), worker.poll());
    }

    /** {@code gpu:0} → {@code gpu}: jobs ask for a device class, workers drive devices. */
    public static String deviceClass(String device) {
        int colon = device.indexOf(':');
        return colon < 0 ? device : device.substring(0, colon);
    }
}
