package dev.consort.tenant;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.SocketException;
import java.util.Collections;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import dev.consort.support.ApiTest;

/**
 * With no admin key and no API key in the database (the default test context) the service asks for no
 * key, acts as tenant {@code default}, and listens on loopback only.
 */
class OpenAccessTest extends ApiTest {

    @Test
    void requestsNeedNoKeyAndActAsTheDefaultTenant() {
        assertThat(get("/checkpoints").statusCode()).isEqualTo(200);
        assertThat(jdbc.queryForObject("select count(*) from api_key", Integer.class)).isZero();
        assertThat(jdbc.queryForList("select distinct tenant from checkpoint", String.class))
                .allSatisfy(tenant -> assertThat(tenant).isEqualTo(CurrentTenant.DEFAULT));
    }

    @Test
    void keysCannotBeManagedWithoutAnAdminKey() {
        var response = postJson("/admin/keys", "{\"tenant\": \"team-a\", \"name\": \"alice\"}");
        assertThat(response.statusCode()).isEqualTo(403);
        assertThat(json(response).path("type").asText()).isEqualTo("https://consort.dev/problems/forbidden");
        assertThat(get("/admin/keys").statusCode()).isEqualTo(403);
        assertThat(jdbc.queryForObject("select count(*) from api_key", Integer.class)).isZero();
    }

    @Test
    void itListensOnLoopbackOnly() throws IOException {
        Optional<InetAddress> external = externalAddress();
        assumeThat(external).as("a non-loopback IPv4 address to try").isPresent();
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(external.get(), port), 2000);
            throw new AssertionError("port " + port + " answered on " + external.get());
        } catch (IOException expected) {
            assertThat(expected).isNotNull();
        }
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 2000);
            assertThat(socket.isConnected()).isTrue();
        }
    }

    private static Optional<InetAddress> externalAddress() throws SocketException {
        for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (!nic.isUp() || nic.isLoopback()) {
                continue;
            }
            for (InetAddress address : Collections.list(nic.getInetAddresses())) {
                if (address instanceof Inet4Address && !address.isLoopbackAddress()) {
                    return Optional.of(address);
                }
            }
        }
        return Optional.empty();
    }
}
