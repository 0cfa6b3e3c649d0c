// Benchmark of `bpfcharge serve` (run by bench/serve-bench, as root):
//   creates small pinned maps until the node has N maps, then measures in one run
//   - warm scrape latency (defaults: --max-scan-age 2, --max-map-series 1000) and the daemon's RSS,
//   - scrape latency when every scrape scans afresh (--max-scan-age 0 --max-map-series 0),
//   - `bpftool -j map show` on the same maps,
//   - 100 concurrent scrapers for 60 s: errors, p50/p99, RSS,
//   - 3,000 one-byte connections held 20 s: peak RSS, then /-/healthy and a scrape,
//   - a right password scraping among 50 clients sending wrong ones for 20 s: its p50/p99.
// The last two print their targets (ServeAbuseIT runs the same floods but checks only that the daemon answers).
// Every pin it made is removed on exit (the maps are freed with them).
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.bpf.MapInfo;
import io.bpfcharge.bpf.MapType;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

public class ServeBench {
    static List<String> jvmArgs; // contrib/serve-jvm.args, as the systemd unit passes it
    static final HttpClient HTTP = BenchDaemon.HTTP;
    /** The daemon's memory target with the unit's settings (its MemoryMax is 256M). */
    static final long RSS_TARGET_MB = 128;
    /** A right scraper's p99 among wrong passwords (docs/benchmarks.md, Serve). */
    static final double AUTH_P99_TARGET_MS = 1000;

    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[0]);
        String jar = args[1];
        int loadSeconds = Integer.parseInt(args[2]);
        jvmArgs = List.of("@" + args[3]);
        Path dir = Path.of("/sys/fs/bpf/bpfcharge-serve-bench-" + ProcessHandle.current().pid());
        Files.createDirectories(dir);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> removePins(dir)));
        try {
            long t0 = System.nanoTime();
            MapInfo like = new MapInfo(0, MapType.ARRAY, "serve_bench", 4, 8, 16, 0, 0, 0, 0, 0, 0, 0);
            int make = Math.max(0, n - MapFd.ids().size()); // top the node up to n maps
            for (int i = 0; i < make; i++) try (MapFd fd = MapFd.create(like, null, null)) { fd.pin(dir.resolve("m" + i)); }
            System.out.printf("created %d pinned maps in %.1f s; maps on the node: %d%n", make, (System.nanoTime() - t0) / 1e9, MapFd.ids().size());

            List<Double> bpftool = new ArrayList<>();
            int onNode = MapFd.ids().size();
            try (BenchDaemon fresh = new BenchDaemon(jar, jvmArgs, "--max-scan-age", "0", "--max-map-series", "0")) {
                for (int i = 0; i < 3; i++) fresh.scrape(); // JIT warm-up
                List<Double> lat = new ArrayList<>();
                for (int i = 0; i < 15; i++) {
                    lat.add(fresh.scrape());
                    bpftool.add(bpftool());
                }
                System.out.printf("fresh scan per scrape (%d maps, one series each): p50 %.1f ms, bpftool -j map show: p50 %.1f ms, ratio %.2f; RSS %d MB%n",
                        onNode, BenchDaemon.pct(lat, 50), BenchDaemon.pct(bpftool, 50), BenchDaemon.pct(lat, 50) / BenchDaemon.pct(bpftool, 50), fresh.rssMb());
            }
            try (BenchDaemon d = new BenchDaemon(jar, jvmArgs)) {
                for (int i = 0; i < 50; i++) d.scrape();
                List<Double> lat = new ArrayList<>();
                for (int i = 0; i < 200; i++) lat.add(d.scrape());
                System.out.printf("warm scrape (defaults): p50 %.2f ms, p99 %.2f ms; bpftool p50 %.1f ms; ratio p50 %.3f, p99 %.3f; RSS %d MB%n",
                        BenchDaemon.pct(lat, 50), BenchDaemon.pct(lat, 99), BenchDaemon.pct(bpftool, 50), BenchDaemon.pct(lat, 50) / BenchDaemon.pct(bpftool, 50), BenchDaemon.pct(lat, 99) / BenchDaemon.pct(bpftool, 50), d.rssMb());
                load(d, 100, loadSeconds);
                System.out.printf("daemon RSS after load %d MB, peak (VmHWM) %d MB%n", d.rssMb(), d.hwmMb());
                flood(d, 3000, 20);
            }
            Path web = Files.createTempFile("serve-bench-web", ".yml");
            try {
                Files.writeString(web, "basic_auth_users:\n  prometheus: "
                        + at.favre.lib.crypto.bcrypt.BCrypt.with(at.favre.lib.crypto.bcrypt.BCrypt.Version.VERSION_2Y).hashToString(10, "right".toCharArray()) + "\n");
                try (BenchDaemon d = new BenchDaemon(jar, jvmArgs, "--web-config", web.toString())) {
                    authFlood(d, 50, 20);
                }
            } finally {
                Files.deleteIfExists(web);
            }
        } finally {
            removePins(dir);
        }
    }

    static void load(BenchDaemon d, int scrapers, int seconds) throws Exception {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        List<Double> lat = Collections.synchronizedList(new ArrayList<>());
        AtomicLong errors = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < scrapers; i++) threads.add(Thread.ofVirtual().start(() -> {
            while (System.nanoTime() < end) {
                try {
                    lat.add(d.scrape());
                } catch (Exception e) {
                    if (errors.incrementAndGet() <= 3) System.out.println("load: error: " + e);
                }
            }
        }));
        for (Thread t : threads) t.join(TimeUnit.SECONDS.toMillis(seconds + 60));
        System.out.printf("load: %d scrapers x %d s: %d scrapes, %d errors, p50 %.1f ms, p99 %.1f ms%n",
                scrapers, seconds, lat.size(), errors.get(), BenchDaemon.pct(lat, 50), BenchDaemon.pct(lat, 99));
    }

    /** Connections that send one byte and then nothing, held open; then how fast the daemon answers. */
    static void flood(BenchDaemon d, int connections, int seconds) throws Exception {
        List<java.net.Socket> held = new ArrayList<>();
        long peak = 0;
        try {
            long opening = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            for (int i = 0; i < connections && System.nanoTime() < opening; i++) {
                java.net.Socket s = new java.net.Socket();
                held.add(s);
                try {
                    s.connect(new java.net.InetSocketAddress(d.metrics.getHost(), d.metrics.getPort()), 1000);
                    s.getOutputStream().write('G');
                } catch (java.io.IOException e) {
                    // refused by the daemon past --max-connections, or a full backlog
                }
            }
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (System.nanoTime() < end) {
                peak = Math.max(peak, d.rssMb());
                Thread.sleep(500);
            }
            long t = System.nanoTime();
            HttpResponse<String> h = HTTP.send(HttpRequest.newBuilder(d.metrics.resolve("/-/healthy")).timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofString());
            double healthy = (System.nanoTime() - t) / 1e6;
            double scrape = d.scrape();
            long after = d.rssMb();
            System.out.printf("flood: %d one-byte connections held %d s: /-/healthy %d in %.0f ms, then a scrape in %.0f ms; RSS peak %d MB, after %d MB (target <= %d MB: %s)%n",
                    held.stream().filter(java.net.Socket::isConnected).count(), seconds, h.statusCode(), healthy, scrape, peak, after,
                    RSS_TARGET_MB, met(Math.max(peak, after) <= RSS_TARGET_MB));
        } finally {
            for (java.net.Socket s : held) s.close();
        }
    }

    /** A scraper with the right password every 100 ms, alone and then among clients sending a new wrong password each time. */
    static void authFlood(BenchDaemon d, int attackers, int seconds) throws Exception {
        String right = "Basic " + java.util.Base64.getEncoder().encodeToString("prometheus:right".getBytes());
        d.scrape("Authorization", right); // the one bcrypt the right password costs
        List<Double> alone = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            alone.add(d.scrape("Authorization", right));
            Thread.sleep(100);
        }
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        AtomicLong guesses = new AtomicLong(), unauthorized = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < attackers; i++) threads.add(Thread.ofVirtual().start(() -> {
            HttpClient own = HttpClient.newHttpClient();
            while (System.nanoTime() < end) {
                try {
                    String wrong = "Basic " + java.util.Base64.getEncoder().encodeToString(("prometheus:guess" + guesses.incrementAndGet()).getBytes());
                    if (own.send(HttpRequest.newBuilder(d.metrics).header("Authorization", wrong).timeout(Duration.ofSeconds(30)).build(),
                            HttpResponse.BodyHandlers.discarding()).statusCode() == 401) unauthorized.incrementAndGet();
                } catch (Exception e) {
                    // counted as not answered 401
                }
            }
        }));
        List<Double> flooded = new ArrayList<>();
        while (System.nanoTime() < end) {
            flooded.add(d.scrape("Authorization", right));
            Thread.sleep(100);
        }
        for (Thread t : threads) t.join(TimeUnit.SECONDS.toMillis(60));
        System.out.printf("auth flood: right scraper alone p50 %.1f ms, p99 %.1f ms; among %d clients x %d s of wrong passwords (%d guesses, %d answered 401, the rest 503): "
                        + "%d scrapes, p50 %.1f ms, p99 %.1f ms (target <= %.0f ms: %s); RSS %d MB%n", BenchDaemon.pct(alone, 50), BenchDaemon.pct(alone, 99), attackers, seconds, guesses.get(),
                unauthorized.get(), flooded.size(), BenchDaemon.pct(flooded, 50), BenchDaemon.pct(flooded, 99), AUTH_P99_TARGET_MS, met(BenchDaemon.pct(flooded, 99) <= AUTH_P99_TARGET_MS), d.rssMb());
    }

    static String met(boolean ok) {
        return ok ? "met" : "NOT MET";
    }

    static double bpftool() throws Exception {
        long t = System.nanoTime();
        Process p = new ProcessBuilder("bpftool", "-j", "map", "show").redirectError(ProcessBuilder.Redirect.DISCARD).start();
        p.getInputStream().transferTo(java.io.OutputStream.nullOutputStream());
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) throw new IllegalStateException("bpftool failed");
        return (System.nanoTime() - t) / 1e6;
    }


    static void removePins(Path dir) {
        if (!Files.exists(dir)) return;
        try (Stream<Path> w = Files.walk(dir)) {
            for (Path p : w.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (Exception e) {
            System.err.println("serve-bench: could not remove " + dir + ": " + e.getMessage());
        }
    }
}
