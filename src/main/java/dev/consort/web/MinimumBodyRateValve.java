package dev.consort.web;

import java.io.IOException;
import java.util.function.LongSupplier;

import jakarta.servlet.ServletException;

import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ValveBase;
import org.apache.coyote.ActionCode;
import org.apache.coyote.InputBuffer;
import org.apache.tomcat.util.net.ApplicationBufferHandler;

/**
 * Cuts off a request whose body arrives slower than {@code consort.limits.request-body-min-rate}, averaged from its
 * first byte read, once {@code request-body-rate-grace} has passed (the rule Kestrel calls its minimum request body
 * data rate). A client trickling an upload otherwise holds a request thread, an upload permit and disk space for as
 * long as it likes, and a few such clients block every other tenant's uploads.
 *
 * <p>It sits in front of the container's own body reader, because the container parses multipart bodies itself,
 * out of reach of servlet filters. A blocked read is still bounded by the connector's read timeout; the rate is
 * checked each time a read returns, and the connection of a body cut off is closed without reading the rest. The failed read surfaces as {@link BodyTooSlowException}, which the problem
 * handlers answer with 408 {@code request-timeout}.
 */
final class MinimumBodyRateValve extends ValveBase {

    /** Raised by a read once the body's average rate fell below the minimum. */
    static final class BodyTooSlowException extends IOException {
        BodyTooSlowException(long bytes, long elapsedNanos, long minBytesPerSecond) {
            super("The request body arrived at " + bytes * 1_000_000_000L / Math.max(1, elapsedNanos)
                    + " bytes/s (" + bytes + " bytes in " + elapsedNanos / 1_000_000 + " ms), below the minimum of "
                    + minBytesPerSecond + " bytes/s (consort.limits.request-body-min-rate); send it faster");
        }
    }

    private final long minBytesPerSecond;
    private final long graceNanos;
    private final LongSupplier nanoClock;

    MinimumBodyRateValve(long minBytesPerSecond, long graceNanos, LongSupplier nanoClock) {
        super(true);
        this.minBytesPerSecond = minBytesPerSecond;
        this.graceNanos = graceNanos;
        this.nanoClock = nanoClock;
    }

    @Override
    public void invoke(Request request, Response response) throws IOException, ServletException {
        org.apache.coyote.Request coyote = request.getCoyoteRequest();
        InputBuffer body = coyote.getInputBuffer();
        // The connector reuses its request object, so the reader is put back however this request ends.
        RateCheckedBody checked = new RateCheckedBody(body);
        coyote.setInputBuffer(checked);
        try {
            getNext().invoke(request, response);
        } finally {
            coyote.setInputBuffer(body);
            if (checked.cutOff) {
                // Otherwise the container reads (swallows) the rest of the trickle before closing, holding its thread.
                coyote.action(ActionCode.DISABLE_SWALLOW_INPUT, null);
            }
        }
    }

    /** The container's body reader, counting what it returns and failing once the average rate is too low. */
    private final class RateCheckedBody implements InputBuffer {
        private final InputBuffer body;
        private long started = -1;
        private long bytes;
        private boolean cutOff;

        RateCheckedBody(InputBuffer body) {
            this.body = body;
        }

        @Override
        public int doRead(ApplicationBufferHandler handler) throws IOException {
            if (started < 0) {
                started = nanoClock.getAsLong();
            }
            int n = body.doRead(handler);
            if (n > 0) {
                bytes += n;
            }
            long elapsed = nanoClock.getAsLong() - started;
            if (n >= 0 && elapsed > graceNanos && bytes < minBytesPerSecond * (elapsed / 1e9)) {
                cutOff = true;
                throw new BodyTooSlowException(bytes, elapsed, minBytesPerSecond);
            }
            return n;
        }

        @Override
        public int available() {
            return body.available();
        }
    }
}
