package io.bpfcharge.testing;

import org.junit.jupiter.api.Tag;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A kernel test whose subject is the same on every kernel and cgroup version (argument checks, TLS, rules
 * files, the journal): `mvn verify` runs it on the host, test/vm/run-scenarios leaves it out of the cgroup v2
 * VM, where every JVM start costs seconds. The v2 paths it passes through are covered there by other tests.
 */
@Target({ElementType.TYPE, ElementType.METHOD})
@Retention(RetentionPolicy.RUNTIME)
@Tag("host-only")
public @interface HostOnly {}
