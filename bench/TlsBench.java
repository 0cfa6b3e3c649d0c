// TLS cost of `bpfcharge serve` (run by bench/tls-bench, as root), with an RSA-2048 certificate, side by side in one run:
// the JVM settings of contrib/serve-jvm.args as they are, and the same with one option replaced (e.g. the C1-only
// -XX:TieredStopAtLevel=1 by the full tiered compiler). Twice in turn (A B A B), as the machine is shared. Per daemon:
// serial full handshakes per second (`openssl s_time -new`, a new connection each), 100 clients opening a new HTTPS
// connection at once (handshake and GET /-/healthy, 20 rounds: p50/p99/max), RSS idle (after warm-up) and loaded (peak).
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class TlsBench {
    static final int CLIENTS = 100, ROUNDS = 20, SERIAL_SECONDS = 20, WARM_SECONDS = 10;

    public static void main(String[] args) throws Exception {
        String jar = args[0], jvmFile = args[1], other = args[2];
        Path dir = Files.createTempDirectory("tls-bench");
        try {
            run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-keyout", dir.resolve("key.pem").toString(), "-out", dir.resolve("cert.pem").toString());
            Path web = Files.writeString(dir.resolve("web.yml"), "tls_server_config:\n  cert_file: " + dir.resolve("cert.pem")
                    + "\n  key_file: " + dir.resolve("key.pem") + "\n");
            List<List<String>> settings = List.of(List.of("@" + jvmFile), List.of("@" + jvmFile, other));
            for (int pass = 1; pass <= 2; pass++) {
                for (List<String> jvm : settings) {
                    try (BenchDaemon d = new BenchDaemon(jar, jvm, "--web-config", web.toString())) {
                        measure(d, pass, jvm.size() == 1 ? "serve-jvm.args" : "serve-jvm.args + " + other);
                    }
                }
            }
        } finally {
            try (var files = Files.list(dir)) {
                for (Path p : files.toList()) Files.delete(p);
            }
            Files.delete(dir);
        }
    }

    static void measure(BenchDaemon d, int pass, String setting) throws Exception {
        sTime(d.port(), WARM_SECONDS); // JIT warm-up
        Thread.sleep(3000);
        long idle = d.rssMb();
        double serial = sTime(d.port(), SERIAL_SECONDS);
        for (int i = 0; i < 200; i++) connect(trustAll(), d.port()); // warms this client
        List<Double> ms = Collections.synchronizedList(new ArrayList<>());
        long peak = 0;
        for (int r = 0; r < ROUNDS; r++) {
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> clients = new ArrayList<>();
            for (int c = 0; c < CLIENTS; c++) {
                SSLContext ctx = trustAll(); // one per connection: no session to resume, a full handshake each
                clients.add(Thread.ofPlatform().start(() -> {
                    try {
                        go.await();
                        long t = System.nanoTime();
                        connect(ctx, d.port());
                        ms.add((System.nanoTime() - t) / 1e6);
                    } catch (Exception e) {
                        ms.add(Double.POSITIVE_INFINITY);
                    }
                }));
            }
            go.countDown();
            while (clients.stream().anyMatch(Thread::isAlive)) {
                peak = Math.max(peak, d.rssMb());
                Thread.sleep(20);
            }
        }
        long failed = ms.stream().filter(v -> v.isInfinite()).count();
        System.out.printf("pass %d, %s: serial handshakes %.0f/s; %d x %d concurrent new connections: p50 %.0f ms, p99 %.0f ms, max %.0f ms (Infinity: a failed one), %d failed;"
                        + " RSS idle %d MB, loaded %d MB (VmHWM %d MB); load average %s%n", pass, setting, serial, ROUNDS, CLIENTS,
                BenchDaemon.pct(ms, 50), BenchDaemon.pct(ms, 99), BenchDaemon.pct(ms, 100), failed, idle, peak, d.hwmMb(),
                Files.readString(Path.of("/proc/loadavg")).substring(0, 14));
    }

    /** `openssl s_time -new`: full handshakes, one connection after the other; connections per real second. */
    static double sTime(int port, int seconds) throws Exception {
        String out = run("openssl", "s_time", "-connect", "127.0.0.1:" + port, "-new", "-time", "" + seconds);
        Matcher m = Pattern.compile("(\\d+) connections in (\\d+) real seconds").matcher(out);
        if (!m.find()) throw new IllegalStateException("openssl s_time: " + out);
        return Double.parseDouble(m.group(1)) / Double.parseDouble(m.group(2));
    }

    /** A new TLS connection, GET /-/healthy, the whole answer read. */
    static void connect(SSLContext ctx, int port) throws Exception {
        try (Socket plain = new Socket()) {
            plain.connect(new InetSocketAddress("127.0.0.1", port), 30_000);
            plain.setSoTimeout(30_000);
            try (SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(plain, "127.0.0.1", port, false)) {
                s.getOutputStream().write("GET /-/healthy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                InputStream in = s.getInputStream();
                String answer = new String(in.readAllBytes(), StandardCharsets.UTF_8);
                if (!answer.startsWith("HTTP/1.1 200 ")) throw new IllegalStateException("not 200: " + answer);
            }
        }
    }

    static SSLContext trustAll() throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, new TrustManager[]{new X509TrustManager() {
            public void checkClientTrusted(X509Certificate[] c, String a) {}

            public void checkServerTrusted(X509Certificate[] c, String a) {}

            public X509Certificate[] getAcceptedIssuers() { return new X509Certificate[0]; }
        }}, null);
        return ctx;
    }

    static String run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IllegalStateException(String.join(" ", cmd) + ": " + out);
        return out;
    }
}
