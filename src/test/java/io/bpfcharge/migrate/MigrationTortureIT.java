package io.bpfcharge.migrate;

import io.bpfcharge.testing.HostOnly;
import io.bpfcharge.testing.KernelTest;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A slice of the torture run (bench/torture, {@link MigrationTorture}) for every CI run, about 2 minutes on 2 CPUs:
 * two fixed seeds whose first iterations take every map family, both strategies and merges, every writer kind,
 * zero-valued keys under swap-backfill + sum, and both kills. No random seed: CI must answer the same for the same
 * code; bench/torture explores new seeds. Each iteration's lines are in the test's output.
 */
@KernelTest
@HostOnly // a dozen JVM starts per iteration; the kernel paths it crosses run in the VM through MigrateIT and MigrateWritersIT
class MigrationTortureIT {
    private static final int FIXED_ITERATIONS = 6;

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 12})
    void fixedSeedsLoseNothingAndTellTheTruth(long seed) throws Exception {
        torture(seed, FIXED_ITERATIONS);
    }

    private static void torture(long seed, int iterations) throws Exception {
        var options = new MigrationTorture.Options(seed, 0, iterations, false, true, 0);
        assertEquals(0, MigrationTorture.run(options, System.out, false),
                "failed iterations of seed " + seed + " (the lines above; replay: bench/torture --seed " + seed + ")");
    }
}
