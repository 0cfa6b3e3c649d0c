package io.bpfcharge.testing;

import org.junit.jupiter.api.Tag;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A kernel test whose subject exists only on the cgroup v2 memory controller (memory.oom.group, PSI per
 * cgroup, oomd). `mvn verify` leaves it out where the memory controller is v1 (the pom's `cgroup-v1-host`
 * profile, active when /sys/fs/cgroup/cgroup.controllers is missing); test/vm/run-scenarios runs it in the
 * cgroup v2 VM. Use it with {@link KernelTest}; the test itself checks the mode and fails on v1, so that
 * it never passes by running nothing.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Tag("cgroup-v2")
public @interface CgroupV2Only {}
