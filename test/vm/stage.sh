# Sourced by run-scenarios and run-torture: what `mvn verify` built on the host, made ready for JVMs in
# the guest. Builds nothing: Maven is far too slow under emulation. The caller defines fail MESSAGE [STATUS].
#
# stage_build ROOT JAVA [FILE...] checks the build, copies the jar, the test classes and each FILE into a
# private directory and makes the class data sharing archive there. It sets:
#   S         the directory, set as soon as it is made: the caller's EXIT trap removes "${S:-}";
#   CP        the class path: the product from the jar (the archive's class path), then the test classes
#             and their dependencies (target/vm/classpath);
#   JVM_OPTS  options for the guest's main JVM (C1 only, serial GC, the archive);
#   GUEST_ENV env assignments for the guest command: the jar the tests run (BPFCHARGE_JAR), the options
#             of every child JVM (the archive, interpreted only) and the time scale of bounded waits.
#
# The guest reads a private copy of the build: a `mvn` run on the host while the VM runs would otherwise
# swap classes and the jar under the tests. Not under /tmp, which the guest does not see.
# Under emulation a JVM start costs seconds and the tests start dozens (MapMaker children, the CLI):
# they get a class data sharing archive of the jar, made on the host before the
# boot, and run interpreted only (short-lived; compiling costs more than it saves here). The archive is
# made for the jar alone, and a JVM uses it when its class path starts with the archive's: so the
# product classes come from the jar (the same build as target/classes), first on the class path, which
# the MapMaker children inherit. The CLI runs `-jar`.
stage_build() {
    local root=$1 java=$2 t=$1/target f
    shift 2
    for f in "$t/bpfcharge.jar" "$t/classes" "$t/test-classes" "$t/vm/classpath" "$@"; do
        [ -e "$f" ] || fail "$f is missing: run 'mvn verify' (or ./test.sh) on the host first" 2
    done
    [ -x "$java" ] || fail "no Java 25 at $java: set JAVA_HOME" 2
    S=$(mktemp -d /var/tmp/bpfcharge-vm-stage.XXXXXX)
    chmod 755 "$S" # Cli.runAsNobody reads the jar as nobody
    cp -a "$t/bpfcharge.jar" "$t/test-classes" "$@" "$S/" || fail "cannot copy the build into $S" 2
    local cds=(-XX:SharedArchiveFile="$S/children.jsa" -Xshare:auto -Xlog:cds=off -Xlog:cds+dynamic=off)
    # A training run that fails only costs speed.
    "$java" -XX:ArchiveClassesAtExit="$S/children.jsa" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC \
        -jar "$S/bpfcharge.jar" maps --json >/dev/null 2>&1 ||
        echo "${0##*/}: no class data sharing archive (the training run failed): the JVMs in the VM start slower" >&2
    CP=$S/bpfcharge.jar:$S/test-classes:$(cat "$t/vm/classpath")
    JVM_OPTS=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC "${cds[@]}" --enable-native-access=ALL-UNNAMED)
    GUEST_ENV=(BPFCHARGE_JAR="$S/bpfcharge.jar" BPFCHARGE_TEST_JVM_OPTIONS="${cds[*]} -Xint" BPFCHARGE_TEST_TIME_SCALE=10)
}
