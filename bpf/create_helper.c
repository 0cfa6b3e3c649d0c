// The map-creating helper of a migration (docs/migration.md): creates the twin of a map inside the target
// memory cgroup, so that the kernel charges it there (a new map is charged to the creating task's memcg).
// bpfcharge loads this program from its jar into memory (memfd) and starts one per create; everything
// it needs comes as arguments (it reads no environment):
//   create-helper --parent PID --map ID [--template ID] --join CGROUP_PROCS --return CGROUP_PROCS --pin PATH
//                 [--crash-at STEP] [--pause-at STEP]... [--pause-dir DIR]
// It opens the map (its BTF, and the inner-map template of a map-of-maps) by id, writes its pid into --join,
// creates the twin with the same attributes, writes its pid into --return (whatever it touches afterwards is
// not charged to the target), pins the twin at --pin and prints its id. When its parent died meanwhile
// nobody takes the twin over: it removes the pin and fails.
// Exit: 0 done (the id on stdout); 1 failed, 2 the kernel had no room for the twin (ENOMEM), 3 bad
// arguments (one line on stderr each). --crash-at and --pause-at are the recovery tests' fault injection at
// the steps "helper" (inside the target, before the create) and "helper_pinned" (after the pin): a crash
// exits 137 at once, as a kill -9 would end it; a pause announces itself as an empty file DIR/STEP-PID and
// goes on once that file is removed.
// Raw bpf(2) calls: single-threaded and small, so the move into the target is one write and costs nothing.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/bpf.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum exit_code { DONE = 0, FAILED = 1, NO_ROOM = 2, USAGE = 3, CRASHED = 137 };

/* A paused helper that nobody releases goes on after this long rather than hang a test run. */
#define PAUSE_MAX_MS 120000

struct args {
	pid_t parent;
	uint32_t map_id, template_id;
	const char *join, *ret, *pin, *crash_at, *pause_dir;
	const char *pause_at[2];
	int n_pause;
};

static void fail(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

/* "what: ENAME", the errno's name as bpfcharge prints a failed kernel call. */
static void fail_errno(const char *what, const char *arg)
{
	int e = errno;
	const char *name = strerrorname_np(e);
	fail(e == ENOMEM ? NO_ROOM : FAILED, "%s%s: %s", what, arg, name ? name : strerror(e));
}

static int sys_bpf(enum bpf_cmd cmd, union bpf_attr *attr)
{
	return syscall(__NR_bpf, cmd, attr, sizeof(*attr));
}

static int map_by_id(uint32_t id)
{
	union bpf_attr a = {.map_id = id};
	return sys_bpf(BPF_MAP_GET_FD_BY_ID, &a);
}

static int map_info(int fd, struct bpf_map_info *info)
{
	memset(info, 0, sizeof(*info)); /* an older kernel fills less: the rest must read as 0 */
	union bpf_attr a = {.info = {.bpf_fd = fd, .info_len = sizeof(*info), .info = (uintptr_t)info}};
	return sys_bpf(BPF_OBJ_GET_INFO_BY_FD, &a);
}

/* The same attributes as the map in info (bpfcharge's MapFd.create): its BTF types when it has BTF. */
static int create_twin(const struct bpf_map_info *info, int btf_fd, int template_fd)
{
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.map_type = info->type;
	a.key_size = info->key_size;
	a.value_size = info->value_size;
	a.max_entries = info->max_entries;
	a.map_flags = info->map_flags;
	a.inner_map_fd = template_fd < 0 ? 0 : template_fd;
	memcpy(a.map_name, info->name, sizeof(a.map_name));
	a.map_ifindex = info->ifindex;
	if (btf_fd >= 0) {
		a.btf_fd = btf_fd;
		a.btf_key_type_id = info->btf_key_type_id;
		a.btf_value_type_id = info->btf_value_type_id;
	}
	a.btf_vmlinux_value_type_id = info->btf_vmlinux_value_type_id;
	a.map_extra = info->map_extra;
	return sys_bpf(BPF_MAP_CREATE, &a);
}

/* Moves this process into the cgroup whose cgroup.procs is open as fd. */
static int move_to(int procs_fd)
{
	char pid[16];
	int n = snprintf(pid, sizeof(pid), "%d", getpid());
	return write(procs_fd, pid, n) == n ? 0 : -1;
}

static void sleep_ms(long ms)
{
	struct timespec t = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	while (nanosleep(&t, &t) && errno == EINTR)
		;
}

static void step(const struct args *a, const char *name)
{
	if (a->crash_at && !strcmp(a->crash_at, name))
		_exit(CRASHED);
	for (int i = 0; i < a->n_pause; i++) {
		if (strcmp(a->pause_at[i], name))
			continue;
		char flag[4096];
		snprintf(flag, sizeof(flag), "%s/%s-%d", a->pause_dir, name, getpid());
		int fd = open(flag, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0)
			fail_errno("announce the pause at ", flag);
		close(fd);
		struct stat st;
		for (long waited = 0; stat(flag, &st) == 0 && waited < PAUSE_MAX_MS; waited += 5)
			sleep_ms(5);
	}
}

static uint32_t parse_id(const char *opt, const char *s)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v > UINT32_MAX || *s == '-')
		fail(USAGE, "create-helper: %s wants a number, not '%s'", opt, s);
	return v;
}

