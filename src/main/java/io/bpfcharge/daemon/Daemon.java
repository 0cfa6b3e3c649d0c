package io.bpfcharge.daemon;

import io.bpfcharge.BpfchargeException;
import io.bpfcharge.BpfchargeException.Exit;
import io.bpfcharge.agent.Agent;
import io.bpfcharge.agent.RechargeMetrics;
import io.bpfcharge.bpf.BpfException;
import io.bpfcharge.bpf.OomMap;
import io.bpfcharge.cgroup.MemoryHierarchy;
import io.bpfcharge.inventory.Inventory;
import io.bpfcharge.metrics.Exporter;
import io.bpfcharge.metrics.MetricsServer;
import io.bpfcharge.migrate.Migrator;
import io.bpfcharge.migrate.RunDir;
import io.bpfcharge.oom.OomMapPublisher;
import io.bpfcharge.oom.OomdMarks;
import io.bpfcharge.provenance.OriginStore;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * {@code bpfcharge serve}: the exporter and its HTTP server, and, as configured, the pinned OOM map and oomd's
 * kill preference marks with their timer, and the node agent. It owns every part it started and closes them in the reverse order, on every path: a start
 * that fails halfway, and the shutdown (the agent first, so that a migration in progress finishes, then the
 * timer, the server, the oomd marks (removed), the OOM map and the exporter with its inventory).
 */
public final class Daemon implements AutoCloseable {
    /**
     * What {@code serve}'s options say, checked by the command.
     * @param oomPin the --oom-map pin; null without it
     * @param oomInterval the longest time between scans when there is an OOM map or oomd marks to keep fresh
     * @param oomdAvoid the --oomd-avoid cgroup (checked to exist); null without it
     * @param agent the node agent's options; null without --recharge
     */
    public record Config(InetSocketAddress address, int maxMapSeries, Duration maxScanAge, Path webConfig,
                         int maxConnections, int maxPerSource, Path oomPin, Duration oomInterval, String oomdAvoid,
                         Agent.Options agent, RunDir run, Path origins, String version) {}

    private final Deque<AutoCloseable> owned = new ArrayDeque<>();
    private MetricsServer server;
    private Agent agent;

    private Daemon() {}

    /**
     * Starts every configured part, the first scan done before the port is open; nothing is left running when it
     * throws. Agent log lines go to {@code out}, the OOM map's to {@code err}.
     */
    public static Daemon start(Config c, PrintStream out, PrintStream err) throws IOException {
        Daemon d = new Daemon();
        try {
            d.build(c, out, err);
            return d;
        } catch (RuntimeException | IOException | Error e) {
            d.close();
            throw e;
        }
    }

    private void build(Config c, PrintStream out, PrintStream err) throws IOException {
        MemoryHierarchy hierarchy = MemoryHierarchy.detect();
        Inventory inventory = new Inventory(hierarchy);
        Exporter exporter;
        try {
            inventory.processFacts(false); // no metric names a holder's user or command line
            inventory.origins(OriginStore.reader(c.origins()));
            exporter = new Exporter(inventory, c.maxMapSeries(), c.maxScanAge(), c.run().history(), c.version());
        } catch (RuntimeException e) {
            inventory.close();
            throw e;
        }
        own(exporter); // and the inventory, which it closes
        if (c.oomPin() != null) exporter.afterScan(own(new OomMapPublisher(openOomMap(c.oomPin()), err)));
        if (c.oomdAvoid() != null) exporter.afterScan(own(new OomdMarks(hierarchy, c.oomdAvoid(), err)));
        try {
            exporter.warmUp();
        } catch (OutOfMemoryError e) { // before serving, the scan's garbage is all there is: it can be told
            throw new BpfchargeException(Exit.ENVIRONMENT, "the first scan ran out of Java heap (max "
                    + Runtime.getRuntime().maxMemory() / (1 << 20) + " MB): raise -Xmx in serve-jvm.args (the heap a scan needs grows with the maps on the node)");
        }
        server = own(MetricsServer.start(c.address(), exporter, c.webConfig(), c.maxConnections(), c.maxPerSource()));
        if (c.oomPin() != null || c.oomdAvoid() != null) {
            // Scrapes scan on demand; a BPF OOM policy needs the map fresh without them, oomd its marks.
            ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("oom-map").factory());
            own(timer::shutdownNow);
            long every = c.oomInterval().toNanos();
            timer.scheduleWithFixedDelay(() -> {
                try {
                    exporter.warmUp();
                } catch (RuntimeException e) {
                    // counted as a scan error; the next scrape or interval tries again
                }
            }, every, every, TimeUnit.NANOSECONDS);
        }
        if (c.agent() != null) {
            // The migration service shares the exporter's inventory: one loaded iterator object, warm scans.
            Migrator migrator = new Migrator(inventory, Migrator.Progress.NONE, c.run());
            agent = own(new Agent(c.agent(), inventory, new RechargeMetrics(exporter.registry(), c.agent().roots().roots(),
                    exporter::metersChanged), migrator, out));
        }
    }

    private <T extends AutoCloseable> T own(T part) {
        owned.push(part);
        return part;
    }

    private static OomMap openOomMap(Path pin) {
        try {
            return OomMap.openOrCreate(pin);
        } catch (BpfException e) {
            if (!e.exists()) throw e;
            throw new BpfchargeException(Exit.REFUSED, "--oom-map " + pin + " holds something else: remove it or pick another path");
        }
    }

    public String metricsUrl() { return server.metricsUrl(); }

    /** SIGHUP: false when there is no web config to reload. */
    public boolean reloadWebConfig() { return server.reloadWebConfig(); }

    /** The agent's first reconcile, after the caller has said where it serves (supervisors and tests wait for that line). */
    public void startAgent() {
        if (agent != null) agent.start();
    }

    @Override
    public void close() {
        while (!owned.isEmpty()) {
            try {
                owned.pop().close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt(); // closing the rest anyway
            } catch (Exception e) {
                // closing the rest anyway: an interrupted migration is recovered from its journal
            }
        }
    }
}
