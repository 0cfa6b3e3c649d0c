package io.bpfcharge.metrics;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class MetricsServerTest {
    @Test
    void ipv6AddressesInTheStartLineAreInTheirShortForm() {
        assertEquals("::1", MetricsServer.shortIpv6("0:0:0:0:0:0:0:1"));
        assertEquals("::", MetricsServer.shortIpv6("0:0:0:0:0:0:0:0"));
        assertEquals("fe80::1:2:3:4", MetricsServer.shortIpv6("fe80:0:0:0:1:2:3:4"));
        assertEquals("1:0:0:2::3", MetricsServer.shortIpv6("1:0:0:2:0:0:0:3"), "the longest run");
        assertEquals("::1:0:0:1:1:1", MetricsServer.shortIpv6("0:0:1:0:0:1:1:1"), "the first of equal runs");
        assertEquals("1::", MetricsServer.shortIpv6("1:0:0:0:0:0:0:0"));
        assertEquals("1:0:2:3:4:5:6:7", MetricsServer.shortIpv6("1:0:2:3:4:5:6:7"), "one zero group stays");
        assertEquals("2001:db8::a", MetricsServer.shortIpv6("2001:db8:0:0:0:0:0:a"));
    }
}
