package io.bpfcharge.agent;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;

import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The agent's meters on the daemon's registry: bpfcharge_recharges_total{result}, bpfcharge_recharge_seconds
 * (container first seen -> its claimed maps charged to it) and bpfcharge_containers{root}. Every result and
 * root has a series from the start, so rates and dashboards need no "absent" cases.
 */
public final class RechargeMetrics {
    private final Map<Result, Counter> results = new EnumMap<>(Result.class);
    private final Timer latency;
    private final MultiGauge containers;
    private final Runnable changed;

    /** @param changed called after every update (the exporter re-renders its cached page) */
    public RechargeMetrics(MeterRegistry registry, Runnable changed) {
        for (Result r : Result.values())
            results.put(r, Counter.builder("bpfcharge.recharges").tag("result", r.label())
                    .description("Claimed maps the node agent handled, once per container start and map, by result")
                    .register(registry));
        latency = Timer.builder("bpfcharge.recharge")
                .description("From a container first seen by the agent to every map it claims charged to its memcg")
                .serviceLevelObjectives(Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
                        Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10),
                        Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofSeconds(300))
                .register(registry);
        containers = MultiGauge.builder("bpfcharge.containers")
                .description("Running containers the agent found, by runtime state root").register(registry);
        this.changed = changed;
    }

    void count(Result r) {
        results.get(r).increment();
        changed.run();
    }

    void recharged(Duration sinceFirstSeen) {
        latency.record(sinceFirstSeen);
        changed.run();
    }

    void containers(List<Path> roots, List<Container> running) {
        containers.register(roots.stream().map(root -> MultiGauge.Row.of(Tags.of("root", root.toString()),
                running.stream().filter(c -> c.root().equals(root)).count())).toList(), true);
        changed.run();
    }
}
