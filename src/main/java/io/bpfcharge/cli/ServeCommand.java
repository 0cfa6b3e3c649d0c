package io.bpfcharge.cli;

import io.bpfcharge.BpfchargeException;
import io.bpfcharge.BpfchargeException.Exit;
import io.bpfcharge.agent.Agent;
import io.bpfcharge.agent.RuntimeRoots;
import io.bpfcharge.daemon.Daemon;
import io.bpfcharge.doctor.Checks;
import io.bpfcharge.hook.Rules;
import io.bpfcharge.bpffs.Pins;
import io.bpfcharge.cgroup.MemoryHierarchy;
import io.bpfcharge.migrate.Requests;
import java.nio.file.Files;
import io.bpfcharge.metrics.MetricsServer;
import io.bpfcharge.oom.Reserve;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

@Command(name = "serve", description = {
        "Prometheus exporter: BPF memory per map and per memory cgroup, stranded charges, migrations.",
        "Endpoints: /metrics, / (landing page), /-/healthy, /-/ready. Read-only unless --recharge. Stops on SIGTERM or SIGINT; SIGHUP re-reads --web-config.",
        "--recharge: also the node agent. It finds running containers in the OCI runtimes' state roots and keeps every map "
                + "a container claims (annotation io.bpfcharge.maps, --rules) charged to its memory cgroup, as the hook "
                + "would; one log line per result on stdout (see docs/agent.md)."})
final class ServeCommand implements Callable<Integer> {
    /** Outside the exporters' 9100-9999 range (all allocated) and below the ephemeral ports. */
    static final int DEFAULT_PORT = 18613;

    @Spec CommandSpec spec;

    @Option(names = "--listen", paramLabel = "ADDR:PORT", defaultValue = ":" + DEFAULT_PORT,
            description = "Address to listen on: ADDR:PORT, [IPV6]:PORT, or ':PORT' for every interface (default: ${DEFAULT-VALUE}).")
    String listen;

    @Option(names = "--max-map-series", paramLabel = "N", defaultValue = "1000",
            description = "Keep the N largest maps as their own series; sum the rest per cgroup into map_id=\"other\". 0: no limit (default: ${DEFAULT-VALUE}).")
    int maxMapSeries;

    @Option(names = {"--web-config", "--web.config.file"}, paramLabel = "FILE",
            description = "Prometheus web config file (exporter-toolkit format): tls_server_config and basic_auth_users (bcrypt). "
                    + "Read again when it or a file it names changes, and on SIGHUP; a bad new one leaves the last good one in force (docs/monitoring.md).")
    Path webConfig;

    @Option(names = "--max-scan-age", paramLabel = "SECONDS", defaultValue = "2",
            description = "A scrape may show a scan up to this old; concurrent scrapes always share one scan (default: ${DEFAULT-VALUE}).")
    double maxScanAge;

    @Option(names = "--max-connections", paramLabel = "N", defaultValue = "" + MetricsServer.DEFAULT_MAX_CONNECTIONS,
            description = "Open connections at most; more are closed at once (plain HTTP: 503). A request head must arrive within 10 s, idle connections close after 60 s (default: ${DEFAULT-VALUE}).")
    int maxConnections;

    @Option(names = "--max-connections-per-source", paramLabel = "N", defaultValue = "" + MetricsServer.DEFAULT_MAX_PER_SOURCE,
            description = "Open connections from one client address at most, so that one client cannot starve the others "
                    + "(health probes, Prometheus); more are closed at once. 0: no limit (default: ${DEFAULT-VALUE}).")
    int maxPerSource;

    @Option(names = "--recharge", description = "Run the node agent: recharge every claimed map to its running container's memcg.")
    boolean recharge;

    @Option(names = "--rules", paramLabel = "FILE", description = "With --recharge: the hook's rules file (root-owned, not group/world-writable).")
    Path rules;

    @Option(names = "--runtime-root", paramLabel = "DIR", description = "With --recharge: another runtime state root to "
            + "search for containers (repeatable), besides the defaults unless --runtime-roots-only: /run/runc, /run/crun, /run/containerd/runc, "
            + "/run/containerd/io.containerd.runtime.v2.task, /run/containers/storage/overlay-containers, /run/docker/runtime-runc.")
    List<Path> runtimeRoots = new ArrayList<>();

    @Option(names = "--runtime-roots-only", description = "With --recharge: watch only the --runtime-root directories, "
            + "not the default roots (a host where other runtimes' containers are not the agent's to recharge).")
    boolean runtimeRootsOnly;

