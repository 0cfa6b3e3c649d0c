package io.bpfcharge.metrics;

import io.bpfcharge.BpfchargeException;
import io.micrometer.core.instrument.Counter;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
                counters(exporter)), web);
    }

    /**
     * bpfcharge_http_connections_dropped_total{reason} and bpfcharge_http_errors_total{reason}: every
     * reason has a series from the start.
     */
    private static Http1Server.Events counters(Exporter exporter) {
        Map<Http1Server.Drop, Counter> drops = new EnumMap<>(Http1Server.Drop.class);
        for (Http1Server.Drop d : Http1Server.Drop.values())
            drops.put(d, Counter.builder("bpfcharge.http.connections.dropped").tag("reason", d.label())
                    .description("Connections the exporter closed without an answer: past --max-connections, or a deadline passed")
                    .register(exporter.registry()));
        Map<Http1Server.Failure, Counter> failures = new EnumMap<>(Http1Server.Failure.class);
        for (Http1Server.Failure f : Http1Server.Failure.values())
            failures.put(f, Counter.builder("bpfcharge.http.errors").tag("reason", f.label())
                    .description("Requests the exporter answered with an error of the server's own: malformed (400, 431, 505) or a bug (500)")
                    .register(exporter.registry()));
        return new Http1Server.Events() {
            @Override
            public void dropped(Http1Server.Drop why) {
                drops.get(why).increment();
                exporter.metersChanged();
            }

            @Override
            public void failed(Http1Server.Failure why) {
                failures.get(why).increment();
                exporter.metersChanged();
            }
        };
    }

    /**
     * From now on an Error that no thread catches ends the process (exit 1, one line), in the main
     * thread too: a daemon that lost a thread would otherwise live on and serve nothing.
     */
    public static void endProcessOnError() { Thread.setDefaultUncaughtExceptionHandler(Http1Server::fatal); }

    /** Where /metrics is served, as a URL a browser or curl takes: an IPv6 address in brackets, in its short form (RFC 5952). */
    public String metricsUrl() {
        InetSocketAddress a = server.address();
        String host = a.getAddress().getHostAddress();
        if (a.getAddress() instanceof Inet6Address) host = "[" + shortIpv6(host.replaceFirst("%.*", "")) + "]";
        return (server.tls() ? "https" : "http") + "://" + host + ":" + a.getPort() + "/metrics";
    }

    private static final Pattern ZERO_RUNS = Pattern.compile("(?:^|:)0(?::0)+(?::|$)");

    /** "0:0:0:0:0:0:0:1" as "::1": leading zeros already gone, the longest run of two or more zero groups (the first of equals) becomes "::". */
    static String shortIpv6(String full) {
        Matcher m = ZERO_RUNS.matcher(full);
        int start = -1, end = -1, longest = 0;
        while (m.find()) {
            int zeros = m.group().replace(":", "").length(); // groups, whether the run takes a colon at either end
            if (zeros > longest) {
                longest = zeros;
                start = m.start();
                end = m.end();
            }
        }
        return start < 0 ? full : full.substring(0, start) + "::" + full.substring(end);
    }

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
            case "/" -> new Response(200, "text/html; charset=utf-8", LANDING, List.of(), false);
            case "/-/healthy" -> Response.text(200, "Healthy\n");
            case "/-/ready" -> exporter.ready() ? Response.text(200, "Ready\n")
                    : Response.text(503, "Not ready: no scan has succeeded yet\n");
            default -> Response.text(404, "Not found: see / for the endpoints\n");
        };
    }

    private static Response metrics(Exporter exporter, String accept) {
        Exporter.Page page;
        try {
            page = exporter.scrape(Negotiation.format(accept));
        } catch (RuntimeException e) {
            return Response.text(500, "scan failed: " + e.getMessage() + "\n");
        }
        // Vary: the format depends on Accept, and the writer gzips for Accept-Encoding (it adds that one).
        return new Response(200, page.contentType(), page.body(), List.of("Vary: Accept"), true);
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
