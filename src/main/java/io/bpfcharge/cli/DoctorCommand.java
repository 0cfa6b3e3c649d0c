package io.bpfcharge.cli;

import io.bpfcharge.BpfchargeException;
import io.bpfcharge.doctor.Check;
import io.bpfcharge.doctor.Checks;
import io.bpfcharge.host.HostFacts;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "doctor", description = "Names the host (OS, kernel, CPUs, memory) and checks privileges, kernel, BTF, bpffs, cgroup mode, libbpf and the iterator; prints a fix for each problem.")
final class DoctorCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--json", description = "Print JSON (schema in docs/json.md).")
    boolean json;

    @Override
    public Integer call() {
        List<Check> checks = Checks.all();
        new DoctorPrinter().print(spec.commandLine().getOut(), json, new DoctorPrinter.Report(HostFacts.read(), checks));
        return checks.stream().filter(c -> !c.ok()).findFirst()
                .map(c -> c.exit().code).orElse(BpfchargeException.Exit.OK.code);
    }
}
