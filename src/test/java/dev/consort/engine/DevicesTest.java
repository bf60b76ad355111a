package dev.consort.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import ai.djl.Device;

class DevicesTest {

    @Test
    void parsesWorkerDeviceNames() {
        assertThat(Devices.parse("cpu")).isEqualTo(Device.cpu());
        assertThat(Devices.parse("gpu:0")).isEqualTo(Device.gpu(0));
        assertThat(Devices.parse("gpu:3")).isEqualTo(Device.gpu(3));
        assertThat(Devices.parse("gpu")).isEqualTo(Device.gpu(0));
        assertThat(Devices.name(Device.gpu(2))).isEqualTo("gpu:2");
        assertThat(Devices.name(Device.cpu())).isEqualTo("cpu");
        for (String bad : new String[] {"CPU", "gpu:", "gpu:-1", "gpu:01", "tpu:0", ""}) {
            assertThatThrownBy(() -> Devices.parse(bad)).as(bad).hasMessageContaining("expected cpu or gpu:N");
        }
    }

    @Test
    void reportsWhatTheEngineSees() {
        assertThat(Devices.gpuCount()).isGreaterThanOrEqualTo(0);
        assertThat(Devices.available(Device.cpu())).isTrue();
        assertThat(Devices.available(Device.gpu(Devices.gpuCount()))).isFalse();
    }
}