    @Option(names = "--recharge-interval", paramLabel = "SECONDS", defaultValue = "30",
            description = "With --recharge: reconcile every container at least this often; state-root changes trigger one at once (default: ${DEFAULT-VALUE}).")
    double rechargeInterval;

    @Option(names = "--reserve", paramLabel = "PERCENT", defaultValue = "25", converter = MigrateCommand.ReserveConverter.class,
            description = "With --recharge: refuse a move whose surviving BPF bytes would leave the container's processes less "
                    + "than PERCENT of its memory limit (default: ${DEFAULT-VALUE}; 0: off), as migrate does.")
    Reserve reserve;

    @Option(names = "--recharge-dry-run", description = "With --recharge: log and count what would be migrated; change nothing.")
    boolean rechargeDryRun;

    @Option(names = "--oom-map", paramLabel = "PIN",
            description = "Keep a map pinned at PIN (in bpffs) for BPF OOM policies: per cgroup id, its BPF bytes, those a kill "
                    + "would not free and those stranded, written after every scan (layout: bpf/bpfcharge_oom.h; docs/oom.md).")
    Path oomMap;

    @Option(names = "--oom-map-interval", paramLabel = "SECONDS", defaultValue = "5",
            description = "With --oom-map or --oomd-avoid: scan at least this often even without scrapes (default: ${DEFAULT-VALUE}).")
    double oomMapInterval;

    @Option(names = "--oomd-avoid", paramLabel = "CGROUP",
            description = "After every scan, set oomd's trusted.oomd_avoid on exactly the leaf cgroups below CGROUP (cgroup v2) that "
                    + "oomd's kill_by_memory_size_or_growth ranks above the one whose kill frees the most, because BPF bytes "
                    + "that survive a kill inflate them; only its own marks are ever removed, all of them on exit (docs/oom.md).")
    String oomdAvoid;

