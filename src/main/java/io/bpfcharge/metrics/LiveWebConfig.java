package io.bpfcharge.metrics;

import io.bpfcharge.BpfchargeException;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import javax.net.ssl.SSLSocket;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The web config in force, read again when it or a file it names (certificate, key, client CA)
 * changes, and on {@link #reload()} (SIGHUP): every request and every TLS handshake first stats
 * those files (up to four stat calls) and compares them with what was loaded. A change is a new
 * inode (a rename into place, as kubelet and cert-manager do), a new ctime, mtime or size. A new
 * config that cannot be used leaves the last good one in force, logs one line, and shows as
 * {@code bpfcharge_web_config_last_reload_successful 0} until a good one loads, as Prometheus'
 * {@code prometheus_config_last_reload_successful} does.
 */
final class LiveWebConfig implements TlsSockets {
    /** A file as stat saw it; {@link #ABSENT} when it is missing or cannot be stat'ed. */
    private record Stamp(Object dev, Object ino, FileTime ctime, FileTime mtime, long size) {
        static final Stamp ABSENT = new Stamp(null, null, null, null, -1);
    }

    /** The config in force and the files the last attempt read (the web config first), as they were before it read them. */
    private record State(WebConfig config, Map<Path, Stamp> files) {}

    private final Path file;
    private final Consumer<String> log;
    private final Runnable metersChanged;
    private final BasicAuth auth = new BasicAuth();
    private volatile State state;
    private volatile boolean lastReloadOk = true;
    private volatile double lastSuccessSeconds;

    /**
     * Reads {@code file}; a bad one is a {@link BpfchargeException} (exit 2), as at any start.
     * @param log gets one line per reload, good or bad
     */
    LiveWebConfig(Path file, MeterRegistry registry, Runnable metersChanged, Consumer<String> log) {
        this.file = file;
        this.log = log;
        this.metersChanged = metersChanged;
        Map<Path, Stamp> before = stamps(List.of(file));
        List<Path> read = new ArrayList<>();
        WebConfig config = WebConfig.read(file, read);
        state = new State(config, stampsOf(read, before));
        lastSuccessSeconds = System.currentTimeMillis() / 1000.0;
        Gauge.builder("bpfcharge.web.config.last.reload.successful", this, c -> c.lastReloadOk ? 1 : 0)
                .description("Whether the last load of the web config (--web-config) succeeded: 0 while a bad one is ignored")
                .strongReference(true).register(registry);
        Gauge.builder("bpfcharge.web.config.last.reload.success.timestamp.seconds", this, c -> c.lastSuccessSeconds)
                .description("When the web config in force was loaded (Unix time)").strongReference(true).register(registry);
    }

    /** The config in force, loaded again first if one of its files changed. */
    WebConfig current() {
        State s = state;
        if (stamps(s.files.keySet()).equals(s.files)) return s.config;
        synchronized (this) {
            Map<Path, Stamp> now = stamps(state.files.keySet());
            if (!now.equals(state.files)) load(now);
            return state.config;
        }
    }

    /** Loads the web config again, changed or not (SIGHUP). */
    synchronized void reload() { load(stamps(state.files.keySet())); }

    BasicAuth.Verdict authorize(String header) { return auth.check(current().users(), header); }

    @Override
    public SSLSocket wrap(Socket accepted) throws IOException { return current().tls().wrap(accepted); }

    /** @param before the files' stamps before this reads them: a change while it reads is seen at the next check */
    private void load(Map<Path, Stamp> before) {
        WebConfig old = state.config;
        List<Path> read = new ArrayList<>();
        String error;
        WebConfig config = null;
        try {
            config = WebConfig.read(file, read);
            // The listener was opened for HTTPS or for HTTP at start; switching needs a restart, as with exporter-toolkit.
            error = (config.tls() == null) == (old.tls() == null) ? null : "tls_server_config cannot be "
                    + (old.tls() == null ? "added" : "removed") + " while serving: restart bpfcharge serve for that";
        } catch (BpfchargeException e) {
            error = e.getMessage();
        }
        state = new State(error == null ? config : old, stampsOf(read, before));
        lastReloadOk = error == null;
        if (error == null) {
            lastSuccessSeconds = System.currentTimeMillis() / 1000.0;
            log.accept("web config " + file + " reloaded");
        } else {
            log.accept("web config " + file + " not reloaded, the last good one stays in force: " + error);
        }
        metersChanged.run();
    }

    private static Map<Path, Stamp> stampsOf(List<Path> read, Map<Path, Stamp> before) {
        Map<Path, Stamp> out = new LinkedHashMap<>();
        for (Path p : read) out.put(p, before.containsKey(p) ? before.get(p) : stamp(p));
        return out;
    }

    private static Map<Path, Stamp> stamps(Collection<Path> files) {
        Map<Path, Stamp> out = new LinkedHashMap<>();
        for (Path p : files) out.put(p, stamp(p));
        return out;
    }

    /** One stat(2), following symbolic links (a Kubernetes secret volume swaps a link to a new directory). */
    private static Stamp stamp(Path p) {
        try {
            Map<String, Object> a = Files.readAttributes(p, "unix:dev,ino,ctime,lastModifiedTime,size");
            return new Stamp(a.get("dev"), a.get("ino"), (FileTime) a.get("ctime"), (FileTime) a.get("lastModifiedTime"),
                    (Long) a.get("size"));
        } catch (IOException | UnsupportedOperationException e) {
            return Stamp.ABSENT;
        }
    }
}
