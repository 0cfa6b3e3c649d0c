// One greedy client against `bpfcharge serve` (run by bench/greedy-bench, as root): 127.0.0.3 holds GREEDY sockets
// (default 2,000) and reopens every one the daemon refuses or cuts, while 127.0.0.2 probes /-/healthy PROBES_PER_S
// times a second for SECONDS. Per setting of --max-connections-per-source (the default, 128, and 0: no cap): probes,
// how many got 200 within 1 s (target >= 99%), p50/p99, and bpfcharge_http_connections_dropped_total{reason}.
// ServeGreedyClientIT checks the same without timing: every probe answered while one client holds 3x the slots.
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

public class GreedyBench {
    static final String GREEDY_FROM = "127.0.0.3", PROBE_FROM = "127.0.0.2";
    static final double TARGET = 0.99, ANSWER_MS = 1000, PROBE_TIMEOUT_MS = 5000;

    public static void main(String[] args) throws Exception {
        String jar = args[0];
        List<String> jvm = List.of("@" + args[1]);
        int seconds = Integer.parseInt(args[2]), perSecond = Integer.parseInt(args[3]), greedy = Integer.parseInt(args[4]);
        for (String perSource : new String[]{"default", "0"}) {
            String[] flags = perSource.equals("default") ? new String[0] : new String[]{"--max-connections-per-source", perSource};
            try (BenchDaemon d = new BenchDaemon(jar, jvm, flags)) {
                run(d, "--max-connections-per-source " + perSource, seconds, perSecond, greedy);
            }
        }
    }

    static void run(BenchDaemon d, String setting, int seconds, int perSecond, int count) throws Exception {
        List<double[]> probes = Collections.synchronizedList(new ArrayList<>()); // {ms, 200 ? 1 : 0}
        Greedy g = new Greedy(new InetSocketAddress("127.0.0.1", d.port()), count);
        Thread greedy = Thread.ofPlatform().name("greedy").start(g);
        long settle = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (g.connected.get() < count && System.nanoTime() < settle) Thread.sleep(100); // past the cap, never all
        long opened0 = g.opened.get();
        ScheduledExecutorService clock = Executors.newSingleThreadScheduledExecutor();
        clock.scheduleAtFixedRate(() -> Thread.ofVirtual().start(() -> probes.add(probe(d.port()))), 0, 1_000_000 / perSecond, TimeUnit.MICROSECONDS);
        Thread.sleep(TimeUnit.SECONDS.toMillis(seconds));
        clock.shutdown();
        Thread.sleep((long) PROBE_TIMEOUT_MS + 500); // the last probes end
        long reopened = g.opened.get() - opened0, heldAtEnd = g.connected.get();
        g.stop = true;
        greedy.join();
        List<double[]> done = new ArrayList<>(probes);
        long within = done.stream().filter(p -> p[1] == 1 && p[0] <= ANSWER_MS).count();
        List<Double> ms = done.stream().map(p -> p[1] == 1 ? p[0] : Double.POSITIVE_INFINITY).toList();
        System.out.printf("%s: greedy %s held %d sockets at the end, reopened %d in %d s (%.0f/s);"
                        + " probes from %s: %d, 200 within 1 s: %d (%.2f%%, target >= %.0f%%: %s), p50 %s, p99 %s%n",
                setting, GREEDY_FROM, heldAtEnd, reopened, seconds, reopened / (double) seconds, PROBE_FROM, done.size(), within,
                100.0 * within / done.size(), TARGET * 100, within >= TARGET * done.size() ? "met" : "NOT MET",
                ms(BenchDaemon.pct(ms, 50)), ms(BenchDaemon.pct(ms, 99)));
        String page = get(d.port(), "/metrics");
        page.lines().filter(l -> l.startsWith("bpfcharge_http_connections_dropped_total{"))
                .forEach(l -> System.out.println("  " + l));
    }

    static String ms(double v) { return Double.isInfinite(v) ? "no answer" : String.format("%.1f ms", v); }

    /** One /-/healthy from PROBE_FROM on a new connection: {ms, 1 if 200}. */
    static double[] probe(int port) {
        long t = System.nanoTime();
        try {
            boolean ok = get(port, "/-/healthy").startsWith("Healthy");
            return new double[]{(System.nanoTime() - t) / 1e6, ok ? 1 : 0};
        } catch (IOException e) {
            return new double[]{(System.nanoTime() - t) / 1e6, 0};
        }
    }

    /** The body of a 200 answer to GET {@code path} from PROBE_FROM; IOException for anything else. */
    static String get(int port, String path) throws IOException {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(PROBE_FROM, 0));
            s.connect(new InetSocketAddress("127.0.0.1", port), (int) PROBE_TIMEOUT_MS);
            s.setSoTimeout((int) PROBE_TIMEOUT_MS);
            s.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            String answer = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            if (!answer.startsWith("HTTP/1.1 200 ")) throw new IOException("not 200");
            return answer.substring(answer.indexOf("\r\n\r\n") + 4);
        }
    }

    /** {@code count} idle connections from GREEDY_FROM; each one refused or cut is opened again at once. */
    static final class Greedy implements Runnable {
        final InetSocketAddress target;
        final int count;
        final AtomicLong opened = new AtomicLong(), connected = new AtomicLong();
        volatile boolean stop;

        Greedy(InetSocketAddress target, int count) {
            this.target = target;
            this.count = count;
        }

        @Override
        public void run() {
            ByteBuffer sink = ByteBuffer.allocate(4096);
            try (Selector sel = Selector.open()) {
                int missing = count;
                while (!stop) {
                    while (missing > 0 && open(sel)) missing--; // out of ports: try again next round
                    sel.select(50);
                    for (SelectionKey k : sel.selectedKeys()) {
                        SocketChannel ch = (SocketChannel) k.channel();
                        try {
                            if (k.isConnectable()) {
                                ch.finishConnect();
                                k.interestOps(SelectionKey.OP_READ);
                                connected.incrementAndGet();
                            } else if (k.isReadable() && ch.read(sink.clear()) < 0) {
                                throw new IOException("closed by the daemon");
                            }
                        } catch (IOException e) {
                            if (k.interestOps() == SelectionKey.OP_READ) connected.decrementAndGet();
                            close(ch);
                            missing++;
                        }
                    }
                    sel.selectedKeys().clear();
                }
                for (SelectionKey k : sel.keys()) close((SocketChannel) k.channel());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        private boolean open(Selector sel) {
            try {
                SocketChannel ch = SocketChannel.open();
                try {
                    ch.configureBlocking(false);
                    ch.bind(new InetSocketAddress(InetAddress.getByName(GREEDY_FROM), 0));
                    ch.connect(target);
                    ch.register(sel, SelectionKey.OP_CONNECT);
                    opened.incrementAndGet();
                    return true;
                } catch (IOException e) {
                    close(ch);
                    return false;
                }
            } catch (IOException e) {
                return false;
            }
        }

        private static void close(SocketChannel ch) {
            try {
                ch.close();
            } catch (IOException e) {
                // closed
            }
        }
    }
}
