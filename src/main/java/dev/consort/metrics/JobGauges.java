package dev.consort.metrics;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.stereotype.Component;

import dev.consort.ConsortProperties;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;

/**
 * Jobs by state and queue depth by device class, counted in PostgreSQL every {@value #REFRESH_SECONDS} s
 * and served from memory, so scrapes (however many) never query the database. The counts are global, so
 * only processes that serve the API publish them; worker pods would repeat the same numbers.
 */
@Component
public class JobGauges implements SmartInitializingSingleton, DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(JobGauges.class);
    static final long REFRESH_SECONDS = 15;
    private static final List<String> STATES = List.of("queued", "running", "cancelling", "succeeded", "failed",
            "cancelled");

    private final JdbcTemplate jdbc;
    private final TaskScheduler scheduler;
    private final boolean publish;
    private final Map<String, AtomicLong> byState = new ConcurrentHashMap<>();
    private final MultiGauge queueDepth;
    private ScheduledFuture<?> task;

    JobGauges(JdbcTemplate jdbc, TaskScheduler scheduler, MeterRegistry registry, ConsortProperties properties) {
        this.jdbc = jdbc;
        this.scheduler = scheduler;
        this.publish = properties.role().runsApi();
        this.queueDepth = MultiGauge.builder("consort.queue.depth")
                .description("Queued jobs by the device class they asked for (any, cpu, gpu)")
                .register(registry);
        if (publish) {
            for (String state : STATES) {
                AtomicLong count = byState.computeIfAbsent(state, s -> new AtomicLong());
                Gauge.builder("consort.jobs", count, AtomicLong::get)
                        .description("Jobs in each state")
                        .tag("state", state)
                        .register(registry);
            }
        }
    }

    @Override
    public void afterSingletonsInstantiated() {
        if (publish) {
            task = scheduler.scheduleWithFixedDelay(this::refresh, Duration.ofSeconds(REFRESH_SECONDS));
        }
    }

    /** Counts again now (the schedule calls it; tests may too). */
    public void refresh() {
        if (!publish) {
            return;
        }
        try {
            Map<String, Long> states = counts("select status, count(*) from job group by status");
            STATES.forEach(state -> byState.get(state).set(states.getOrDefault(state, 0L)));
            // Every class a job asked for, and the standard ones at 0 rather than missing.
            Map<String, Long> queued = new TreeMap<>(Map.of("any", 0L, "cpu", 0L, "gpu", 0L));
            queued.putAll(counts("select device_class, count(*) from job where status = 'queued' group by device_class"));
            queueDepth.register(queued.entrySet().stream()
                    .map(e -> MultiGauge.Row.of(Tags.of("device_class", e.getKey()), e.getValue()))
                    .collect(Collectors.toList()), true);
        } catch (RuntimeException e) {
            log.warn("Could not count jobs for metrics: {}", e.toString());
        }
    }

    private Map<String, Long> counts(String sql) {
        Map<String, Long> counts = new HashMap<>();
        jdbc.query(sql, rs -> {
            counts.put(rs.getString(1), rs.getLong(2));
        });
        return counts;
    }

    @Override
    public void destroy() {
        if (task != null) {
            task.cancel(false);
        }
    }
}
