# Sourced by podman-here and kube-play-here, in the private mount namespace podman runs in here:
# - crun 1.8 refuses a hybrid host whose cgroup v2 tree (/sys/fs/cgroup/unified) has controllers;
#   without that mount here, podman and crun see a plain cgroup v1 host;
# - a file system mounted on top of / (seen on a shared test host: a stray bpffs) makes podman's layer
#   commits fail ("cleaning up after pivot: ... device or resource busy"); unmounted here.
# Neither changes anything outside this namespace.
private_mounts() {
  if mountpoint -q /sys/fs/cgroup/unified; then umount -l /sys/fs/cgroup/unified; fi
  while [ "$(awk '$5 == "/"' /proc/self/mountinfo | wc -l)" -gt 1 ]; do umount -l /; done
}
