package io.bpfcharge.migrate;

import io.bpfcharge.BpfchargeException;
import io.bpfcharge.BpfchargeException.Exit;
import io.bpfcharge.bpf.BpfException;
import io.bpfcharge.bpf.BtfFd;
import io.bpfcharge.bpf.MapFd;
import io.bpfcharge.bpf.MapInfo;
import io.bpfcharge.cgroup.MemoryHierarchy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The short-lived process that creates a replacement map inside the target memory cgroup. The kernel
 * charges a new map to the creating task's memcg (and in cgroup v2 all threads of a process share one), so
 * bpfcharge itself never joins the target: this helper moves itself there just for the create call (then back,
 * so its own memory is not charged to the target), pins the twin at a temporary path (the parent opens it
 * there) and prints the new map's id.
 * It is the same jar started with another main class ({@code cli.HelperMain}); it loads no picocli or JSON classes.
 */
public final class CreateHelper {
    private static final long TIMEOUT_S = 30;
    /** The helper's entry point: in the command layer, which reads its environment (fault injection) and calls {@link #run}. */
    private static final String MAIN = "io.bpfcharge.cli.HelperMain";

    private CreateHelper() {}

    /** A helper kept running by a long-lived process (the node agent); null: one helper per create. */
    private static volatile ResidentHelper resident;

    /** From now on creates go to {@code helper} (null: back to one helper process per create). */
    public static void useResident(ResidentHelper helper) { resident = helper; }

    /** In the parent: runs the helper and returns the new map's id, pinned at {@code pin}. */
    static int create(String target, int oldId, int templateId, Path pin) {
        ResidentHelper r = resident;
        if (r != null) return r.create(target, oldId, templateId, pin);
        List<String> cmd = command(Long.toString(ProcessHandle.current().pid()), target, Integer.toString(oldId),
                Integer.toString(templateId), pin.toString());
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(false).start();
            p.getOutputStream().close();
            if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new BpfchargeException(Exit.FAILED, "the map-creating helper did not finish in " + TIMEOUT_S + " s");
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            int exit = p.exitValue();
            if (Crash.injectedInHelper(exit)) Runtime.getRuntime().halt(Crash.EXIT);
            if (exit != 0)
                throw new BpfchargeException(exit == Exit.NO_ROOM.code ? Exit.NO_ROOM : Exit.FAILED,
                        "creating the replacement in " + target + " failed: " + (err.isEmpty() ? died(exit) : err));
            return Integer.parseInt(out);
        } catch (IOException e) {
            throw new BpfchargeException(Exit.FAILED, "cannot start the map-creating helper: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BpfchargeException(Exit.FAILED, "interrupted while creating the replacement map", e);
        }
    }

    /** The helper's command line with these arguments. */
    static List<String> command(String... args) {
        List<String> cmd = new ArrayList<>(List.of(java(), "--enable-native-access=ALL-UNNAMED",
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xshare:auto"));
        cmd.addAll(sharedArchive());
        cmd.addAll(List.of("-cp", classpath(), MAIN));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** Why a helper that printed nothing ended: Java reports death by signal N as exit 128 + N. */
    private static String died(int exit) {
        if (exit <= 128) return "the map-creating helper exited with " + exit;
        int sig = exit - 128;
        return "the map-creating helper was killed by signal " + sig + (sig == 9
                ? " (SIGKILL: kill -9, the OOM killer, or its container's teardown)" : "");
    }

    /** The java binary running this process, so the helper uses the same JDK. */
    private static String java() {
        return ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /**
     * The class data sharing archive this process was started with (the launcher's), read-only: it holds the
     * classes the helper needs (about 100 ms less start-up). The JVM ignores an archive made for another class
     * path, so a foreign one costs nothing; the helper never writes it.
     */
    private static List<String> sharedArchive() {
        return ProcessHandle.current().info().arguments().stream().flatMap(java.util.Arrays::stream)
                .filter(a -> a.startsWith("-XX:SharedArchiveFile=")).limit(1)
                .flatMap(a -> java.util.stream.Stream.of(a, "-Xlog:cds=off", "-Xlog:cds+dynamic=off")).toList();
    }

    /** The jar (or classes directory) this class came from: the helper needs nothing else. */
    private static String classpath() {
        try {
            return Path.of(CreateHelper.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (java.net.URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * In the helper: args are parent pid, target cgroup, old map id, template map id (0: none), temporary pin
     * path; or {@code --serve}, for requests on stdin ({@link ResidentHelper}).
     */
    public static void run(String[] args) {
        if (args.length == 1 && args[0].equals("--serve")) {
            ResidentHelper.serve();
            return;
        }
        try {
            long parent = Long.parseLong(args[0]);
            Path pin = Path.of(args[4]);
            int id = createIn(MemoryHierarchy.detect(), args[1], Integer.parseInt(args[2]), Integer.parseInt(args[3]), pin);
            Crash.point("helper_pinned");
            // A parent that died meanwhile cannot take the map over: leave nothing behind.
            if (!ProcessHandle.of(parent).map(ProcessHandle::isAlive).orElse(false)) {
                Files.deleteIfExists(pin);
                System.exit(Exit.FAILED.code);
            }
            System.out.println(id);
            System.exit(0);
        } catch (BpfException e) {
            System.err.println(e.getMessage());
            System.exit(e.outOfMemory() ? Exit.NO_ROOM.code : Exit.FAILED.code);
        } catch (RuntimeException | IOException e) {
            System.err.println(e.getMessage());
            System.exit(Exit.FAILED.code);
        }
    }

    /** Creates the twin of map {@code oldId} from inside {@code target}, pins it at {@code pin} and returns its id. */
    static int createIn(MemoryHierarchy h, String target, int oldId, int templateId, Path pin) {
        long self = ProcessHandle.current().pid();
        String own = h.ownCgroup();
        try (MapFd old = MapFd.byId(oldId)) {
            MapInfo info = old.info();
            try (BtfFd btf = info.btfId() == 0 ? null : BtfFd.byId(info.btfId());
                 MapFd template = templateId == 0 ? null : MapFd.byId(templateId)) {
                // Only the create runs inside the target: whatever this JVM touches there is charged to
                // it too, so everything else happens outside.
                h.moveProcess(self, target);
                Crash.point("helper");
                MapFd twin;
                try {
                    twin = MapFd.create(info, btf, template);
                } finally {
                    h.moveProcess(self, own);
                }
                try (twin) {
                    twin.pin(pin);
                    return twin.info().id();
                }
            }
        }
    }
}
