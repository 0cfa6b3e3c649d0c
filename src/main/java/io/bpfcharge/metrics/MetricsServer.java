package io.bpfcharge.metrics;

import io.bpfcharge.BpfchargeException;
import io.bpfcharge.metrics.Http1Server.Response;
import io.micrometer.core.instrument.Counter;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The read-only HTTP(S) endpoints: /metrics, / (landing page), /-/healthy, /-/ready. Only GET and
 * HEAD are served. Concurrent scrapes share one scan and one rendered page (see {@link Exporter}).
 */
public final class MetricsServer implements AutoCloseable {
    /** Room for several Prometheus servers, probes and browsers; a flood beyond it is refused at accept. */
    public static final int DEFAULT_MAX_CONNECTIONS = 512;
    /** A quarter of the connections: three more clients as greedy still leave room for the rest. */
    public static final int DEFAULT_MAX_PER_SOURCE = 128;
    /** File descriptors the process needs besides its connections (jar, maps, iterators, cgroup files). */
    private static final int OTHER_FDS = 64;

    private final Http1Server server;
    private final LiveWebConfig web;

    private MetricsServer(Http1Server server, LiveWebConfig web) {
        this.server = server;
        this.web = web;
    }

    /**
     * Binds and starts serving; throws IOException when the address cannot be bound.
     * @param webConfig null for plain HTTP without basic auth; else read again when it changes (see {@link LiveWebConfig})
     */
    public static MetricsServer start(InetSocketAddress address, Exporter exporter, Path webConfig, int maxConnections,
                                      int maxPerSource) throws IOException {
        LiveWebConfig web = webConfig == null ? null : new LiveWebConfig(webConfig, exporter.registry(), exporter::metersChanged,
                line -> System.err.println("bpfcharge: serve: " + line));
        long fds = openFileLimit();
        if (maxConnections + OTHER_FDS > fds)
            throw new BpfchargeException(BpfchargeException.Exit.USAGE, "--max-connections " + maxConnections + " needs "
                    + (maxConnections + OTHER_FDS) + " open files but the limit is " + fds
                    + ": raise it (ulimit -n, LimitNOFILE= in the unit) or lower --max-connections");
        TlsSockets tls = web == null || web.current().tls() == null ? null : web;
        Function<String, BasicAuth.Verdict> auth = web == null ? header -> BasicAuth.Verdict.OK : web::authorize;
        return new MetricsServer(Http1Server.start(address, tls, maxConnections, maxPerSource, head -> handle(head, exporter, auth),
                dropCounter(exporter)), web);
    }

    /** bpfcharge_http_connections_dropped_total{reason}: every reason has a series from the start. */
    private static Consumer<Http1Server.Drop> dropCounter(Exporter exporter) {
        Map<Http1Server.Drop, Counter> counters = new EnumMap<>(Http1Server.Drop.class);
        for (Http1Server.Drop d : Http1Server.Drop.values())
            counters.put(d, Counter.builder("bpfcharge.http.connections.dropped").tag("reason", d.label())
                    .description("Connections the exporter closed without an answer: past --max-connections, or a deadline passed")
                    .register(exporter.registry()));
        return d -> {
            counters.get(d).increment();
            exporter.metersChanged();
        };
    }

    /**
     * From now on an Error that no thread catches ends the process (exit 1, one line), in the main
     * thread too: a daemon that lost a thread would otherwise live on and serve nothing.
     */
    public static void endProcessOnError() { Thread.setDefaultUncaughtExceptionHandler(Http1Server::fatal); }

    /** The bound address (the port, when 0 was asked). */
    public InetSocketAddress address() { return server.address(); }

    public boolean tls() { return server.tls(); }

    /** Reads the web config again, changed or not (on SIGHUP); false when serve has none. */
    public boolean reloadWebConfig() {
        if (web == null) return false;
        web.reload();
        return true;
    }

    private static Response handle(RequestHead x, Exporter exporter, Function<String, BasicAuth.Verdict> auth) {
        if (!x.method().equals("GET") && !x.method().equals("HEAD"))
            return Response.text(405, "read-only: only GET and HEAD are served\n", "Allow: GET, HEAD");
        String path = x.path();
        if (path == null) return Response.text(400, "bad request target: ask for a path such as /metrics\n");
        switch (auth.apply(x.header("authorization"))) {
            case DENIED -> {
                return Response.text(401, "Unauthorized\n", "WWW-Authenticate: Basic realm=\"bpfcharge\"");
            }
            case BUSY -> {
                return Response.text(503, "too many password checks at once: retry\n", "Retry-After: 1");
            }
            case OK -> { }
        }
        return switch (path) {
            case "/metrics" -> metrics(exporter, x.header("accept"));
            case "/" -> new Response(200, "text/html; charset=utf-8", LANDING, List.of());
            case "/-/healthy" -> Response.text(200, "Healthy\n");
            case "/-/ready" -> exporter.ready() ? Response.text(200, "Ready\n")
                    : Response.text(503, "Not ready: no scan has succeeded yet\n");
            default -> Response.text(404, "Not found: see / for the endpoints\n");
        };
    }

    private static Response metrics(Exporter exporter, String accept) {
        Exporter.Page page;
        try {
            page = exporter.scrape(accept);
        } catch (RuntimeException e) {
            return Response.text(500, "scan failed: " + e.getMessage() + "\n");
        }
        return new Response(200, page.contentType(), page.body(), List.of());
    }

    /** The soft RLIMIT_NOFILE (the JVM raises it to the hard limit at start). */
    private static long openFileLimit() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/limits")))
            if (line.startsWith("Max open files")) {
                String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
                return soft.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(soft);
            }
        return Long.MAX_VALUE;
    }

    private static final byte[] LANDING = """
            <!DOCTYPE html>
            <html><head><title>bpfcharge exporter</title></head>
            <body><h1>bpfcharge exporter</h1>
            <p>BPF map memory per map and per memory cgroup, and stranded charges.</p>
            <ul><li><a href="metrics">/metrics</a></li><li><a href="-/healthy">/-/healthy</a></li>
            <li><a href="-/ready">/-/ready</a></li></ul></body></html>
            """.getBytes(StandardCharsets.UTF_8);

    @Override
    public void close() { server.close(); }
}
