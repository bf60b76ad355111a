package dev.consort.support;

import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * An upload over a plain socket whose body trickles in: {@code chunk} bytes every {@code pauseMillis} ms from a
 * thread of its own, until the body is sent or the server closes the connection. {@link #response()} waits for the
 * server's answer.
 */
public final class TrickleUpload implements AutoCloseable {

    private final Socket socket;
    private final Thread sender;
    private String response;
    private volatile int sent;

    public TrickleUpload(int port, String path, Multipart form, int chunk, long pauseMillis) throws IOException {
        byte[] body = form.toBytes();
        this.socket = new Socket("localhost", port);
        socket.setSoTimeout(60_000);
        OutputStream out = socket.getOutputStream();
        out.write(("POST " + path + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: " + form.contentType()
                + "\r\nContent-Length: " + body.length + "\r\nConnection: close\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
        out.flush();
        this.sender = new Thread(() -> {
            try {
                while (sent < body.length) {
                    int n = Math.min(chunk, body.length - sent);
                    out.write(body, sent, n);
                    out.flush();
                    sent += n;
                    Thread.sleep(pauseMillis);
                }
            } catch (IOException | InterruptedException closed) {
                // The server gave up on the body, or the test closed the socket.
            }
        }, "trickle-upload");
        sender.setDaemon(true);
        sender.start();
    }

    /** Bytes of the body sent so far. */
    public int sent() {
        return sent;
    }

    /** The server's whole answer (status line, headers, body), read until it closes the connection. */
    public String response() throws IOException {
        if (response == null) {
            response = new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
        return response;
    }

    /** The status code the server answers with; fails when it has not answered within a minute. */
    public int status() throws IOException {
        String answer = response();
        if (answer.isEmpty()) {
            throw new IOException("the server closed the connection without an answer");
        }
        return Integer.parseInt(answer.substring(0, answer.indexOf("\r\n")).split(" ")[1]);
    }

    @Override
    public void close() throws IOException {
        sender.interrupt();
        socket.close();
    }
}
