package io.bpfcharge.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs the built jar as a separate process, as users, hooks and runtimes do (for *IT tests). */
public final class Cli {
    public record Result(int exit, String out, String err) {}

    private Cli() {}

    public static Path jar() {
        String jar = System.getenv("BPFCHARGE_JAR");
        if (jar == null) throw new IllegalStateException("BPFCHARGE_JAR is not set: run through mvn verify");
        return Path.of(jar);
    }

    /**
     * The java launcher with the options of every JVM the tests start, plus the whitespace-separated ones in
     * BPFCHARGE_TEST_JVM_OPTIONS (test/vm/run-scenarios passes a class data sharing archive there: under
     * emulation a JVM start costs seconds).
     */
    public static List<String> java() {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmn16m")); // the launchers' JVM settings
        String extra = System.getenv("BPFCHARGE_TEST_JVM_OPTIONS");
        if (extra != null && !extra.isBlank()) cmd.addAll(List.of(extra.strip().split("\\s+")));
        return cmd;
    }

    public static List<String> command(String... args) {
        List<String> cmd = java();
        cmd.addAll(List.of("-jar", jar().toString()));
        cmd.addAll(List.of(args));
        return cmd;
    }

    public static Result run(String... args) throws IOException, InterruptedException {
        return exec(command(args), null);
    }

    /** Runs with stdin fed from {@code input}. */
    public static Result runWithInput(String input, String... args) throws IOException, InterruptedException {
        return exec(command(args), input);
    }

    /** Runs as an unprivileged user (setpriv), to check privilege errors. */
    public static Result runAsNobody(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                "--inh-caps=-all"));
        cmd.addAll(command(args));
        return exec(cmd, null);
    }

    /** {@link #exec} in the background, for a test that acts while the command runs. */
    public static java.util.concurrent.CompletableFuture<Result> start(List<String> cmd, String input) {
        return java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try {
                return exec(cmd, input);
            } catch (IOException | InterruptedException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        }, r -> Thread.ofPlatform().daemon().start(r)); // not the common pool: exec() itself uses it
    }

    public static Result exec(List<String> cmd, String input) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        privateDirectories().forEach(pb.environment()::putIfAbsent);
        Process p = pb.start();
        if (input != null) p.getOutputStream().write(input.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        // Read both streams concurrently so a chatty child never blocks on a full pipe. Stderr on a thread of its
        // own: on the common pool (one worker on 2 CPUs) its reader waited behind a caller's task that pool ran,
        // a migration paused until this command ended, so the pause ran out its 120 s limit first.
        var err = new java.util.concurrent.CompletableFuture<String>();
        Thread.ofPlatform().daemon().start(() -> err.complete(read(p.getErrorStream())));
        String out = read(p.getInputStream());
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("timed out: " + cmd);
        }
        return new Result(p.exitValue(), out, err.join());
    }

    /**
     * BPFCHARGE_RUN_DIR and BPFCHARGE_STATE_DIR for every command a test runs (a command that names its own, with
     * {@code env} in front, overrides them): one directory per test JVM, removed when it exits, so that no test
     * writes the node's /run/bpfcharge or /var/lib/bpfcharge, and commands of one test still share their history.
     */
    public static java.util.Map<String, String> privateDirectories() {
        return Private.ENV;
    }

    private static final class Private {
        static final java.util.Map<String, String> ENV = make();

        private static java.util.Map<String, String> make() {
            try {
                Path dir = java.nio.file.Files.createTempDirectory("bpfcharge-it-");
                Runtime.getRuntime().addShutdownHook(new Thread(() -> delete(dir)));
                return java.util.Map.of("BPFCHARGE_RUN_DIR", dir.resolve("run").toString(),
                        "BPFCHARGE_STATE_DIR", dir.resolve("state").toString());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        private static void delete(Path dir) {
            try (var paths = java.nio.file.Files.walk(dir)) {
                paths.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            } catch (IOException ignored) {
                // a temporary directory: nothing else to do at exit
            }
        }
    }

    private static String read(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
