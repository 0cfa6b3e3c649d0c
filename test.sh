#!/usr/bin/env bash
# The whole test suite, as root on Debian 12: sets up the host, then runs unit and
# real-kernel integration tests (Maven Surefire prints how many ran, failed and skipped).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
export JAVA_HOME; JAVA_HOME=$(scripts/setup --deploy)
mvn -B verify
test/vm/run-scenarios    # the *IT classes again in a QEMU VM: Debian's 6.1 kernel, cgroup v2 (prints the count)
# Debian 13's and sid's kernels: the kernel-facing core (CO-RE iterators, charges, one map of each family migrated).
for kernel in 6.12 7.2; do
    test/vm/run-scenarios --kernel "$kernel" -- --select-class=io.bpfcharge.inventory.AccountingIT \
        '--select-method=io.bpfcharge.migrate.MigrateIT#standaloneMapOfEveryTypeMovesWithAllItsData(java.lang.String,int,int,int,int)' \
        --exclude-tag host-only
done
grafana/check-dashboard  # exporter scraped by a real Prometheus: promtool, every dashboard query returns data
deploy/test/check-manifests  # alert and recording rules unit-tested by promtool; manifests against the Kubernetes API schema
deploy/test/check-image      # the container image built from Debian packages and run as the DaemonSet runs it (podman, kube play)
test/from-bare/run           # the README's first command on a bare Debian 13 root file system: installs a JDK and the rest, builds, lists maps
test/deb/run                 # the Debian package (scripts/package) installed on bare Debian 12 and 13: runs with no JDK, man pages, completion, unit
