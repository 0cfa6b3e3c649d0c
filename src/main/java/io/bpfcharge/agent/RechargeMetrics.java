package io.bpfcharge.agent;

import io.bpfcharge.migrate.Result;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;

import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The agent's meters on the daemon's registry: bpfcharge_recharges_total{result}, bpfcharge_recharge_seconds
 * (container first seen -> its claimed maps charged to it), bpfcharge_containers{root} and
 * bpfcharge_recharge_reconciles_total (passes run: a stalled agent shows as a flat line). Every result and
 * root has a series from the start, so rates and dashboards need no "absent" cases.
 */
public final class RechargeMetrics {
    /** The results of a claimed map the agent counts: a rule that matched no pin names no map. */
    static final Set<Result> COUNTED = EnumSet.of(Result.MIGRATED, Result.UNCHANGED, Result.REFUSED, Result.FAILED,
            Result.CONFLICT, Result.DRY_RUN);
    private final Map<Result, Counter> results = new EnumMap<>(Result.class);
    private final Timer latency;
    private final Counter reconciles;
    /** Running containers per root, read by gauges registered once: re-registering rows at every reconcile
     *  took a series away from the scrapes that ran meanwhile. */
    private final Map<Path, AtomicLong> containers = new HashMap<>();
    private final Runnable changed;

    /**
     * @param roots the runtime state roots the agent reads, fixed for its lifetime
     * @param changed called after every update (the exporter re-renders its cached page)
     */
    public RechargeMetrics(MeterRegistry registry, List<Path> roots, Runnable changed) {
        for (Result r : COUNTED)
            results.put(r, Counter.builder("bpfcharge.recharges").tag("result", r.jsonName())
                    .description("Claimed maps the node agent handled, once per container start and map, by result")
                    .register(registry));
        latency = Timer.builder("bpfcharge.recharge")
                .description("From a container first seen by the agent to every map it claims charged to its memcg")
                .serviceLevelObjectives(Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
                        Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10),
                        Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofSeconds(300))
                .register(registry);
        reconciles = Counter.builder("bpfcharge.recharge.reconciles")
                .description("Reconcile passes the node agent ran: one per state-root change and interval")
                .register(registry);
        for (Path root : roots) {
            AtomicLong n = containers.computeIfAbsent(root, r -> new AtomicLong());
            Gauge.builder("bpfcharge.containers", n, AtomicLong::get).tag("root", root.toString())
                    .description("Running containers the agent found, by runtime state root").register(registry);
        }
        this.changed = changed;
    }

    void count(Result r) {
        if (!COUNTED.contains(r)) return;
        results.get(r).increment();
        changed.run();
    }

    void recharged(Duration sinceFirstSeen) {
        latency.record(sinceFirstSeen);
        changed.run();
    }

    void reconciled() {
        reconciles.increment();
        changed.run();
    }

    void containers(List<Container> running) {
        boolean any = false;
        for (Map.Entry<Path, AtomicLong> e : containers.entrySet()) {
            long n = running.stream().filter(c -> c.root().equals(e.getKey())).count();
            any |= e.getValue().getAndSet(n) != n;
        }
        if (any) changed.run();
    }
}
