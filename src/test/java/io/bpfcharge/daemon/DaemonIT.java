package io.bpfcharge.daemon;

import io.bpfcharge.migrate.RunDir;
import io.bpfcharge.testing.HostOnly;
import io.bpfcharge.testing.KernelTest;
import io.bpfcharge.testing.Await;
import io.bpfcharge.testing.TestCgroups;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.PrintStream;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The daemon owns what it started: a start that fails halfway leaves no fd, thread or process behind. */
@KernelTest
@HostOnly // resource ownership, the same on every kernel
class DaemonIT {
    @TempDir Path dir;

    @Test
    void aStartThatFailsAtTheListenClosesEverythingItOpened() throws Exception {
        try (TestCgroups cg = new TestCgroups();
             ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Path oomPin = cg.pin("daemon_oom");
            PrintStream quiet = new PrintStream(java.io.OutputStream.nullOutputStream());
            Daemon.start(config(oomPin, 0), quiet, quiet).close(); // loads the classes and libbpf once: those stay
            Set<String> before = fds();
            // The OOM map is opened and the first scan done before the port turns out to be taken.
            assertThrows(BindException.class, () -> Daemon.start(config(oomPin, taken.getLocalPort()), quiet, quiet));
            // Only new fds count, and a socket's close may finish on another thread after close() returned (a
            // transient dup of a closing socket was in one snapshot and not the next): wait for none to be left.
            Await.until("file descriptors left open by the failed start", () -> {
                Set<String> left = fds();
                left.removeAll(before);
                if (!left.isEmpty()) System.out.println("DaemonIT: still open: " + left);
                return left.isEmpty();
            });
            assertFalse(Thread.getAllStackTraces().keySet().stream().anyMatch(t -> t.getName().equals("oom-map") && t.isAlive()),
                    "the OOM map's timer still runs");
            Files.deleteIfExists(oomPin);
        }
    }

    private Daemon.Config config(Path oomPin, int port) {
        return new Daemon.Config(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000, Duration.ofSeconds(2),
                null, 16, 8, oomPin, Duration.ofSeconds(5), null, null, new RunDir(dir.resolve("run")), dir.resolve("origins.json"), "test");
    }

    /** This process's open file descriptors, each as the fd number and what it names. */
    private static Set<String> fds() throws IOException {
        Set<String> out = new TreeSet<>();
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            for (Path p : s.toList()) {
                try {
                    String target = Files.readSymbolicLink(p).toString();
                    if (!target.startsWith("/proc/")) out.add(p.getFileName() + " -> " + target);
                } catch (IOException gone) {
                    // the directory stream's own fd
                }
            }
        }
        return out;
    }
}
