package io.bpfcharge.metrics;

import io.bpfcharge.BpfchargeException;
import io.bpfcharge.host.HostFacts;
import io.bpfcharge.inventory.Inventory;
import io.bpfcharge.inventory.Snapshot;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.MetricSnapshot;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The daemon's metrics: one Inventory kept open (it holds the loaded iterator), scans shared by
 * concurrent scrapes (single flight, reused while younger than maxScanAge), and a custom collector
 * on Micrometer's Prometheus registry that exposes one immutable scan per scrape. Unlike
 * MultiGauge, nothing is registered or removed per map, so a scrape never sees half a scan and
 * series of vanished maps and cgroups are gone with the next scan. The rendered page is reused
 * for every scrape that shows the same scan and migration counts.
 */
public final class Exporter implements AutoCloseable {
    /** A scan and the families it yields, built once and shared by every scrape that shows it. */
    private record Scan(Snapshot snapshot, List<MetricSnapshot> families) {}

    private final Inventory inventory;
    private final SingleFlight<Scan> scans;
    private final MigrationCounts journal;
    private final MetricSnapshot buildInfo;
    private final List<MetricSnapshot> node;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Counter scanCount, scanErrors;
    private volatile boolean ready;
    /** Bumped when a meter outside the scan changes (the node agent's), so the cached page is rendered again. */
    private final java.util.concurrent.atomic.AtomicLong meters = new java.util.concurrent.atomic.AtomicLong();

    public Exporter(Inventory inventory, int maxMapSeries, Duration maxScanAge, Path journal, String version) {
        this.inventory = inventory;
        this.journal = new MigrationCounts(journal);
        HostFacts host = HostFacts.read(); // once: the labels of the node's series stay fixed
        this.buildInfo = ScanMetrics.of(new ScanMetrics.BuildInfo(version, host.kernel(), inventory.hierarchy().mode().toString()));
        this.node = ScanMetrics.of(host);
        this.scanCount = Counter.builder("bpfcharge.scans").description("Scans of every BPF map made by this daemon").register(registry);
        this.scanErrors = Counter.builder("bpfcharge.scan.errors").description("Scans that failed (the scrape got HTTP 500)").register(registry);
        this.scans = new SingleFlight<>(() -> scan(maxMapSeries), maxScanAge);
        registry.getPrometheusRegistry().register((MultiCollector) this::collect);
    }

    private Scan scan(int maxMapSeries) {
        try {
            Snapshot s = inventory.scan();
            Consumer<Snapshot> listener = afterScan;
            if (listener != null) listener.accept(s);
            scanCount.increment();
            ready = true;
            return new Scan(s, ScanMetrics.of(s, maxMapSeries));
        } catch (RuntimeException e) {
            scanErrors.increment();
            System.err.println("bpfcharge: serve: scan failed: " + describe(e));
            throw e;
        }
    }

    /** One log line: the message, and for a bug (no message of ours) the exception and where it was thrown. */
    private static String describe(RuntimeException e) {
        if (e instanceof BpfchargeException || e.getStackTrace().length == 0) return String.valueOf(e.getMessage());
        return e + " at " + e.getStackTrace()[0];
    }

    // What the registry's collector shows: set, under the render lock, right before each render.
    private Scan showing;
    private MigrationCounts.Totals showingTotals;
    /** The last page rendered per content type, with what it shows. */
    private record Rendered(Scan scan, MigrationCounts.Totals totals, long meters, Page page) {}
    private final Map<String, Rendered> rendered = new HashMap<>();

    private MetricSnapshots collect() {
        List<MetricSnapshot> all = new ArrayList<>(showing.families());
        all.addAll(ScanMetrics.of(showingTotals));
        all.add(buildInfo);
        all.addAll(node);
        return new MetricSnapshots(all);
    }

    /** A rendered scrape: body and its Content-Type. */
    public record Page(String contentType, byte[] body) {}

    static final String OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    static final String TEXT = "text/plain; version=0.0.4; charset=utf-8";

    /** Scrapes in the given format (chosen from the request's Accept header by {@link Negotiation}). */
    Page scrape(Negotiation.Format format) {
        String type = switch (format) {
            case OPENMETRICS -> OPENMETRICS;
            case TEXT -> TEXT;
        };
        Scan scan = scans.get();
        MigrationCounts.Totals totals = journal.read();
        long meterState = meters.get();
        // Scrapes that show the same scan and journal get the same bytes: rendering happens once per
        // scan and format, so many scrapers cost a copy each, and memory stays flat.
        synchronized (rendered) {
            Rendered r = rendered.get(type);
            if (r != null && r.scan == scan && r.totals.equals(totals) && r.meters == meterState) return r.page;
            showing = scan;
            showingTotals = totals;
            ByteArrayOutputStream out = new ByteArrayOutputStream(64 * 1024);
            try {
                registry.scrape(out, type);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Page page = new Page(type, out.toByteArray());
            rendered.put(type, new Rendered(scan, totals, meterState, page));
            return page;
        }
    }

    /** The registry /metrics renders: meters registered here (the node agent's) appear on every scrape. */
    public MeterRegistry registry() { return registry; }

    /** Tells the exporter a meter of {@link #registry()} changed: the next scrape renders afresh. */
    public void metersChanged() { meters.incrementAndGet(); }

    /** True once a scan has succeeded. */
    public boolean ready() { return ready; }

    /** Scans now (or joins the scan in flight): the daemon does it once at start so that the first scrape is warm. */
    public void warmUp() { scans.get(); }

    private volatile Consumer<Snapshot> afterScan;

    /**
     * Sees every successful scan before any scrape shows it (the pinned OOM map and oomd's marks are written
     * there); listeners run in the order added. Added before serving starts.
     */
    public void afterScan(Consumer<Snapshot> listener) {
        Consumer<Snapshot> before = afterScan;
        afterScan = before == null ? listener : before.andThen(listener);
    }


    @Override
    public void close() {
        registry.close();
        inventory.close();
    }
}
