package io.bpfcharge.cli;

import io.bpfcharge.BpfchargeException;
import io.bpfcharge.doctor.Check;
import io.bpfcharge.doctor.Checks;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "doctor", description = "Checks privileges, kernel, BTF, bpffs, cgroup mode, libbpf and the iterator; prints a fix for each problem.")
final class DoctorCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Override
    public Integer call() {
        List<Check> checks = Checks.all();
        PrintWriter out = spec.commandLine().getOut();
        for (Check c : checks) {
            out.printf("%-4s %-11s %s%n", c.ok() ? "OK" : "FAIL", c.name(), c.detail());
            if (!c.ok()) out.printf("     %-11s fix: %s%n", "", c.fix());
        }
        out.flush();
        return checks.stream().filter(c -> !c.ok()).findFirst()
                .map(c -> c.exit().code).orElse(BpfchargeException.Exit.OK.code);
    }
}
