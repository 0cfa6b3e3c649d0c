#!/usr/bin/env bash
# The whole test suite, as root on Debian 12: sets up the host, then runs unit and
# real-kernel integration tests (Maven Surefire prints how many ran, failed and skipped).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"
export JAVA_HOME; JAVA_HOME=$(scripts/setup --deploy)
mvn -B verify
test/vm/run-stages       # the *IT classes again in QEMU VMs, cgroup v2: all on Debian's 6.1, a kernel-facing slice on 6.12 and 7.2
grafana/check-dashboard  # exporter scraped by a real Prometheus: promtool, every dashboard query returns data
deploy/test/check-manifests  # alert and recording rules unit-tested by promtool; manifests against the Kubernetes API schema
deploy/test/check-image      # the container image built from Debian packages and run as the DaemonSet runs it (podman, kube play)
test/from-bare/run           # the README's first command on a bare Debian 13 root file system: installs a JDK and the rest, builds, lists maps
test/deb/run                 # the Debian package (scripts/package) installed on bare Debian 12 and 13: runs with no JDK, man pages, completion, unit
test/systemd/run             # the package's unit under systemd 257 as PID 1 in the QEMU VM (cgroup v2): serve --recharge recharges a map
