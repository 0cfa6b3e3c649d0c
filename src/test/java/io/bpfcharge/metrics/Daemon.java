package io.bpfcharge.metrics;

import io.bpfcharge.testing.Cli;
import io.bpfcharge.testing.TimeScale;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** `bpfcharge serve` started from the built jar on a free loopback port (unless args say --listen); stopped (SIGTERM) on close. */
public final class Daemon implements AutoCloseable {
    private static final Pattern SERVING = Pattern.compile("serving (https?://\\S+)/metrics");
    private final Process process;
    /** Its stderr lines after the one saying it serves, for {@link #awaitLine}. */
    private final BlockingQueue<String> lines = new ArrayBlockingQueue<>(1000);
    /** Queued after its last stderr line (compared by identity): a daemon that exits is not waited for. */
    private static final String END = new String("end of stderr");
    final URI base;

    Daemon(Map<String, String> env, String... args) throws IOException, InterruptedException {
        this(env, ProcessBuilder.Redirect.DISCARD, args);
    }

    /** @param stdout where its stdout goes (the node agent logs there) */
    public Daemon(Map<String, String> env, ProcessBuilder.Redirect stdout, String... args) throws IOException, InterruptedException {
        this(List.of(), env, stdout, args);
    }

    /** With the JVM settings of the systemd unit (contrib/serve-jvm.args), so that its memory is what a node sees. */
    static Daemon asUnit(Map<String, String> env, String... args) throws IOException, InterruptedException {
        return new Daemon(List.of("@" + Path.of("contrib/serve-jvm.args").toAbsolutePath()), env, ProcessBuilder.Redirect.DISCARD, args);
    }

    private Daemon(List<String> jvm, Map<String, String> env, ProcessBuilder.Redirect stdout, String... args) throws IOException, InterruptedException {
        this(DEFAULT_SIGHUP, jvm, env, stdout, args);
    }

    /**
     * SIGHUP as a service manager leaves it: a test run started under nohup (or anything ignoring SIGHUP) would
     * otherwise hand the ignored signal down to every daemon, whose JVM then keeps it ignored.
     */
    static final List<String> DEFAULT_SIGHUP = List.of("env", "--default-signal=HUP");

    /** Started through {@code launcher} (e.g. nohup), which execs the JVM: the process is the JVM's. */
    static Daemon via(List<String> launcher, String... args) throws IOException, InterruptedException {
        return new Daemon(launcher, List.of(), Map.of(), ProcessBuilder.Redirect.DISCARD, args);
    }

    private Daemon(List<String> launcher, List<String> jvm, Map<String, String> env, ProcessBuilder.Redirect stdout, String... args)
            throws IOException, InterruptedException {
        List<String> cmd = new java.util.ArrayList<>(launcher);
        cmd.addAll(Cli.java());
        cmd.addAll(jvm);
        cmd.addAll(List.of("-jar", Cli.jar().toString(), "serve"));
        if (!List.of(args).contains("--listen")) cmd.addAll(List.of("--listen", "127.0.0.1:0"));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(stdout);
        pb.environment().putAll(env);
        Cli.privateDirectories().forEach(pb.environment()::putIfAbsent);
        process = pb.start();
        Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getErrorStream()))) {
                for (String l; (l = r.readLine()) != null; ) lines.offer(l);
            } catch (IOException e) {
                // daemon gone
            } finally {
                lines.offer(END);
            }
        });
        // Under emulation (test/vm) a JVM start plus the first scan took over 60 s on a loaded host.
        Duration bound = TimeScale.of(Duration.ofSeconds(60));
        long deadline = System.nanoTime() + bound.toNanos();
        StringBuilder seen = new StringBuilder();
        while (true) {
            String l = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (l == null) {
                close();
                throw new IOException("daemon did not start within " + bound.toSeconds() + " s: " + seen);
            }
            if (l == END) throw new IOException("daemon exited with " + process.waitFor() + " before serving: " + seen);
            seen.append(l).append('\n');
            Matcher m = SERVING.matcher(l);
            if (m.find()) {
                base = URI.create(m.group(1));
                startLines = seen.toString();
                return;
            }
        }
    }

    /** Its stderr up to and with the line saying it serves. */
    private String startLines;

    String startLines() { return startLines; }

    public URI uri(String path) { return base.resolve(path); }

    /** Waits (up to 60 s, scaled) for a line on its stderr containing {@code text}; lines before it are consumed. */
    String awaitLine(String text) throws InterruptedException {
        Duration bound = TimeScale.of(Duration.ofSeconds(60));
        long deadline = System.nanoTime() + bound.toNanos();
        StringBuilder seen = new StringBuilder();
        while (true) {
            String l = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (l == null) throw new AssertionError("no stderr line with \"" + text + "\" within " + bound.toSeconds() + " s; saw:\n" + seen);
            if (l == END) throw new AssertionError("daemon exited with " + process.waitFor() + " before a stderr line with \"" + text + "\"; saw:\n" + seen);
            if (l.contains(text)) return l;
            seen.append(l).append('\n');
        }
    }

    public Process process() { return process; }

    boolean alive() { return process.isAlive(); }

    @Override
    public void close() throws InterruptedException {
        if (!process.isAlive()) return;
        process.destroy();
        // Killed only when it does not stop: a kill skips its shutdown (what it pinned and marked stays).
        if (!process.waitFor(TimeScale.of(Duration.ofSeconds(20)).toSeconds(), TimeUnit.SECONDS)) process.destroyForcibly().waitFor();
    }
}
