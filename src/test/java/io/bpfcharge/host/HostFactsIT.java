package io.bpfcharge.host;

import com.fasterxml.jackson.databind.JsonNode;
import io.bpfcharge.Mappers;
import io.bpfcharge.testing.Cli;
import io.bpfcharge.testing.HostTools;
import io.bpfcharge.testing.KernelTest;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** `doctor` names the node as the host's own tools do (uname, getconf, free, /etc/os-release in a shell). */
@KernelTest
class HostFactsIT {
    @Test
    void doctorNamesTheNodeAsItsToolsDo() throws Exception {
        HostTools.Facts tools = HostTools.read();
        Cli.Result r = Cli.run("doctor", "--json");
        assertEquals(0, r.exit(), r.out() + r.err());
        JsonNode host = Mappers.JSON.readTree(r.out()).get("host");
        assertEquals(tools.os(), host.get("os").asText());
        assertEquals(tools.kernel(), host.get("kernel").asText());
        assertEquals(tools.cpus(), host.get("cpus").asInt());
        assertEquals(tools.memoryBytes(), host.get("memory_bytes").asLong());
        assertEquals(tools.swapBytes(), host.get("swap_bytes").asLong());

        Cli.Result plain = Cli.run("doctor");
        String first = plain.out().lines().findFirst().orElse("");
        assertTrue(first.contains("host") && first.contains(tools.os() + ", kernel " + tools.kernel() + ", " + tools.cpus() + " CPUs, "), plain.out());
    }
}
