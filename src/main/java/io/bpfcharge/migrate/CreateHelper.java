package io.bpfcharge.migrate;

import io.bpfcharge.BpfchargeException;
import io.bpfcharge.BpfchargeException.Exit;
import io.bpfcharge.cgroup.MemoryHierarchy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the map-creating helper (bpf/create_helper.c) for one create: a small static program, one process per
 * create. The kernel charges a new map to the creating task's memcg (and in cgroup v2 all threads of a process
 * share one), so bpfcharge itself never joins the target: the helper moves itself there just for the create call
 * (then back, so nothing else it does is charged to the target), pins the twin at a temporary path (the parent
 * opens it there) and prints the new map's id. It gets everything as arguments; which cgroup.procs files it
 * writes is decided here, by the {@link MemoryHierarchy}.
 */
final class CreateHelper {
    private static final long TIMEOUT_S = 30;
    /** The helper's exit codes besides 0 (create_helper.c). */
    private static final int NO_ROOM = 2;

    private CreateHelper() {}

    /** Creates the twin of map {@code oldId} in {@code target}, pins it at {@code pin} and returns its id. */
    static int create(MemoryHierarchy h, String target, int oldId, int templateId, Path pin) {
        // The helper starts in this process's cgroup and goes back there: the checked one, never what a private
        // cgroup namespace's /proc/self/cgroup names (the host's root, seen through the mount).
        String own = h.ownCgroup();
        List<String> cmd = new ArrayList<>(List.of(HelperBinary.path().toString(),
                "--parent", Long.toString(ProcessHandle.current().pid()), "--map", Integer.toString(oldId),
                "--join", h.procs(target).toString(), "--return", h.procs(own).toString(), "--pin", pin.toString()));
        if (templateId != 0) cmd.addAll(List.of("--template", Integer.toString(templateId)));
        cmd.addAll(Crash.helperArgs());
        try {
            Process p = new ProcessBuilder(cmd).start();
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
                throw new BpfchargeException(exit == NO_ROOM ? Exit.NO_ROOM : Exit.FAILED,
                        "creating the replacement in " + target + " failed: " + (err.isEmpty() ? died(exit) : err));
            return Integer.parseInt(out);
        } catch (IOException e) {
            throw new BpfchargeException(Exit.FAILED, "cannot start the map-creating helper: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new BpfchargeException(Exit.FAILED, "interrupted while creating the replacement map", e);
        }
    }

    /** Why a helper that printed nothing ended: Java reports death by signal N as exit 128 + N. */
    private static String died(int exit) {
        if (exit <= 128) return "the map-creating helper exited with " + exit;
        int sig = exit - 128;
        return "the map-creating helper was killed by signal " + sig + (sig == 9
                ? " (SIGKILL: kill -9, the OOM killer, or its container's teardown)" : "");
    }
}
