package io.bpfcharge.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsParameters;
import com.sun.net.httpserver.HttpsServer;

import javax.net.ssl.SSLParameters;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The read-only HTTP(S) endpoints: /metrics, / (landing page), /-/healthy, /-/ready. Only GET and
 * HEAD are served. Concurrent scrapes share one scan and one rendered page (see {@link Exporter}).
 */
public final class MetricsServer implements AutoCloseable {
    private static final int WRITE_CHUNK = 16 * 1024;
    private final HttpServer server;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final Exporter exporter;
    private final WebConfig web;

    private MetricsServer(HttpServer server, Exporter exporter, WebConfig web) {
        this.server = server;
        this.exporter = exporter;
        this.web = web;
    }

    /** Binds and starts serving; throws IOException when the address cannot be bound. */
    public static MetricsServer start(InetSocketAddress address, Exporter exporter, Path webConfig) throws IOException {
        WebConfig web = webConfig == null ? WebConfig.NONE : WebConfig.read(webConfig);
        HttpServer s;
        if (web.tls() == null) {
            s = HttpServer.create(address, 256);
        } else {
            HttpsServer https = HttpsServer.create(address, 256);
            WebConfig.Tls tls = web.tls();
            https.setHttpsConfigurator(new HttpsConfigurator(tls.context()) {
                @Override
                public void configure(HttpsParameters p) {
                    SSLParameters sp = tls.context().getDefaultSSLParameters();
                    sp.setProtocols(tls.protocols().toArray(String[]::new));
                    if (tls.clientAuth() == WebConfig.ClientAuth.NEED) sp.setNeedClientAuth(true);
                    else if (tls.clientAuth() == WebConfig.ClientAuth.WANT) sp.setWantClientAuth(true);
                    p.setSSLParameters(sp);
                }
            });
            s = https;
        }
        MetricsServer m = new MetricsServer(s, exporter, web);
        s.setExecutor(m.executor);
        s.createContext("/", m::handle);
        s.start();
        return m;
    }

    /** The bound address (the port, when 0 was asked). */
    public InetSocketAddress address() { return server.getAddress(); }

    public boolean tls() { return server instanceof HttpsServer; }

    private void handle(HttpExchange x) throws IOException {
        try (x) {
            String method = x.getRequestMethod();
            if (!method.equals("GET") && !method.equals("HEAD")) {
                x.getResponseHeaders().set("Allow", "GET, HEAD");
                send(x, 405, "text/plain; charset=utf-8", "read-only: only GET and HEAD are served\n");
                return;
            }
            if (!web.authorized(x.getRequestHeaders().getFirst("Authorization"))) {
                x.getResponseHeaders().set("WWW-Authenticate", "Basic realm=\"bpfcharge\"");
                send(x, 401, "text/plain; charset=utf-8", "Unauthorized\n");
                return;
            }
            switch (x.getRequestURI().getPath()) {
                case "/metrics" -> metrics(x);
                case "/" -> send(x, 200, "text/html; charset=utf-8", LANDING);
                case "/-/healthy" -> send(x, 200, "text/plain; charset=utf-8", "Healthy\n");
                case "/-/ready" -> {
                    if (exporter.ready()) send(x, 200, "text/plain; charset=utf-8", "Ready\n");
                    else send(x, 503, "text/plain; charset=utf-8", "Not ready: no scan has succeeded yet\n");
                }
                default -> send(x, 404, "text/plain; charset=utf-8", "Not found: see / for the endpoints\n");
            }
        }
    }

    private void metrics(HttpExchange x) throws IOException {
        Exporter.Page page;
        try {
            page = exporter.scrape(x.getRequestHeaders().getFirst("Accept"));
        } catch (RuntimeException e) {
            send(x, 500, "text/plain; charset=utf-8", "scan failed: " + e.getMessage() + "\n");
            return;
        }
        send(x, 200, page.contentType(), page.body());
    }

    private static void send(HttpExchange x, int status, String type, String body) throws IOException {
        send(x, status, type, body.getBytes(StandardCharsets.UTF_8));
    }

    private static void send(HttpExchange x, int status, String type, byte[] body) throws IOException {
        x.getResponseHeaders().set("Content-Type", type);
        boolean head = x.getRequestMethod().equals("HEAD");
        x.sendResponseHeaders(status, head ? -1 : body.length);
        if (!head) {
            try (OutputStream out = x.getResponseBody()) {
                // In pieces: one write of a whole 155 KB page kept about 300 KB of heap per busy keep-alive
                // connection (100 scrapers: 36 MB of byte arrays live, against 9 MB written 16 KB at a time).
                for (int off = 0; off < body.length; off += WRITE_CHUNK) out.write(body, off, Math.min(WRITE_CHUNK, body.length - off));
            }
        }
    }

    private static final String LANDING = """
            <!DOCTYPE html>
            <html><head><title>bpfcharge exporter</title></head>
            <body><h1>bpfcharge exporter</h1>
            <p>BPF map memory per map and per memory cgroup, and stranded charges.</p>
            <ul><li><a href="metrics">/metrics</a></li><li><a href="-/healthy">/-/healthy</a></li>
            <li><a href="-/ready">/-/ready</a></li></ul></body></html>
            """;

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
