package io.bpfcharge.migrate;

import io.bpfcharge.BpfchargeException;
import io.bpfcharge.BpfchargeException.Exit;
import io.bpfcharge.bpf.BpfException;
import io.bpfcharge.cgroup.MemoryHierarchy;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The map-creating helper kept running by a long-lived bpfcharge (the node agent): a create is a request on a
 * pipe instead of a JVM start. The helper does exactly what the one-shot helper does ({@link CreateHelper#createIn}):
 * it joins the target memcg only around the create call and goes back to its own cgroup (the daemon's), so its
 * memory is charged there, not to containers. One request at a time. A helper that died (kill -9, the OOM
 * killer) or hung fails that create, so the migration rolls back, and is started again for the next one.
 */
public final class ResidentHelper implements AutoCloseable {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private Process process;
    private DataOutputStream requests;
    private DataInputStream replies;

    private ResidentHelper() {}

    /** Starts the helper process; it ends when this closes it or this process dies (its stdin closes). */
    public static ResidentHelper start() {
        ResidentHelper h = new ResidentHelper();
        h.spawn();
        return h;
    }

    private void spawn() {
        try {
            process = new ProcessBuilder(CreateHelper.command("--serve")).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        } catch (IOException e) {
            throw new BpfchargeException(Exit.FAILED, "cannot start the map-creating helper: " + e.getMessage(), e);
        }
        requests = new DataOutputStream(new BufferedOutputStream(process.getOutputStream()));
        replies = new DataInputStream(new BufferedInputStream(process.getInputStream()));
        ready = false;
    }

    /** Whether the helper said it is ready (its JVM started while the daemon did other things). */
    private boolean ready;

    /** Kills {@code p} unless interrupted within the timeout: a reply that never comes ends in EOF. */
    private static Thread watchdog(Process p) {
        return Thread.ofVirtual().start(() -> {
            try {
                Thread.sleep(TIMEOUT);
                p.destroyForcibly();
            } catch (InterruptedException e) {
                // answered in time
            }
        });
    }

    /** The helper's pid (for tests and logs). */
    public synchronized long pid() { return process.pid(); }

    /** Like {@link CreateHelper#create}: the new map's id, pinned at {@code pin}. */
    synchronized int create(String target, int oldId, int templateId, Path pin) {
        if (!process.isAlive()) spawn();
        Process p = process;
        Thread watchdog = watchdog(p);
        try {
            if (!ready) {
                replies.readInt();
                ready = true;
            }
            requests.writeUTF(target);
            requests.writeInt(oldId);
            requests.writeInt(templateId);
            requests.writeUTF(pin.toString());
            requests.flush();
            int status = replies.readInt();
            if (status == 0) return replies.readInt();
            String message = replies.readUTF();
            throw new BpfchargeException(status == Exit.NO_ROOM.code ? Exit.NO_ROOM : Exit.FAILED,
                    "creating the replacement in " + target + " failed: " + message);
        } catch (IOException e) {
            p.destroyForcibly();
            throw new BpfchargeException(Exit.FAILED, "creating the replacement in " + target + " failed: the map-creating "
                    + "helper " + p.pid() + " died or hung (" + (e instanceof EOFException ? "no reply" : e.getMessage())
                    + "); a new one starts for the next migration");
        } finally {
            watchdog.interrupt();
        }
    }

    /** The helper's side: answers requests on stdin until it closes. */
    static void serve() {
        MemoryHierarchy h = MemoryHierarchy.detect();
        DataInputStream in = new DataInputStream(new BufferedInputStream(System.in));
        DataOutputStream out = new DataOutputStream(new BufferedOutputStream(System.out));
        try {
            h.ownCgroup(); // refuses a private cgroup namespace before the first request
            out.writeInt(0); // ready
            out.flush();
            while (true) {
                String target;
                try {
                    target = in.readUTF();
                } catch (EOFException e) {
                    return; // the parent closed us, or died
                }
                int oldId = in.readInt(), templateId = in.readInt();
                Path pin = Path.of(in.readUTF());
                try {
                    int id = CreateHelper.createIn(h, target, oldId, templateId, pin);
                    out.writeInt(0);
                    out.writeInt(id);
                } catch (BpfException e) {
                    out.writeInt(e.outOfMemory() ? Exit.NO_ROOM.code : Exit.FAILED.code);
                    out.writeUTF(String.valueOf(e.getMessage()));
                } catch (RuntimeException e) {
                    out.writeInt(Exit.FAILED.code);
                    out.writeUTF(String.valueOf(e.getMessage()));
                }
                out.flush();
            }
        } catch (IOException e) {
            System.exit(Exit.FAILED.code);
        }
    }

    @Override
    public synchronized void close() {
        try {
            requests.close();
            if (!process.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) process.destroyForcibly();
        } catch (IOException e) {
            process.destroyForcibly();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
