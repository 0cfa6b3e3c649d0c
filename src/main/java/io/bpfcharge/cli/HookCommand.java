package io.bpfcharge.cli;

import io.bpfcharge.BpfchargeException;
import io.bpfcharge.hook.Hook;
import io.bpfcharge.oom.Reserve;
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
        "OCI runtime hook (createRuntime; prestart where a runtime lacks it): reads the container state JSON on stdin "
                + "and recharges the container's pinned maps to its memory cgroup before its program starts.",
        "Maps come from the annotation io.bpfcharge.maps (pin paths or globs, comma-separated) and --rules. "
                + "One log line per map on stdout. Fail-open: exits 0 whatever fails (one line on stderr), unless --strict."})
final class HookCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--rules", paramLabel = "FILE", description = "Rules file (YAML) mapping container ids, names or annotations to pin globs; must be root-owned and not group/world-writable.")
    Path rules;

    @Option(names = "--strict", description = "Exit with the first failure's code instead of 0 (a runtime then stops the container).")
    boolean strict;

    @Option(names = "--json-log", description = "Log one JSON object per line (schema in docs/hook.md, Hook log).")
    boolean jsonLog;

    @Option(names = "--reserve", paramLabel = "PERCENT", defaultValue = "25", converter = MigrateCommand.ReserveConverter.class,
            description = "Refuse a move whose surviving BPF bytes would leave the container's processes less than PERCENT of its "
                    + "memory limit (default: ${DEFAULT-VALUE}; 0: off), as migrate does.")
    Reserve reserve;

    /**
     * Fail-open whatever fails: a runtime stops the container when a createRuntime or prestart hook (and, in newer
     * runtimes, a poststart one) exits non-zero, and a charge left where it was is better than a container that
     * cannot start. So a failure before any map (bad state, rules file, missing process or host support) is one
     * line on stderr and exit 0; --strict gives it its exit code.
     */
    @Override
    public Integer call() {
        try {
            // The rules file is checked before stdin is read: a bad file is the operator's, not the container's.
            Rules r = rules == null ? null : Rules.load(rules);
            OciState state = OciState.read(System.in);
            PrintWriter out = spec.commandLine().getOut();
            List<Outcome> outcomes = Hook.run(state, r, reserve, Environment.run(), o -> {
                out.println(jsonLog ? o.json(Instant.now()) : o.text());
                out.flush();
            });
            return Hook.exitCode(outcomes, strict);
        } catch (RuntimeException e) {
            if (strict) throw e;
            BpfchargeException b = BpfchargeException.of(e);
            spec.commandLine().getErr().println("bpfcharge: " + b.getMessage() + " (fail-open: exit 0, the container "
                    + "starts; --strict would exit " + b.exit().code + ")");
            spec.commandLine().getErr().flush();
            return 0;
        }
    }
}
