package dev.consort.generation;

import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;

import org.springframework.http.MediaType;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/**
 * One streamed completion: the tokens generate on one thread and are written to the client by another, through a
 * queue. Generation never waits for the client, so a client that stops reading holds neither a generation permit
 * nor its loaded model: the request generates to its end (or stops early, below) and gives both back, while only
 * the writer stays blocked on the connection until the connection's own timeout ends its write.
 *
 * <p>The queue is unbounded but its length is not: a request has at most prompts × n × max_tokens token events, a
 * choice event each, and the usage. A write blocked for longer than {@code writeTimeout}
 * ({@code consort.limits.event-stream-write-timeout}) counts as a client that stopped reading: generation stops
 * at its next token, as it does for a client that went away.
 */
final class CompletionEventStream implements CompletionService.ChoiceListener {

    /** What the writer does next: send an event, or end the stream (with {@code failure}, or cleanly). */
    private record Item(SseEmitter.SseEventBuilder event, boolean end, Throwable failure) {}

    private final SseEmitter emitter;
    private final long writeTimeoutNanos;
    private final BlockingQueue<Item> queue = new LinkedBlockingQueue<>();
    private volatile boolean gone;
    /** When the write in progress began; 0 while the writer waits for the next item. */
    private volatile long writingSince;

    CompletionEventStream(SseEmitter emitter, Duration writeTimeout) {
        this.emitter = emitter;
        this.writeTimeoutNanos = writeTimeout.toNanos();
    }

    /** Starts the writer on {@code writers}; throws {@link java.util.concurrent.RejectedExecutionException} if none is free. */
    void startWriter(Executor writers) {
        writers.execute(this::write);
    }

    /** On the generating thread: the whole request, then its usage and the end of the stream. */
    void generate(CompletionService completions, CompletionService.Admitted admitted) {
        try (admitted) {
            CompletionResponse response = completions.generate(admitted, this);
            send("done", response.usage());
            end(null);
        } catch (RuntimeException | Error e) {
            end(e);
            throw e;
        }
    }

    /** Ends the stream after what is queued: cleanly, or with {@code failure}. */
    void end(Throwable failure) {
        queue.add(new Item(null, true, failure));
    }

    @Override
    public void text(int index, String text, Integer tokenId) {
        Map<String, Object> event = new LinkedHashMap<>();
        event.put("index", index);
        event.put("text", text);
        event.put("token_id", tokenId);
        send("token", event);
    }

    @Override
    public void choice(CompletionResponse.Choice choice) {
        send("choice", choice);
    }

    /** False once a write failed (the client left) or one write has been blocked past the write timeout. */
    @Override
    public boolean listening() {
        long since = writingSince;
        return !gone && (since == 0 || System.nanoTime() - since <= writeTimeoutNanos);
    }

    private void send(String name, Object data) {
        if (!gone) {
            queue.add(new Item(SseEmitter.event().name(name).data(data, MediaType.APPLICATION_JSON), false, null));
        }
    }

    /** On the writer thread: sends each item in order until the end, or until a write fails. */
    private void write() {
        try {
            while (true) {
                Item item = queue.take();
                if (item.end()) {
                    if (item.failure() == null) {
                        emitter.complete();
                    } else {
                        emitter.completeWithError(item.failure());
                    }
                    return;
                }
                writingSince = System.nanoTime();
                try {
                    emitter.send(item.event());
                } finally {
                    writingSince = 0;
                }
            }
        } catch (IOException | IllegalStateException clientGone) {
            gone = true;
            queue.clear();
            emitter.completeWithError(clientGone);
        } catch (InterruptedException shutdown) {
            gone = true;
            Thread.currentThread().interrupt();
        }
    }
}
