package io.bpfcharge.agent;

import io.bpfcharge.migrate.Result;
import io.bpfcharge.BpfchargeException;
import io.bpfcharge.hook.Claim;
import io.bpfcharge.hook.Hook;
import io.bpfcharge.host.Processes;
import io.bpfcharge.hook.Outcome;
import io.bpfcharge.hook.Rules;
import io.bpfcharge.inventory.Inventory;
import io.bpfcharge.inventory.Snapshot;
import io.bpfcharge.migrate.Migrator;
import io.bpfcharge.oom.Reserve;
import io.bpfcharge.provenance.OriginStore;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The node agent ({@code serve --recharge}): keeps every map a running container claims charged to that
 * container's memcg, with no runtime hook. Containers come from the runtimes' state roots; what each claims
 * and whether a map must move is decided by the hook's own code ({@link Hook#claims}, {@link Hook#migrate}),
 * against one scan per reconcile. A reconcile runs when a state root changes (inotify) and every interval.
 * A map claimed by running containers in two memcgs is a conflict and stays where it is.
 */
public final class Agent implements AutoCloseable {
    /** @param origins the state file where the first memcg of each map is kept ({@link OriginStore}) */
    /** @param reserve what each move must leave of its target's limit (migrate's --reserve) */
    public record Options(RuntimeRoots roots, Rules rules, Duration interval, boolean dryRun, Path origins, Reserve reserve) {}

    private final Options options;
    private final Inventory inventory;
    private final RechargeMetrics metrics;
    private final Migrator migrator;
    private final PrintStream log;
    private final Ledger ledger = new Ledger();
    private final RootWatcher watcher;
    private final OriginStore origins;
    private volatile boolean closed;
    private Thread thread;

    public Agent(Options options, Inventory inventory, RechargeMetrics metrics, Migrator migrator, PrintStream log)
            throws IOException {
        this.options = options;
        this.inventory = inventory;
        this.metrics = metrics;
        this.migrator = migrator;
        this.log = log;
        this.watcher = new RootWatcher();
        this.origins = OriginStore.open(options.origins());
        // Scans of this inventory (the daemon's scrapes too) read origins from the store the agent keeps, not from
        // its file: one copy in the heap, no parse after each save.
        inventory.origins(origins::all);
    }

    /** Reconciles now and then on every state-root change and every interval, on a thread of its own. */
    public void start() {
        thread = Thread.ofPlatform().name("bpfcharge-recharge").start(this::loop);
    }

