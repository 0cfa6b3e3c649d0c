package io.bpfcharge.metrics;

import io.bpfcharge.metrics.Negotiation.Format;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NegotiationTest {
    @Test
    void theFormatWithTheHighestQWins() {
        assertEquals(Format.TEXT, Negotiation.format(null));
        assertEquals(Format.TEXT, Negotiation.format("*/*"));
        assertEquals(Format.TEXT, Negotiation.format("application/json"), "nothing acceptable: the default");
        assertEquals(Format.TEXT, Negotiation.format("application/openmetrics-text;q=0, text/plain"));
        assertEquals(Format.TEXT, Negotiation.format("application/openmetrics-text;q=0"));
        assertEquals(Format.TEXT, Negotiation.format("application/openmetrics-text;q=0.2, text/plain;q=0.5"));
        assertEquals(Format.TEXT, Negotiation.format("application/openmetrics-text;q=0, */*"), "excluded by name, whatever */* says");
        assertEquals(Format.OPENMETRICS, Negotiation.format("text/plain;q=0, */*"));
        assertEquals(Format.OPENMETRICS, Negotiation.format("text/plain;q=0.5, application/openmetrics-text"));
        assertEquals(Format.OPENMETRICS, Negotiation.format("application/openmetrics-text, text/plain"), "equal: the first named");
        assertEquals(Format.OPENMETRICS, Negotiation.format("text/*;q=0.5, application/*;q=0.6"));
        assertEquals(Format.TEXT, Negotiation.format("APPLICATION/OPENMETRICS-TEXT;Q=0, TEXT/PLAIN"), "names and q are case-insensitive");
        assertEquals(Format.TEXT, Negotiation.format("application/openmetrics-text;q=2, text/plain"), "a malformed q counts as 0");
        // Prometheus 3.x and 2.x scrape headers.
        assertEquals(Format.OPENMETRICS, Negotiation.format("application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,"
                + "application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,"
                + "text/plain;version=0.0.4;q=0.2,*/*;q=0.1"));
        assertEquals(Format.OPENMETRICS, Negotiation.format("application/openmetrics-text;version=1.0.0,"
                + "application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"));
        assertEquals(Format.TEXT, Negotiation.format("text/plain;version=0.0.4;q=1,*/*;q=0.1"), "Prometheus with scrape_protocols text only");
    }

    @Test
    void gzipWhenItsQIsAboveZero() {
        assertFalse(Negotiation.gzip(null));
        assertFalse(Negotiation.gzip(""));
        assertTrue(Negotiation.gzip("gzip"));
        assertTrue(Negotiation.gzip("deflate, GZIP;q=0.5"));
        assertTrue(Negotiation.gzip("x-gzip"));
        assertTrue(Negotiation.gzip("*"));
        assertFalse(Negotiation.gzip("gzip;q=0"));
        assertFalse(Negotiation.gzip("gzip;q=0.000, *"), "named beats *");
        assertFalse(Negotiation.gzip("*;q=0"));
        assertFalse(Negotiation.gzip("br, zstd, identity"));
    }
}
