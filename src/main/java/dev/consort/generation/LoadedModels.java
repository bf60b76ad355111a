package dev.consort.generation;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

import org.springframework.stereotype.Component;

import dev.consort.engine.Gpt2Model;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * Models kept loaded between completion requests, so repeated calls do not read their weights again: at most
 * {@code consort.generation.model-cache} bytes of parameters, the least recently used closed first. A model is
 * leased for the length of a request and never closed under it: one evicted while leased closes when its last
 * lease ends, and one larger than the whole cache is used and then closed.
 */
@Component
class LoadedModels {

    /** Loads a model that is not loaded yet. */
    @FunctionalInterface
    interface Loader {
        Gpt2Model load() throws Exception;
    }

    /** A model lent to one request; closing it gives it back. */
    final class Lease implements AutoCloseable {
        private final Entry entry;
        private boolean closed;

        private Lease(Entry entry) {
            this.entry = entry;
        }

        Gpt2Model model() {
            return entry.model;
        }

        @Override
        public void close() {
            if (!closed) {
                closed = true;
                release(entry);
            }
        }
    }

    private static final class Entry {
        final Gpt2Model model;
        final long bytes;
        int leases;
        boolean evicted;

        Entry(Gpt2Model model) {
            this.model = model;
            this.bytes = model.parameterCount() * Float.BYTES;
        }
    }

    private final long capacity;
    private final Map<Object, Entry> entries = new LinkedHashMap<>(16, 0.75f, true);
    private long bytes;
    private final Counter hits;
    private final Counter misses;

    LoadedModels(GenerationProperties properties, MeterRegistry meters) {
        this.capacity = properties.modelCache().toBytes();
        this.hits = Counter.builder("consort.generation.model.cache").tag("result", "hit")
                .description("Completion requests whose model was already loaded").register(meters);
        this.misses = Counter.builder("consort.generation.model.cache").tag("result", "miss")
                .description("Completion requests that loaded their model's weights").register(meters);
        Gauge.builder("consort.generation.model.cache.bytes", this, LoadedModels::bytes)
                .description("Bytes of parameters of the models kept loaded for generation").register(meters);
    }

    synchronized long bytes() {
        return bytes;
    }

    /**
     * Lends the model under {@code key} (a checkpoint's id: its weights never change), loading it first if need
     * be. Loading runs outside the lock; of two requests loading the same model at once, the second one's copy is
     * closed and the first one's used.
     */
    Lease lease(Object key, Loader loader) throws Exception {
        synchronized (this) {
            Entry cached = entries.get(key);
            if (cached != null) {
                hits.increment();
                cached.leases++;
                return new Lease(cached);
            }
        }
        misses.increment();
        Gpt2Model loaded = loader.load();
        synchronized (this) {
            Entry cached = entries.get(key);
            if (cached != null) {
                loaded.close();
                cached.leases++;
                return new Lease(cached);
            }
            Entry entry = new Entry(loaded);
            entry.leases = 1;
            entries.put(key, entry);
            bytes += entry.bytes;
            evictOverCapacity();
            return new Lease(entry);
        }
    }

    private synchronized void release(Entry entry) {
        entry.leases--;
        if (entry.evicted && entry.leases == 0) {
            entry.model.close();
        }
        evictOverCapacity();
    }

    /** Closes least recently used models until the cache fits; leased ones leave the cache and close later. */
    private void evictOverCapacity() {
        Iterator<Entry> oldestFirst = entries.values().iterator();
        while (bytes > capacity && oldestFirst.hasNext()) {
            Entry entry = oldestFirst.next();
            if (entry.leases > 0 && entry.bytes <= capacity) {
                continue;
            }
            oldestFirst.remove();
            bytes -= entry.bytes;
            entry.evicted = true;
            if (entry.leases == 0) {
                entry.model.close();
            }
        }
    }
}