    private void loop() {
        while (!closed) {
            watcher.rewatch(options.roots());
            long now = System.nanoTime();
            try {
                reconcile(now);
            } catch (RuntimeException e) {
                say("bpfcharge recharge: reconcile failed: " + e.getMessage());
            }
            metrics.reconciled();
            long next = ledger.nextDue(now + options.interval().toNanos());
            try {
                watcher.await(Duration.ofNanos(Math.max(0, next - System.nanoTime())));
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** One container's claims against one scan. */
    private record Decided(Container container, String target, List<Claim> claims) {}

    /** One pass: find running containers, decide against one scan, migrate what must move. */
    void reconcile(long now) {
        // A migration cut short (this agent killed mid-way, or a hook or CLI run) converges before anything is decided.
        if (!options.dryRun()) for (String line : migrator.recover()) say("bpfcharge recharge: " + line);
        List<Container> running = options.roots().scan();
        ledger.running(running.stream().map(Container::instance).collect(Collectors.toSet()), now);
        Snapshot snapshot = inventory.scan();
        List<Decided> decided = new ArrayList<>();
        Map<String, String> containerOf = new HashMap<>();
        List<Container> counted = new ArrayList<>(running.size());
        for (Container c : running) {
            Hook.Target target;
            try {
                target = Hook.containerCgroup(inventory.hierarchy(), c.pid());
            } catch (BpfchargeException e) {
                // Gone since the state roots were read (its process, or a new one with its pid), or a cgroup this
                // agent cannot name (another cgroup namespace): the latter still runs, and still counts.
                if (Processes.startTicks(c.pid()) == c.started()) counted.add(c);
                continue;
            }
            counted.add(c);
            containerOf.putIfAbsent(target.path(), c.id());
            try {
                List<Claim> claims = Hook.claims(c.state(), options.rules(), target, snapshot);
                if (!claims.isEmpty()) decided.add(new Decided(c, target.path(), claims));
            } catch (BpfchargeException e) {
                report(c, new Outcome(c.id(), "", "(claims)", 0, "", Result.REFUSED, null, null, 0, 0,
                        BpfchargeException.Exit.REFUSED, e.getMessage()));
            }
        }
        // Passive, so also in a dry run: where each map was first charged, before its cgroup can be removed.
        if (origins.record(snapshot, containerOf)) origins.save();
        // Counted before anything moves, without those that stopped during the scan: they are no claimants either,
        // so the gauge agrees with the moves a scrape may already see.
        metrics.containers(counted);
        Map<Integer, Map<String, Container>> claimants = claimants(decided);
        Set<String> claimed = new HashSet<>();
        for (Decided d : decided) {
            boolean complete = true, any = false;
            for (Claim claim : d.claims()) {
                switch (claim) {
                    case Claim.Settled s -> {
                        Outcome o = s.outcome();
                        any |= o.mapId() != 0;
                        if (o.result() == Result.UNCHANGED && o.mapId() != 0 && conflicted(claimants, o.mapId()))
                            o = o.with(Result.CONFLICT, conflictWith(claimants, o.mapId(), d));
                        if (o.result() != Result.NO_MATCH) complete &= o.result() == Result.UNCHANGED;
                        report(d.container(), o);
                    }
                    case Claim.Move m -> {
                        any = true;
                        complete &= move(d, m, claimants, claimed, now);
                    }
                }
            }
            if (complete && any) {
                long ns = ledger.charged(d.container().instance(), now);
                if (ns >= 0) metrics.recharged(Duration.ofNanos(System.nanoTime() - now + ns));
            }
        }
        ledger.claimed(claimed);
    }

    /** Migrates one claimed map unless it is in conflict, backing off, or this is a dry run; true when it is charged there now. */
    private boolean move(Decided d, Claim.Move m, Map<Integer, Map<String, Container>> claimants, Set<String> claimed, long now) {
        Container c = d.container();
        String map = m.map() == null ? m.spec() : "id:" + m.map().id();
        Outcome planned = new Outcome(c.id(), m.source(), m.pin(), m.map() == null ? 0 : m.map().id(),
                m.map() == null ? "" : m.map().info().name(), Result.UNCHANGED,
                m.map() == null || m.map().memcg() == null ? null : m.map().memcg().path(), d.target(), 0, 0,
                BpfchargeException.Exit.OK, "");
        if (m.map() != null && conflicted(claimants, m.map().id())) {
            report(c, planned.with(Result.CONFLICT, conflictWith(claimants, m.map().id(), d)));
            return false;
        }
        if (options.dryRun()) {
            report(c, planned.with(Result.DRY_RUN, "would migrate from " + planned.from() + " to " + d.target()));
            return false;
        }
        claimed.add(map);
        if (!ledger.due(map, now)) return false;
        Outcome o = Hook.migrate(migrator, c.state(), d.target(), m, options.reserve());
        boolean charged = o.result() == Result.MIGRATED || o.result() == Result.UNCHANGED;
        if (charged) ledger.succeeded(map);
        else ledger.failed(map, now);
        report(c, o);
        return charged;
    }

    /** Per map id, the memcgs of the running containers that claim it (and one container per memcg). */
    private static Map<Integer, Map<String, Container>> claimants(List<Decided> decided) {
        Map<Integer, Map<String, Container>> out = new HashMap<>();
        for (Decided d : decided)
            for (Claim claim : d.claims()) {
                int id = switch (claim) {
                    case Claim.Settled s -> s.outcome().result() == Result.UNCHANGED ? s.outcome().mapId() : 0;
                    case Claim.Move m -> m.map() == null ? 0 : m.map().id();
                };
                if (id != 0) out.computeIfAbsent(id, k -> new LinkedHashMap<>()).putIfAbsent(d.target(), d.container());
            }
        return out;
    }

    private static boolean conflicted(Map<Integer, Map<String, Container>> claimants, int mapId) {
        return claimants.getOrDefault(mapId, Map.of()).size() > 1;
    }

    /** The conflict's message: the other claimants. */
    private static String conflictWith(Map<Integer, Map<String, Container>> claimants, int mapId, Decided d) {
        TreeSet<String> others = new TreeSet<>();
        claimants.get(mapId).forEach((cg, c) -> {
            if (!cg.equals(d.target())) others.add("container " + c.id() + " in " + cg);
        });
        return "also claimed by " + String.join(", ", others) + ": left where it is until one claim remains";
    }

    private static String key(Outcome o) { return o.pin() + "#" + o.mapId(); }

    /** Logs and counts a result once per container start and key (a migration every time). */
    private void report(Container c, Outcome o) {
        if (!ledger.report(c.instance(), key(o), o.pin(), o.result())) return;
        metrics.count(o.result());
        say(o.text("bpfcharge recharge"));
    }

    private void say(String line) {
        synchronized (log) {
            log.println(line);
            log.flush();
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        closed = true;
        watcher.close();
        if (thread != null) thread.join(Duration.ofSeconds(60));
    }
}
