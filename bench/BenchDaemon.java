// `bpfcharge serve` for the benchmarks in bench/ (ServeBench, GreedyBench, TlsBench): started from the built jar
// on a free loopback port with the given JVM options, stopped on close.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

final class BenchDaemon implements AutoCloseable {
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    final Process process;
    final URI metrics;

    /** @param jvm JVM options before -jar (e.g. "@contrib/serve-jvm.args") */
    BenchDaemon(String jar, List<String> jvm, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.addAll(jvm);
        cmd.addAll(List.of("-jar", jar, "serve", "--listen", "127.0.0.1:0"));
        cmd.addAll(List.of(args));
        process = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        BufferedReader err = new BufferedReader(new InputStreamReader(process.getErrorStream()));
        String line = err.readLine(); // the daemon prints one line once it serves, or its error
        if (line == null || !line.contains("serving http")) throw new IllegalStateException("daemon: " + line);
        metrics = URI.create(line.substring(line.indexOf("http")));
        Thread.ofVirtual().start(() -> { // keep draining: a full stderr pipe would block the daemon
            try {
                err.transferTo(java.io.Writer.nullWriter());
            } catch (java.io.IOException e) {
                // gone
            }
        });
    }

    int port() { return metrics.getPort(); }

    /** One GET of /metrics (plain HTTP); its time in ms. */
    double scrape(String... headers) throws Exception {
        long t = System.nanoTime();
        HttpRequest.Builder b = HttpRequest.newBuilder(metrics).timeout(Duration.ofSeconds(30));
        if (headers.length > 0) b.headers(headers);
        HttpResponse<byte[]> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() != 200) throw new IllegalStateException("HTTP " + r.statusCode() + ": " + new String(r.body()).strip());
        return (System.nanoTime() - t) / 1e6;
    }

    long rssMb() throws Exception { return status("VmRSS:"); }

    long hwmMb() throws Exception { return status("VmHWM:"); }

    private long status(String field) throws Exception {
        for (String l : Files.readAllLines(Path.of("/proc/" + process.pid() + "/status")))
            if (l.startsWith(field)) return Long.parseLong(l.replaceAll("\\D", "")) / 1024;
        return -1;
    }

    /** The p-th percentile (nearest rank) of {@code l}. */
    static double pct(List<Double> l, int p) {
        List<Double> s = new ArrayList<>(l);
        s.sort(null);
        return s.get(Math.max(0, Math.min(s.size() - 1, (int) Math.ceil(p / 100.0 * s.size()) - 1)));
    }

    @Override
    public void close() throws Exception {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) process.destroyForcibly().waitFor();
    }
}
