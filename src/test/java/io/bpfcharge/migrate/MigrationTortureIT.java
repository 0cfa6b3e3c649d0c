package io.bpfcharge.migrate;

import io.bpfcharge.testing.HostOnly;
import io.bpfcharge.testing.KernelTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A slice of the torture run (bench/torture, {@link MigrationTorture}) for every CI run, about 2 minutes on 2 CPUs:
 * two fixed seeds whose first iterations take every map family, both strategies and merges, every writer kind,
 * zero-valued keys under swap-backfill + sum, and both kills; and a few iterations of a random seed, printed with
 * the command that replays it. Each iteration's lines are in the test's output.
 */
@KernelTest
@HostOnly // a dozen JVM starts per iteration; the kernel paths it crosses run in the VM through MigrateIT and MigrateWritersIT
class MigrationTortureIT {
    private static final int FIXED_ITERATIONS = 5, RANDOM_ITERATIONS = 3;

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 12})
    void fixedSeedsLoseNothingAndTellTheTruth(long seed) throws Exception {
        torture(seed, FIXED_ITERATIONS);
    }

    @Test
    void aRandomSeedLosesNothingAndTellsTheTruth() throws Exception {
        torture(new SplittableRandom().nextLong() & Long.MAX_VALUE, RANDOM_ITERATIONS);
    }

    private static void torture(long seed, int iterations) throws Exception {
        var options = new MigrationTorture.Options(seed, 0, iterations, false, true, 0);
        assertEquals(0, MigrationTorture.run(options, System.out, false),
                "failed iterations of seed " + seed + " (the lines above; replay: bench/torture --seed " + seed + ")");
    }
}
