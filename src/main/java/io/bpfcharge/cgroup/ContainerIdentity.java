package io.bpfcharge.cgroup;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Who a cgroup belongs to, read from its path alone (no API client): the Kubernetes pod and QoS class
 * from the kubelet's layout, the container from the runtime's naming, or the systemd unit.
 * <ul>
 *   <li>kubelet, systemd driver: {@code kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid with _>.slice/cri-containerd-<id>.scope}
 *       ({@code crio-<id>.scope}, {@code docker-<id>.scope}); guaranteed pods sit right below {@code kubepods.slice};
 *       containerd outside systemd writes the scope as {@code <pod slice>:cri-containerd:<id>}</li>
 *   <li>kubelet, cgroupfs driver: {@code kubepods/burstable/pod<uid>/<id>}</li>
 *   <li>podman: {@code libpod-<id>.scope} (systemd) or {@code libpod-<id>} (cgroupfs); docker: {@code docker-<id>.scope}, {@code docker/<id>}</li>
 *   <li>plain services: {@code system.slice/nginx.service}</li>
 * </ul>
 * The kubepods part may sit anywhere in the path (kubelet's {@code --cgroup-root}, nested nodes such as kind).
 * Runtime helpers ({@code crio-conmon-<id>}, {@code libpod-conmon-<id>}) are not the container.
 *
 * @param podUid the pod's uid as the API server writes it (dashes), "" when not a pod
 * @param containerId the runtime's 64-hex container id, "" when none
 * @param qos "guaranteed", "burstable" or "besteffort" for a pod, "" otherwise
 * @param unit for a cgroup that is neither pod nor container: the innermost systemd unit (e.g. {@code nginx.service}), else ""
 */
public record ContainerIdentity(String podUid, String containerId, String qos, String unit) {
    public static final ContainerIdentity NONE = new ContainerIdentity("", "", "", "");

    private static final Pattern POD_SLICE = Pattern.compile("(?:.*-)?kubepods(?:-(burstable|besteffort))?(?:-pod([0-9a-fA-F_-]+))?\\.slice");
    private static final Pattern POD_DIR = Pattern.compile("pod([0-9a-fA-F-]{36})");
    private static final Pattern CONTAINER_SCOPE = Pattern.compile("(?:cri-containerd|crio|docker|libpod)-([0-9a-f]{64})(?:\\.scope)?");
    private static final Pattern CONTAINER_ID = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern UNIT = Pattern.compile(".+\\.(?:service|scope)");

    public boolean isPod() { return !podUid.isEmpty(); }

    /** Parses a cgroup path as /proc/PID/cgroup writes it; {@link #NONE} when nothing is recognised. */
    public static ContainerIdentity parse(String path) {
        String pod = "", container = "", qos = "", unit = "";
        boolean kubepods = false; // inside the cgroupfs driver's "kubepods" directory
        for (String dir : path.split("/")) {
            for (String part : dir.split(":")) { // containerd's "slice:prefix:name" form
                Matcher m;
                if ((m = POD_SLICE.matcher(part)).matches()) {
                    kubepods = true;
                    if (m.group(1) != null) qos = m.group(1);
                    if (m.group(2) != null) pod = m.group(2).replace('_', '-');
                } else if (part.equals("kubepods")) {
                    kubepods = true;
                } else if (kubepods && pod.isEmpty() && (part.equals("burstable") || part.equals("besteffort"))) {
                    qos = part;
                } else if (kubepods && pod.isEmpty() && (m = POD_DIR.matcher(part)).matches()) {
                    pod = m.group(1);
                } else if ((m = CONTAINER_SCOPE.matcher(part)).matches()) {
                    container = m.group(1);
                } else if (CONTAINER_ID.matcher(part).matches()) {
                    container = part;
                } else if (container.isEmpty() && UNIT.matcher(part).matches()) {
                    unit = part;
                }
            }
        }
        if (!pod.isEmpty() && qos.isEmpty()) qos = "guaranteed";
        if (pod.isEmpty()) qos = "";
        if (!pod.isEmpty() || !container.isEmpty()) unit = ""; // e.g. containerd.service above a pod: not whose cgroup it is
        return new ContainerIdentity(pod.toLowerCase(java.util.Locale.ROOT), container, qos, unit);
    }
}
