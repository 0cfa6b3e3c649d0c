package io.bpfcharge.cli;

import com.fasterxml.jackson.core.JsonGenerator;
import io.bpfcharge.doctor.Check;
import io.bpfcharge.host.HostFacts;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.List;

/** `doctor`: what the host is, then one line, or one JSON object, per check; a failed check says how to fix it. */
final class DoctorPrinter implements Printer<DoctorPrinter.Report> {
    record Report(HostFacts host, List<Check> checks) {}

    @Override
    public void plain(PrintWriter out, Report r) {
        HostFacts h = r.host();
        out.printf("%-4s %-11s %s, kernel %s, %d CPUs, %s memory, %s swap%n", "", "host", h.os(), h.kernel(), h.cpus(),
                Table.bytes(h.memoryBytes()), Table.bytes(h.swapBytes()));
        for (Check c : r.checks()) {
            out.printf("%-4s %-11s %s%n", c.ok() ? "OK" : "FAIL", c.name(), c.detail());
            if (!c.ok()) out.printf("     %-11s fix: %s%n", "", c.fix());
        }
    }

    @Override
    public void json(JsonGenerator g, Report r) throws IOException {
        g.writeStartObject();
        g.writeBooleanField("ok", r.checks().stream().allMatch(Check::ok));
        HostFacts h = r.host();
        g.writeObjectFieldStart("host");
        g.writeStringField("os", h.os());
        g.writeStringField("kernel", h.kernel());
        g.writeNumberField("cpus", h.cpus());
        g.writeNumberField("memory_bytes", h.memoryBytes());
        g.writeNumberField("swap_bytes", h.swapBytes());
        g.writeEndObject();
        g.writeArrayFieldStart("checks");
        for (Check c : r.checks()) {
            g.writeStartObject();
            g.writeStringField("name", c.name());
            g.writeBooleanField("ok", c.ok());
            g.writeStringField("detail", c.detail());
            Json.string(g, "fix", c.fix());
            g.writeNumberField("exit", c.exit().code);
            g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
    }
}
