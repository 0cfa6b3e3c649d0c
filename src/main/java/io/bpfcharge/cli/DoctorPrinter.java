package io.bpfcharge.cli;

import com.fasterxml.jackson.core.JsonGenerator;
import io.bpfcharge.doctor.Check;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.List;

/** `doctor`: one line, or one JSON object, per check; a failed check says how to fix it. */
final class DoctorPrinter implements Printer<List<Check>> {
    @Override
    public void plain(PrintWriter out, List<Check> checks) {
        for (Check c : checks) {
            out.printf("%-4s %-11s %s%n", c.ok() ? "OK" : "FAIL", c.name(), c.detail());
            if (!c.ok()) out.printf("     %-11s fix: %s%n", "", c.fix());
        }
    }

    @Override
    public void json(JsonGenerator g, List<Check> checks) throws IOException {
        g.writeStartObject();
        g.writeBooleanField("ok", checks.stream().allMatch(Check::ok));
        g.writeArrayFieldStart("checks");
        for (Check c : checks) {
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
