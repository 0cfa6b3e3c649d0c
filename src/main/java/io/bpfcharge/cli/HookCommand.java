package io.bpfcharge.cli;

import io.bpfcharge.hook.Hook;
import io.bpfcharge.hook.OciState;
import io.bpfcharge.hook.Outcome;
import io.bpfcharge.hook.Rules;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "hook", description = {
        "OCI runtime hook (poststart): reads the container state JSON on stdin and recharges the container's pinned maps "
                + "to its memory cgroup.",
        "Maps come from the annotation io.bpfcharge.maps (pin paths or globs, comma-separated) and --rules. "
                + "One log line per map on stdout. Fail-open unless --strict."})
final class HookCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--rules", paramLabel = "FILE", description = "Rules file (YAML) mapping container ids, names or annotations to pin globs; must be root-owned and not group/world-writable.")
    Path rules;

    @Option(names = "--strict", description = "Exit with the first failed map's code instead of 0.")
    boolean strict;

    @Option(names = "--json-log", description = "Log one JSON object per line (schema in docs/hook.md, Hook log).")
    boolean jsonLog;

    @Override
    public Integer call() {
        // The rules file is checked before stdin is read: a bad file is the operator's, not the container's.
        Rules r = rules == null ? null : Rules.load(rules);
        OciState state = OciState.read(System.in);
        PrintWriter out = spec.commandLine().getOut();
        List<Outcome> outcomes = Hook.run(state, r, o -> {
            out.println(jsonLog ? o.json(Instant.now()) : o.text());
            out.flush();
        });
        return Hook.exitCode(outcomes, strict);
    }
}
