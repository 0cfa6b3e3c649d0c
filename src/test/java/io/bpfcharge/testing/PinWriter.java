package io.bpfcharge.testing;

import io.bpfcharge.bpf.BpfFd;
import io.bpfcharge.bpf.BpfObject;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.bpf.MapInfo;
import io.bpfcharge.bpf.MapType;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A separate writer process for the migration tests. Until its stdin closes it opens the map's pin for
 * every write (as {@code bpftool map update pinned} does), writes, closes it; then prints how many writes it
 * made. {@code sum}: adds 1 to one of 16 u64 counters (key u32), atomically as a BPF program's add would
 * (bpf/merge_sum.bpf.c run over the fd: user space cannot add atomically); {@code insert}: write n goes to
 * key {@link Keys#index} (by default 1,000,000 + n) with value n ({@link #key}, {@link #value}: any key and
 * value size, LPM tries and per-CPU maps included).
 * With {@link Keys#firstHoldMs}, it first keeps the pin's fd for that long, writing through it: a process that
 * opened the map before a migration and closes it later.
 * With a pause directory ({@link PausePoints}): the first time a paused migration announces itself there, it
 * opens TARGET once (the pin, or {@code id:N}), writes through that fd, releases the migration and keeps
 * writing through the same fd for HOLD ms (or until stopped): a process that opened the map at exactly that step.
 */
public final class PinWriter {
    public static final int COUNTERS = 16, INSERT_BASE = 1_000_000;
    /** A hold that lasts until the test stops the writer, however long the migration's steps take. */
    public static final long UNTIL_STOPPED = -1;

    /** What a write does: add 1 to a counter, or insert a key. */
    public enum Mode { INSERT, SUM }

    /**
     * Where inserts go and how the writer starts: write n goes to key {@code base + n % span}, so writers with
     * distinct bases never share a key, and an array's writes stay below its max_entries.
     */
    public record Keys(int base, int span, long firstHoldMs) {
        public static final Keys DEFAULT = new Keys(INSERT_BASE, Integer.MAX_VALUE, 0);

        public int index(long n) { return base + (int) (n % span); }
    }

    /** The running writer; {@link #stop()} ends it and returns how many writes it made. */
    public record Running(Process process, BufferedReader out) implements AutoCloseable {
        public long stop() throws IOException, InterruptedException {
            process.getOutputStream().close();
            String line = out.readLine();
            if (!process.waitFor(TimeScale.of(Duration.ofSeconds(60)).toSeconds(), TimeUnit.SECONDS) || process.exitValue() != 0 || line == null)
                throw new IOException("PinWriter failed: exit " + (process.isAlive() ? "-" : process.exitValue()));
            return Long.parseLong(line.trim());
        }

        @Override
        public void close() { process.destroyForcibly(); }
    }

    /** Starts a writer and returns once it made its first write. */
    public static Running start(String mode, Path pin, Path pauseDir, String target, long holdMs) throws IOException {
        return start(Mode.valueOf(mode.toUpperCase(java.util.Locale.ROOT)), pin, Keys.DEFAULT, pauseDir, target, holdMs);
    }

    /** Starts a writer and returns once it made its first write (for {@link Keys#firstHoldMs}: while it holds). */
    public static Running start(Mode mode, Path pin, Keys keys, Path pauseDir, String target, long holdMs) throws IOException {
        List<String> cmd = Cli.java();
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), PinWriter.class.getName(), mode.name(),
                pin.toString(), Integer.toString(keys.base()), Integer.toString(keys.span()), Long.toString(keys.firstHoldMs())));
        if (pauseDir != null) cmd.addAll(List.of(pauseDir.toString(), target, Long.toString(holdMs)));
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream()));
        String ready = out.readLine();
        if (!"ready".equals(ready)) {
            p.destroyForcibly();
            throw new IOException("PinWriter did not start: " + ready);
        }
        return new Running(p, out);
    }

    /** The key of insert number {@code index} in a map with these attributes (LPM tries: a /32 prefix). */
    public static ByteBuffer key(MapInfo info, int index) {
        ByteBuffer key = ByteBuffer.allocate(info.keySize()).order(ByteOrder.nativeOrder());
        if (info.type().equals(MapType.LPM_TRIE)) key.putInt(0, 32).putInt(4, index);
        else key.putInt(0, index);
        return key;
    }

    /** The value insert number {@code n} writes: n in the first u64 (per-CPU maps: CPU 0's copy), zeros after. */
    public static ByteBuffer value(MapInfo info, long n) {
        return ByteBuffer.allocate(info.userValueSize()).order(ByteOrder.nativeOrder()).putLong(0, n);
    }

    private final boolean sum;
    private final MapInfo info;
    private final Keys keys;
    private final ByteBuffer args = ByteBuffer.allocateDirect(512 + 8 * 512).order(ByteOrder.nativeOrder());
    private final MapFd scratch; // merge_sum's source map: empty, so it only adds
    private long n;

    private PinWriter(boolean sum, MapInfo info, Keys keys) {
        this.sum = sum;
        this.info = info;
        this.keys = keys;
        this.scratch = sum ? MapFd.create(new MapInfo(0, MapType.HASH, "pw_scratch", 4, 8, 1, 0, 0, 0, 0, 0, 0, 0), null, null) : null;
        args.putLong(512, 1);
    }

    /** One write through {@code map}, by a program loaded for it ({@code prog}, sum) or an update (insert). */
    private void write(MapFd map, BpfObject prog) {
        if (sum) {
            args.putInt(0, (int) (n % COUNTERS));
            if (prog.testRun("merge_sum", 0, null, args) != 0) throw new IllegalStateException("merge_sum failed");
        } else {
            map.update(key(info, keys.index(n)), value(info, n), MapFd.BPF_ANY);
        }
        n++;
    }

    private BpfObject program(MapFd map) {
        if (!sum) return null;
        byte[] words = ByteBuffer.allocate(4).order(ByteOrder.nativeOrder()).putInt(1).array();
        return BpfObject.load("merge_sum", Map.of("dst", map, "src", scratch), words);
    }

    private void writeThroughPin(Path pin) {
        try (MapFd map = (MapFd) BpfFd.openPin(pin); BpfObject prog = program(map)) {
            write(map, prog);
        }
    }

    /**
     * Opens {@code target} once and writes through that fd for holdMs ({@link #UNTIL_STOPPED}: until the test
     * stops the writer); {@code opened} runs after the first write.
     */
    private void hold(String target, Runnable opened, long holdMs, AtomicBoolean stop) {
        try (MapFd map = target.startsWith("id:") ? MapFd.byId(Integer.parseInt(target.substring(3)))
                : (MapFd) BpfFd.openPin(Path.of(target)); BpfObject prog = program(map)) {
            write(map, prog);
            opened.run();
            long end = System.nanoTime() + holdMs * 1_000_000;
            while (holdMs == UNTIL_STOPPED ? !stop.get() : System.nanoTime() < end) {
                write(map, prog);
                sleepMs(1);
            }
        }
    }

    private static Path paused(Path dir) throws IOException {
        try (var s = Files.list(dir)) {
            return s.findFirst().orElse(null);
        }
    }

    private static void sleepMs(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void ready() {
        System.out.println("ready");
        System.out.flush();
    }

    public static void main(String[] a) throws Exception {
        Path pin = Path.of(a[1]);
        MapInfo info;
        try (MapFd map = (MapFd) BpfFd.openPin(pin)) {
            info = map.info();
        }
        Keys keys = new Keys(Integer.parseInt(a[2]), Integer.parseInt(a[3]), Long.parseLong(a[4]));
        PinWriter w = new PinWriter(Mode.valueOf(a[0]) == Mode.SUM, info, keys);
        Path pauseDir = a.length > 5 ? Path.of(a[5]) : null;
        AtomicBoolean stop = new AtomicBoolean();
        Thread.ofPlatform().daemon().start(() -> {
            try {
                while (System.in.read() >= 0) { /* until the test closes stdin */ }
            } catch (IOException ignored) {
                // stdin gone: stop too
            }
            stop.set(true);
        });
        if (keys.firstHoldMs() > 0) {
            w.hold(pin.toString(), PinWriter::ready, keys.firstHoldMs(), stop);
        } else {
            w.writeThroughPin(pin);
            ready();
        }
        boolean held = false;
        while (!stop.get()) {
            Path paused = held || pauseDir == null ? null : paused(pauseDir);
            if (paused != null) {
                w.hold(a[6], () -> {
                    try {
                        Files.delete(paused);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                }, Long.parseLong(a[7]), stop);
                held = true;
            } else {
                long t0 = System.nanoTime();
                w.writeThroughPin(pin);
                // Half the time between writes holds no fd, however slow a write is (an emulated VM): a writer that
                // opens the pin for each write, not one that keeps it open; and not one that takes a whole CPU.
                sleepMs(Math.max(1, (System.nanoTime() - t0) / 1_000_000));
            }
        }
        System.out.println(w.n);
        System.out.flush();
        if (w.scratch != null) w.scratch.close();
    }
}