static struct args parse(int argc, char **argv)
{
	static const struct option opts[] = {
		{"parent", required_argument, 0, 'P'},	 {"map", required_argument, 0, 'm'},
		{"template", required_argument, 0, 't'}, {"join", required_argument, 0, 'j'},
		{"return", required_argument, 0, 'r'},	 {"pin", required_argument, 0, 'p'},
		{"crash-at", required_argument, 0, 'c'}, {"pause-at", required_argument, 0, 'a'},
		{"pause-dir", required_argument, 0, 'd'}, {0, 0, 0, 0},
	};
	struct args a = {0};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'P': a.parent = parse_id("--parent", optarg); break;
		case 'm': a.map_id = parse_id("--map", optarg); break;
		case 't': a.template_id = parse_id("--template", optarg); break;
		case 'j': a.join = optarg; break;
		case 'r': a.ret = optarg; break;
		case 'p': a.pin = optarg; break;
		case 'c': a.crash_at = optarg; break;
		case 'a':
			if (a.n_pause == 2)
				fail(USAGE, "create-helper: --pause-at at most twice (helper, helper_pinned)");
			a.pause_at[a.n_pause++] = optarg;
			break;
		case 'd': a.pause_dir = optarg; break;
		default: fail(USAGE, "create-helper: unknown or incomplete option %s", argv[optind - 1]);
		}
	}
	if (optind != argc || !a.parent || !a.map_id || !a.join || !a.ret || !a.pin || (a.n_pause && !a.pause_dir))
		fail(USAGE, "create-helper: usage: --parent PID --map ID [--template ID] --join CGROUP_PROCS "
			    "--return CGROUP_PROCS --pin PATH [--crash-at STEP] [--pause-at STEP --pause-dir DIR]");
	return a;
}

int main(int argc, char **argv)
{
	struct args a = parse(argc, argv);
	struct bpf_map_info info;
	char old_id[16], id[16];
	snprintf(old_id, sizeof(old_id), "%u", a.map_id);
	int old = map_by_id(a.map_id);
	if (old < 0)
		fail_errno("open map id ", old_id);
	if (map_info(old, &info))
		fail_errno("map info of map id ", old_id);
	int btf = -1, template = -1;
	if (info.btf_id) {
		union bpf_attr b = {.btf_id = info.btf_id};
		snprintf(id, sizeof(id), "%u", info.btf_id);
		if ((btf = sys_bpf(BPF_BTF_GET_FD_BY_ID, &b)) < 0)
			fail_errno("open BTF id ", id);
	}
	if (a.template_id) {
		snprintf(id, sizeof(id), "%u", a.template_id);
		if ((template = map_by_id(a.template_id)) < 0)
			fail_errno("open map id ", id);
	}
	int join = open(a.join, O_WRONLY | O_CLOEXEC), ret = open(a.ret, O_WRONLY | O_CLOEXEC);
	if (join < 0)
		fail_errno("open ", a.join);
	if (ret < 0)
		fail_errno("open ", a.ret);

	if (move_to(join))
		fail_errno("join ", a.join);
	step(&a, "helper");
	int twin = create_twin(&info, btf, template);
	int create_errno = errno;
	if (move_to(ret))
		fail_errno("go back to ", a.ret); /* exiting closes the twin: the kernel frees it */
	if (twin < 0) {
		errno = create_errno;
		fail_errno("create the twin of map id ", old_id);
	}

	if (map_info(twin, &info))
		fail_errno("map info of the twin", "");
	union bpf_attr p = {.pathname = (uintptr_t)a.pin, .bpf_fd = twin};
	if (sys_bpf(BPF_OBJ_PIN, &p))
		fail_errno("pin the twin at ", a.pin);
	step(&a, "helper_pinned");
	// A parent that died meanwhile cannot take the map over: leave nothing behind. Its child is reparented
	// then, so getppid() tells without the race of a reused pid.
	if (getppid() != a.parent) {
		unlink(a.pin);
		fail(FAILED, "the parent process %d is gone: the twin was removed", a.parent);
	}
	printf("%u\n", info.id);
	return fflush(stdout) ? FAILED : DONE;
}
