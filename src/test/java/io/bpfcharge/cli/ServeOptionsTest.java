package io.bpfcharge.cli;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** serve's option combinations that are usage errors, refused before anything needs root. */
class ServeOptionsTest {
    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            --runtime-roots-only                        | bpfcharge: --runtime-roots-only needs --recharge: add it, or drop --runtime-roots-only
            --recharge --runtime-roots-only             | bpfcharge: --runtime-roots-only watches no root without --runtime-root DIR: add one, or drop --runtime-roots-only
            --recharge --runtime-root rt --runtime-roots-only | bpfcharge: --runtime-root rt is not an absolute path
            """)
    void refused(String args, String error) {
        StringWriter err = new StringWriter();
        // A stray --oom-map-interval is refused right after these checks: should one of them let its case through,
        // the test fails on that message instead of serving on the default port until killed.
        String[] argv = ("serve --oom-map-interval 1 " + args).split(" ");
        assertEquals(2, Main.run(new PrintWriter(new StringWriter()), new PrintWriter(err), argv), err.toString());
        assertEquals(error, err.toString().strip());
    }
}
