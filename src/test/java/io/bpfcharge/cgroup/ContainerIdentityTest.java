package io.bpfcharge.cgroup;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Path shapes as kubelet (both drivers), containerd, CRI-O, docker, podman and systemd make them. */
class ContainerIdentityTest {
    static final String UID = "0f6a4a1e-5c2b-4b8e-9d3c-2a7e1f0b9c44";
    static final String UID_ = UID.replace('-', '_');
    static final String ID = "3b1f0e5c9d2a47f8b6e4c1a0d9f8e7b6a5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0";

    static void check(String path, String pod, String container, String qos, String unit) {
        assertEquals(new ContainerIdentity(pod, container, qos, unit), ContainerIdentity.parse(path), path);
    }

    @Test
    void kubeletSystemdDriverEveryRuntimeAndQosClass() {
        check("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + UID_ + ".slice/cri-containerd-" + ID + ".scope",
                UID, ID, "burstable", "");
        check("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + UID_ + ".slice/crio-" + ID + ".scope",
                UID, ID, "besteffort", "");
        check("/kubepods.slice/kubepods-pod" + UID_ + ".slice/docker-" + ID + ".scope", UID, ID, "guaranteed", "");
        // The pod's own cgroup (what a container's charge is reparented to after it is removed).
        check("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + UID_ + ".slice", UID, "", "burstable", "");
        // CRI-O's conmon monitors the container; it is not the container.
        check("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + UID_ + ".slice/crio-conmon-" + ID + ".scope",
                UID, "", "burstable", "");
        check("/kubepods.slice/kubepods-burstable.slice", "", "", "", "");
    }

    @Test
    void kubeletCgroupfsDriver() {
        check("/kubepods/burstable/pod" + UID + "/" + ID, UID, ID, "burstable", "");
        check("/kubepods/besteffort/pod" + UID + "/" + ID, UID, ID, "besteffort", "");
        check("/kubepods/pod" + UID + "/" + ID, UID, ID, "guaranteed", "");
        check("/kubepods/burstable/pod" + UID, UID, "", "burstable", "");
    }

    @Test
    void kubepodsBelowAPrefix() {
        // kind and other nested nodes: kubelet --cgroup-root=/kubelet under systemd
        check("/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/kubelet-kubepods-burstable-pod" + UID_
                + ".slice/cri-containerd-" + ID + ".scope", UID, ID, "burstable", "");
        // cgroupfs driver below a test's or a node agent's own cgroup
        check("/user.slice/bpfcharge-test-1a2b/kubepods/besteffort/pod" + UID + "/" + ID, UID, ID, "besteffort", "");
        // containerd running pods without systemd managing the scope: "slice:prefix:id"
        check("/system.slice/containerd.service/kubepods-besteffort-pod" + UID_ + ".slice:cri-containerd:" + ID,
                UID, ID, "besteffort", "");
    }

    @Test
    void podmanDockerAndPlainServices() {
        check("/machine.slice/libpod-" + ID + ".scope", "", ID, "", "");
        check("/machine.slice/libpod-" + ID + ".scope/container", "", ID, "", ""); // podman's cgroupns child
        check("/libpod_parent/libpod-" + ID, "", ID, "", "");
        check("/machine.slice/libpod-conmon-" + ID + ".scope", "", "", "", "libpod-conmon-" + ID + ".scope");
        check("/system.slice/docker-" + ID + ".scope", "", ID, "", "");
        check("/docker/" + ID, "", ID, "", "");
        check("/system.slice/nginx.service", "", "", "", "nginx.service");
        check("/user.slice/user-1000.slice/session-3.scope", "", "", "", "session-3.scope");
        check("/", "", "", "", "");
        check("/pod" + UID + "/" + "abc", "", "", "", ""); // "pod<uid>" outside kubepods is no pod
    }
}
