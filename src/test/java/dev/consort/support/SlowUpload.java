package dev.consort.support;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * An upload over a plain socket that sends its headers and the first third of its body, then waits, as a slow
 * client would: {@link #finish()} sends the rest and returns the status code.
 */
public final class SlowUpload implements AutoCloseable {

    private final Socket socket;
    private final byte[] body;
    private final int head;

    /** @param apiKey sent as a bearer token, or null for none */
    public SlowUpload(int port, String path, Multipart form, String apiKey) throws IOException {
        this.body = form.toBytes();
        this.head = body.length / 3;
        this.socket = new Socket("localhost", port);
        socket.setSoTimeout(120_000);
        OutputStream out = socket.getOutputStream();
        out.write(("POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: " + form.contentType()
                + "\r\nContent-Length: " + body.length + "\r\n"
                + (apiKey == null ? "" : "Authorization: Bearer " + apiKey + "\r\n")
                + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(body, 0, head);
        out.flush();
    }

    public int finish() throws IOException {
        OutputStream out = socket.getOutputStream();
        out.write(body, head, body.length - head);
        out.flush();
        String status = new BufferedReader(new InputStreamReader(socket.getInputStream(),
                StandardCharsets.US_ASCII)).readLine();
        return Integer.parseInt(status.split(" ")[1]);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
