package io.bpfcharge.agent;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;

class RechargeMetricsTest {
    private static final List<Path> ROOTS = List.of(Path.of("/run/runc"), Path.of("/run/crun"), Path.of("/run/containerd/runc"));

    private static long containerSeries(PrometheusMeterRegistry registry) {
        return registry.scrape().lines().filter(l -> l.startsWith("bpfcharge_containers{")).count();
    }

    /** The agent updates the counts at every reconcile while scrapes render: no scrape may miss a root's series. */
    @Test
    void everyScrapeShowsEveryRootWhileTheCountsChange() throws InterruptedException {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        RechargeMetrics metrics = new RechargeMetrics(registry, ROOTS, () -> { });
        assertEquals(ROOTS.size(), containerSeries(registry), "a series per root from the start");
        AtomicBoolean done = new AtomicBoolean();
        Thread agent = Thread.ofPlatform().start(() -> {
            for (int i = 0; !done.get(); i++) {
                List<Container> running = new ArrayList<>();
                for (int j = 0; j < i % 4; j++)
                    running.add(new Container(ROOTS.get(j % ROOTS.size()), Layout.RUNC, "c" + j, 100 + j, 1, "/b", Map.of()));
                metrics.containers(running);
            }
        });
        try {
            for (int scrape = 0; scrape < 3000; scrape++)
                assertEquals(ROOTS.size(), containerSeries(registry), "series in scrape " + scrape);
        } finally {
            done.set(true);
            agent.join();
        }
        metrics.containers(List.of(new Container(ROOTS.get(1), Layout.CRUN, "a", 1, 1, "/b", Map.of())));
        assertEquals(1, registry.get("bpfcharge.containers").tag("root", "/run/crun").gauge().value());
        assertEquals(0, registry.get("bpfcharge.containers").tag("root", "/run/runc").gauge().value());
    }
}