    @Override
    public Integer call() throws IOException, InterruptedException {
        InetSocketAddress address = address(listen);
        if (maxMapSeries < 0) throw new BpfchargeException(Exit.USAGE, "--max-map-series must be 0 (no limit) or more");
        if (maxConnections < 1) throw new BpfchargeException(Exit.USAGE, "--max-connections must be 1 or more");
        if (maxPerSource < 0) throw new BpfchargeException(Exit.USAGE, "--max-connections-per-source must be 0 (no limit) or more");
        if (!(maxScanAge >= 0)) throw new BpfchargeException(Exit.USAGE, "--max-scan-age must be 0 or more seconds");
        Agent.Options agentOptions = agentOptions();
        String oomd = oomdAvoidCgroup();
        Path oomPin = oomMapPin(oomd != null);
        Checks.requireAll();
        MetricsServer.endProcessOnError();
        Daemon.Config config = new Daemon.Config(address, maxMapSeries, Duration.ofNanos((long) (maxScanAge * 1e9)), webConfig,
                maxConnections, maxPerSource, oomPin, Duration.ofNanos((long) (oomMapInterval * 1e9)), oomd, agentOptions,
                Environment.run(), Environment.origins(), new Main.Version().getVersion()[0].replace("bpfcharge ", ""));
        Daemon daemon;
        try {
            daemon = Daemon.start(config, System.out, System.err);
        } catch (BindException e) {
            throw new BpfchargeException(Exit.USAGE, "cannot listen on " + listen + ": " + e.getMessage() + ": pick another --listen");
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            daemon.close();
            stopped.countDown();
        }));
        // SIGHUP reloads the web config, as Prometheus does, instead of ending the process (the JVM's default), so that
        // `systemctl reload` is safe with or without one. sun.misc.Signal: in jdk.unsupported, no JVM flag needed.
        sun.misc.SignalHandler before = sun.misc.Signal.handle(new sun.misc.Signal("HUP"), hup -> {
            if (!daemon.reloadWebConfig()) System.err.println("bpfcharge: serve: SIGHUP: no --web-config to reload");
        });
        // A signal ignored by the parent (nohup) stays ignored in a JVM, and the handler above never runs.
        if (before == sun.misc.SignalHandler.SIG_IGN)
            System.err.println("bpfcharge: serve: SIGHUP is ignored by this process (its parent ignored it, as nohup does): "
                    + "kill -HUP will not reload the web config, a change to its files still does; start it without nohup");
        spec.commandLine().getErr().printf("bpfcharge: serving %s%n", daemon.metricsUrl());
        spec.commandLine().getErr().flush();
        daemon.startAgent(); // after the line above: tests and supervisors wait for it
        stopped.await();
        return 0;
    }

    /** The agent's options, checked before anything starts; null without --recharge. */
    private Agent.Options agentOptions() {
        if (!recharge) {
            String stray = rules != null ? "--rules" : !runtimeRoots.isEmpty() ? "--runtime-root"
                    : runtimeRootsOnly ? "--runtime-roots-only" : rechargeDryRun ? "--recharge-dry-run"
                    : spec.commandLine().getParseResult().hasMatchedOption("--recharge-interval") ? "--recharge-interval"
                    : spec.commandLine().getParseResult().hasMatchedOption("--reserve") ? "--reserve" : null;
            if (stray != null) throw new BpfchargeException(Exit.USAGE, stray + " needs --recharge: add it, or drop " + stray);
            return null;
        }
        if (!(rechargeInterval > 0) || rechargeInterval > 86400)
            throw new BpfchargeException(Exit.USAGE, "--recharge-interval must be more than 0 and at most 86400 seconds");
        for (Path root : runtimeRoots)
            if (!root.isAbsolute()) throw new BpfchargeException(Exit.USAGE, "--runtime-root " + root + " is not an absolute path");
        if (runtimeRootsOnly && runtimeRoots.isEmpty())
            throw new BpfchargeException(Exit.USAGE, "--runtime-roots-only watches no root without --runtime-root DIR: add one, or drop --runtime-roots-only");
        Rules r = rules == null ? null : Rules.load(rules);
        return new Agent.Options(RuntimeRoots.of(runtimeRoots, runtimeRootsOnly), r, Duration.ofNanos((long) (rechargeInterval * 1e9)), rechargeDryRun,
                Environment.origins(), reserve);
    }

    /** The --oomd-avoid cgroup as a hierarchy path, checked before anything starts; null without it. */
    private String oomdAvoidCgroup() {
        if (oomdAvoid == null) return null;
        MemoryHierarchy h = MemoryHierarchy.detect();
        if (h.version() != 2)
            throw new BpfchargeException(Exit.USAGE, "--oomd-avoid needs the cgroup v2 memory controller (oomd runs only there); this host's is v1: drop --oomd-avoid");
        return Requests.cgroup(h, oomdAvoid);
    }

    /** The --oom-map pin, checked before anything starts; null without it. */
    private Path oomMapPin(boolean oomdMarks) {
        if (spec.commandLine().getParseResult().hasMatchedOption("--oom-map-interval") && oomMap == null && !oomdMarks)
            throw new BpfchargeException(Exit.USAGE, "--oom-map-interval needs --oom-map or --oomd-avoid: add one, or drop --oom-map-interval");
        if (!(oomMapInterval > 0) || oomMapInterval > 3600)
            throw new BpfchargeException(Exit.USAGE, "--oom-map-interval must be more than 0 and at most 3600 seconds");
        if (oomMap == null) return null;
        Path pin = oomMap.toAbsolutePath().normalize();
        Path dir = pin.getParent();
        if (dir == null || !Files.isDirectory(dir) || Pins.mountOf(dir) == null)
            throw new BpfchargeException(Exit.USAGE, "--oom-map " + oomMap + ": its directory is not in a bpffs mount: give a path under /sys/fs/bpf");
        if (pin.getFileName().toString().contains("."))
            throw new BpfchargeException(Exit.USAGE, "--oom-map " + oomMap + ": bpffs refuses names with '.': pick another name");
        return pin;
    }

    /** "ADDR:PORT", ":PORT" or "[v6]:PORT". */
    static InetSocketAddress address(String listen) {
        int colon = listen.lastIndexOf(':');
        String host = colon < 0 ? "" : listen.substring(0, colon);
        int port;
        try {
            port = Integer.parseInt(listen.substring(colon + 1));
        } catch (NumberFormatException e) {
            port = -1;
        }
        if (colon < 0 || port < 0 || port > 65535)
            throw new BpfchargeException(Exit.USAGE, "--listen " + listen + " is not ADDR:PORT: write e.g. 127.0.0.1:" + DEFAULT_PORT + " or :" + DEFAULT_PORT);
        if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
        if (host.isEmpty()) return new InetSocketAddress(port);
        InetSocketAddress a = new InetSocketAddress(host, port);
        if (a.isUnresolved())
            throw new BpfchargeException(Exit.USAGE, "--listen " + listen + ": cannot resolve " + host + ": give an IP address");
        return a;
    }
}
