/*
 * gantry-supervise: the tiny single-threaded process between the Gantry server and one function invocation.
 *
 * Why it exists (docs/function-protocol.md): the server is multi-threaded, so it cannot safely run code
 * between fork and exec, and PR_SET_PDEATHSIG alone neither reaches a script's own children nor survives the
 * spawning thread. This program:
 *   - forks the function into its OWN process group F (setpgid in child and parent, so there is no race),
 *     applies rlimits, changes to the invocation directory and execs it with exactly our environment;
 *   - reports {"started":F,"startTicks":T} on the status fd at once (T = field 22 of /proc/F/stat);
 *   - watches the lifeline pipe: EOF means the server died (even kill -9), so it kills group F and exits;
 *     PR_SET_PDEATHSIG is a second guard for the same event;
 *   - when the function exits: wait4 for its rusage, SIGKILL whatever is left of group F (and any orphan that
 *     was reparented to us as subreaper), write one JSON report line and exit 0.
 * The function's stdin/stdout/stderr are the fds we were started with; we never touch their data.
 *
 * Isolation (--isolate, --user, --network none), done in the function's process between fork and exec, so the
 * function never runs with the server's view of the machine (see isolate() for the order and why):
 *   - its own mount namespace with every mount private (nothing we mount leaks out, nothing new leaks in);
 *   - a private, empty tmpfs on /tmp;
 *   - each --hide directory under an empty read-only tmpfs, each hidden file under a bind of a mode-0000 file;
 *   - each --keep / --keep-ro path (opened before anything is hidden) bound back at the same path, the
 *     --keep-ro ones read-only; a kept folder may hold hidden paths and a hidden one kept paths;
 *   - with --network none, its own network namespace (only `lo`);
 *   - then no supplementary groups, the --user group and user, no capabilities, no_new_privs.
 * Any failure there ends the child before exec: one {"isolationError":"..."} line on the status fd, the same
 * text on the function's stderr, exit status 123. The function is never run with part of the setup missing.
 * --probe does all of it, enters --dir as the function user, and exits 0 instead of running a program: the
 * server's start-up check that isolation works on this machine.
 *
 * Usage: gantry-supervise [--lifeline FD] [--status FD] [--dir DIR] [--mem BYTES] [--cpu SECONDS]
 *                         [--nofile N] [--isolate] [--hide PATH]... [--keep PATH]... [--keep-ro PATH]...
 *                         [--tmp-size BYTES] [--network none] [--user UID:GID] [--probe] -- PROGRAM [ARGS...]
 * The function's environment is this program's own environment (so values never show in /proc/PID/cmdline).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/capability.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* The signal the kernel sends us when the process (or only the thread) that spawned us goes away. */
#define PARENT_DEATH_SIGNAL SIGHUP

/* Exit status of a function whose isolation could not be set up (it never ran). */
#define ISOLATION_EXIT 123

struct options {
    int lifeline_fd;
    int status_fd;
    const char *dir;
    unsigned long long mem_bytes; /* 0 = no limit */
    unsigned long long cpu_seconds;
    unsigned long long open_files;
    char **argv;
    int isolate;       /* own mount namespace, private /tmp, hide and keep */
    int probe;         /* set everything up, enter dir, exit 0: no program */
    int no_network;    /* own network namespace */
    int has_user;
    uid_t uid;
    gid_t gid;
    unsigned long long tmp_bytes; /* size of the private /tmp; 0 = tmpfs's default */
    const char **hide;
    int hide_count;
    const char **keep;
    int *keep_read_only;
    int keep_count;
};

static int status_fd = -1;

/* Writes all of buf to fd, retrying short writes; errors are ignored (the reader may be gone). */
static void write_all(int fd, const char *buf, size_t len) {
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR) continue;
            return;
        }
        buf += n;
        len -= (size_t)n;
    }
}

/* One JSON line on the status fd. Callers only format numbers and strings without quotes or backslashes. */
static void status_line(const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf - 1, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n > sizeof buf - 2) n = (int)sizeof buf - 2;
    buf[n++] = '\n';
    if (status_fd >= 0) write_all(status_fd, buf, (size_t)n);
}

/* Text made safe inside a JSON string: no quotes, backslashes or control characters. */
static void json_safe(char *out, size_t size, const char *text) {
    size_t j = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p && j < size - 1; p++)
        out[j++] = (*p == '"' || *p == '\\') ? '\'' : *p < 0x20 ? '?' : (char)*p;
    out[j] = 0;
}

/* Setup failures are reported on the status fd (our stderr belongs to the function). */
static void fail(const char *what, int err) {
    char safe[512];
    json_safe(safe, sizeof safe, what);
    status_line("{\"error\":\"%s%s%s\"}", safe, err ? ": " : "", err ? strerror(err) : "");
    _exit(125);
}

static int parse_number(const char *text, unsigned long long *out) {
    if (!text || !*text) return -1;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno || *end || text[0] == '-') return -1;
    *out = v;
    return 0;
}

/* "UID:GID", both numbers. */
static int parse_user(const char *text, uid_t *uid, gid_t *gid) {
    const char *colon = strchr(text, ':');
    if (!colon || colon == text) return -1;
    char uid_text[32];
    size_t n = (size_t)(colon - text);
    if (n >= sizeof uid_text) return -1;
    memcpy(uid_text, text, n);
    uid_text[n] = 0;
    unsigned long long u, g;
    if (parse_number(uid_text, &u) != 0 || parse_number(colon + 1, &g) != 0) return -1;
    if (u >= (uid_t)-1 || g >= (gid_t)-1) return -1; /* -1 means "unchanged" to setuid/setgid */
    *uid = (uid_t)u;
    *gid = (gid_t)g;
    return 0;
}

static void parse_options(int argc, char **argv, struct options *o) {
    memset(o, 0, sizeof *o);
    o->lifeline_fd = 3;
    o->status_fd = 4;
    status_fd = 4;
    /* Each path option takes one argument, so argc bounds how many there can be. */
    o->hide = calloc((size_t)argc, sizeof *o->hide);
    o->keep = calloc((size_t)argc, sizeof *o->keep);
    o->keep_read_only = calloc((size_t)argc, sizeof *o->keep_read_only);
    if (!o->hide || !o->keep || !o->keep_read_only) fail("out of memory", 0);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            if (i + 1 < argc) o->argv = &argv[i + 1];
            break;
        }
        if (strcmp(a, "--isolate") == 0) { o->isolate = 1; continue; }
        if (strcmp(a, "--probe") == 0) { o->probe = 1; continue; }
        if (i + 1 >= argc) fail("missing value after an option", 0);
        const char *v = argv[++i];
        unsigned long long n = 0;
        if (strcmp(a, "--dir") == 0) { o->dir = v; continue; }
        if (strcmp(a, "--hide") == 0 || strcmp(a, "--keep") == 0 || strcmp(a, "--keep-ro") == 0) {
            if (v[0] != '/') fail("--hide and --keep take absolute paths", 0);
            if (strlen(v) >= PATH_MAX) fail("path too long", 0);
            if (a[2] == 'h') o->hide[o->hide_count++] = v;
            else {
                o->keep_read_only[o->keep_count] = a[6] == '-';
                o->keep[o->keep_count++] = v;
            }
            continue;
        }
        if (strcmp(a, "--network") == 0) {
            if (strcmp(v, "none") == 0) o->no_network = 1;
            else if (strcmp(v, "host") != 0) fail("--network takes none or host", 0);
            continue;
        }
        if (strcmp(a, "--user") == 0) {
            if (parse_user(v, &o->uid, &o->gid) != 0) fail("--user takes UID:GID", 0);
            o->has_user = 1;
            continue;
        }
        if (parse_number(v, &n) != 0) fail("option value is not a number", 0);
        if (strcmp(a, "--lifeline") == 0) o->lifeline_fd = (int)n;
        else if (strcmp(a, "--status") == 0) { o->status_fd = (int)n; status_fd = (int)n; }
        else if (strcmp(a, "--mem") == 0) o->mem_bytes = n;
        else if (strcmp(a, "--cpu") == 0) o->cpu_seconds = n;
        else if (strcmp(a, "--nofile") == 0) o->open_files = n;
        else if (strcmp(a, "--tmp-size") == 0) o->tmp_bytes = n;
        else fail("unknown option", 0);
    }
    if ((o->hide_count || o->keep_count || o->tmp_bytes) && !o->isolate) fail("--hide, --keep and --tmp-size need --isolate", 0);
    if (o->probe && !o->dir) fail("--probe needs --dir", 0);
    if (!o->argv && !o->probe) fail("no program given after --", 0);
}

/* Only our five fds may reach the function: close everything else the spawner might have leaked. */
static void close_other_fds(int keep_a, int keep_b) {
    int hi = keep_a > keep_b ? keep_a : keep_b;
    int lo = keep_a < keep_b ? keep_a : keep_b;
    /* 3 .. lo-1, lo+1 .. hi-1, hi+1 .. max */
    int ranges[3][2] = {{3, lo - 1}, {lo + 1, hi - 1}, {hi + 1, -1}};
    for (int r = 0; r < 3; r++) {
        unsigned int from = (unsigned int)ranges[r][0];
        unsigned int to = ranges[r][1] < 0 ? ~0U : (unsigned int)ranges[r][1];
        if (ranges[r][1] >= 0 && ranges[r][1] < ranges[r][0]) continue;
        if (syscall(SYS_close_range, from, to, 0) == 0) continue;
        /* Kernel without close_range: walk /proc/self/fd instead. */
        DIR *d = opendir("/proc/self/fd");
        if (!d) continue;
        int self = dirfd(d);
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            char *end;
            long fd = strtol(e->d_name, &end, 10);
            if (*end || fd == self) continue;
            if ((unsigned long)fd >= from && (unsigned long)fd <= to) close((int)fd);
        }
        closedir(d);
    }
}

/* Field 22 (starttime, clock ticks since boot) of /proc/PID/stat; 0 if unreadable. */
static unsigned long long start_ticks(pid_t pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* the command name may contain spaces and parentheses */
    if (!p) return 0;
    p++;
    /* After ')' come fields 3 (state), 4, ...; field 22 is the 20th of them. */
    for (int field = 3; field < 22; field++) {
        while (*p == ' ') p++;
        while (*p && *p != ' ') p++;
        if (!*p) return 0;
    }
    return strtoull(p, NULL, 10);
}

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Ends the function's process before exec: the setup it needs is not there, so it must not run at all. The
 * status fd tells the server (a line only our own code can write: the fd closes on exec); stderr tells the log. */
static void isolation_fail(const char *what, const char *path, int err) {
    char text[PATH_MAX + 256], safe[sizeof text];
    snprintf(text, sizeof text, "%s%s%s%s%s", what, path ? " " : "", path ? path : "", err ? ": " : "",
             err ? strerror(err) : "");
    dprintf(2, "gantry-supervise: isolation failed, the function was not run: %s\n", text);
    json_safe(safe, sizeof safe, text);
    status_line("{\"isolationError\":\"%s\"}", safe);
    _exit(ISOLATION_EXIT);
}

/* Creates what is missing of `path` (parents as 0755 directories, then a directory or an empty file) so that
 * something can be mounted on it. Only ever needed inside the tmpfs we mounted, which nobody else can see. */
static int make_mount_point(const char *path, int directory) {
    char buf[PATH_MAX];
    struct stat st;
    snprintf(buf, sizeof buf, "%s", path);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (stat(buf, &st) != 0 && mkdir(buf, 0755) != 0 && errno != EEXIST) return -1;
        *p = '/';
    }
    if (stat(buf, &st) == 0) return 0;
    if (directory) return mkdir(buf, 0755) == 0 || errno == EEXIST ? 0 : -1;
    int fd = open(buf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) return errno == EEXIST ? 0 : -1;
    close(fd);
    return 0;
}

/* Makes the mount at `path` read-only, keeping its nosuid/nodev/noexec/atime flags (a bind remount replaces them
 * all). Returns 0 or -1 with errno. */
static int remount_read_only(const char *path, unsigned long extra) {
    struct statvfs sv;
    if (statvfs(path, &sv) != 0) return -1;
    unsigned long flags = MS_REMOUNT | MS_BIND | MS_RDONLY | extra;
    if (sv.f_flag & ST_NOSUID) flags |= MS_NOSUID;
    if (sv.f_flag & ST_NODEV) flags |= MS_NODEV;
    if (sv.f_flag & ST_NOEXEC) flags |= MS_NOEXEC;
    if (sv.f_flag & ST_NOATIME) flags |= MS_NOATIME;
    if (sv.f_flag & ST_NODIRATIME) flags |= MS_NODIRATIME;
    if (sv.f_flag & ST_RELATIME) flags |= MS_RELATIME;
    return mount(NULL, path, NULL, flags, NULL);
}

/* A fresh network namespace has `lo` down; up, a function can still talk to itself (127.0.0.1) and nothing else.
 * Best effort: without CAP_NET_ADMIN (a non-root server) it stays down, and the function has no network at all,
 * which is still what `network: none` asks for. */
static void loopback_up(void) {
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0) return;
    struct ifreq ifr;
    memset(&ifr, 0, sizeof ifr);
    snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
    if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
        ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
        ioctl(s, SIOCSIFFLAGS, &ifr);
    }
    close(s);
}

/* One hidden or kept path, in the order isolate() applies them. */
struct path_step {
    const char *path;
    size_t length;
    int keep;   /* index into keep[] when >= 0, else a hidden path */
};

/* Outer paths before the paths inside them; for the same path, keeping before hiding (so hiding wins). */
static int compare_steps(const void *a, const void *b) {
    const struct path_step *x = a, *y = b;
    if (x->length != y->length) return x->length < y->length ? -1 : 1;
    return (x->keep < 0) - (y->keep < 0);
}

/* The mount side of isolation. The order matters:
 *   1. unshare, then make every mount private, so nothing below propagates back to the server's namespace;
 *   2. open the kept paths (O_PATH) now: once something is mounted over them they cannot be reached by name any
 *      more. Opened after unshare, so they name mounts of our own namespace (bind refuses another one's);
 *   3. a private /tmp, and in it the inode that hidden files will show (mode 0000: reading one fails with
 *      "Permission denied" instead of quietly reading as empty, as /dev/null would; systemd's
 *      InaccessiblePaths= does the same). Its name goes at the end, before the function can look;
 *   4. hidden and kept paths from the outermost in, each looked at as the view is by then: a hidden directory
 *      gets an empty tmpfs (still writable: kept paths inside it need mount points), a hidden file the inode
 *      of step 3, a kept path is bound back (recursively) from its descriptor, read-only ones remounted
 *      read-only. So a kept folder may hold hidden paths (they are hidden inside it afterwards), a hidden one
 *      may hold kept paths (only those show in it), and whatever /tmp held is gone unless kept;
 *   5. the hidden directories' tmpfs made read-only. */
static void isolate(const struct options *o) {
    if (unshare(CLONE_NEWNS | (o->no_network ? CLONE_NEWNET : 0)) != 0)
        isolation_fail(o->no_network ? "unshare(CLONE_NEWNS|CLONE_NEWNET)" : "unshare(CLONE_NEWNS)", NULL, errno);
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) isolation_fail("making / private", NULL, errno);
    if (o->no_network) loopback_up();

    int count = o->keep_count + o->hide_count;
    int *keep_fd = calloc((size_t)o->keep_count + 1, sizeof *keep_fd);
    int *keep_is_dir = calloc((size_t)o->keep_count + 1, sizeof *keep_is_dir);
    struct path_step *steps = calloc((size_t)count + 1, sizeof *steps);
    const char **hidden_dirs = calloc((size_t)o->hide_count + 1, sizeof *hidden_dirs);
    int hidden_dir_count = 0;
    if (!keep_fd || !keep_is_dir || !steps || !hidden_dirs) isolation_fail("out of memory", NULL, ENOMEM);
    for (int i = 0; i < o->keep_count; i++) {
        struct stat st;
        keep_fd[i] = open(o->keep[i], O_PATH | O_CLOEXEC);
        if (keep_fd[i] < 0) isolation_fail("cannot open kept path", o->keep[i], errno);
        if (fstat(keep_fd[i], &st) != 0) isolation_fail("cannot stat kept path", o->keep[i], errno);
        keep_is_dir[i] = S_ISDIR(st.st_mode);
        steps[i] = (struct path_step){o->keep[i], strlen(o->keep[i]), i};
    }
    for (int i = 0; i < o->hide_count; i++) steps[o->keep_count + i] = (struct path_step){o->hide[i], strlen(o->hide[i]), -1};
    qsort(steps, (size_t)count, sizeof *steps, compare_steps);

    char tmp_options[64] = "mode=1777";
    if (o->tmp_bytes) snprintf(tmp_options, sizeof tmp_options, "mode=1777,size=%llu", o->tmp_bytes);
    if (mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, tmp_options) != 0)
        isolation_fail("mounting a private /tmp", NULL, errno);
    /* Bound from its descriptor, and unlinked through the private /tmp's own descriptor at the end: a kept /tmp
     * may cover its name by then. */
    static const char inaccessible_name[] = ".gantry-inaccessible";
    int inaccessible = -1, private_tmp = -1;
    char inaccessible_source[64] = "";
    if (o->hide_count) {
        private_tmp = open("/tmp", O_PATH | O_DIRECTORY | O_CLOEXEC);
        int fd = private_tmp < 0 ? -1 : openat(private_tmp, inaccessible_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0);
        if (fd < 0 || fchmod(fd, 0) != 0) isolation_fail("cannot create /tmp/", inaccessible_name, errno);
        close(fd);
        inaccessible = openat(private_tmp, inaccessible_name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (inaccessible < 0) isolation_fail("cannot open /tmp/", inaccessible_name, errno);
        snprintf(inaccessible_source, sizeof inaccessible_source, "/proc/self/fd/%d", inaccessible);
    }

    for (int s = 0; s < count; s++) {
        const char *path = steps[s].path;
        int k = steps[s].keep;
        if (k >= 0) {
            char source[64];
            snprintf(source, sizeof source, "/proc/self/fd/%d", keep_fd[k]);
            if (make_mount_point(path, keep_is_dir[k]) != 0)
                isolation_fail("cannot make a mount point for kept path", path, errno);
            /* Recursively, so mounts inside it come along; but a kept /tmp (or /) would bring our private /tmp
             * back with it, which sits on it by then. */
            unsigned long recursive = strcmp(path, "/tmp") == 0 || strcmp(path, "/") == 0 ? 0 : MS_REC;
            if (mount(source, path, NULL, MS_BIND | recursive, NULL) != 0) isolation_fail("cannot bind kept path", path, errno);
            if (o->keep_read_only[k] && remount_read_only(path, 0) != 0)
                isolation_fail("cannot make kept path read-only", path, errno);
            close(keep_fd[k]);
            continue;
        }
        struct stat st;
        if (stat(path, &st) != 0) {
            if (errno == ENOENT || errno == ENOTDIR) continue; /* not there (any more): nothing to hide */
            isolation_fail("cannot stat hidden path", path, errno);
        }
        if (S_ISDIR(st.st_mode)) {
            if (mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=4k") != 0)
                isolation_fail("cannot hide", path, errno);
            hidden_dirs[hidden_dir_count++] = path;
        } else if (mount(inaccessible_source, path, NULL, MS_BIND, NULL) != 0) {
            isolation_fail("cannot hide", path, errno);
        }
    }

    for (int i = 0; i < hidden_dir_count; i++) {
        if (remount_read_only(hidden_dirs[i], MS_NOSUID | MS_NODEV | MS_NOEXEC) != 0)
            isolation_fail("cannot make hidden directory read-only", hidden_dirs[i], errno);
    }
    if (inaccessible >= 0) {
        if (unlinkat(private_tmp, inaccessible_name, 0) != 0) isolation_fail("cannot remove /tmp/", inaccessible_name, errno);
        close(inaccessible);
        close(private_tmp);
    }
    free(keep_fd);
    free(keep_is_dir);
    free(steps);
    free(hidden_dirs);
}

/* The function's own user: no supplementary groups (root's would stay otherwise), group, then user (after
 * setuid nothing else could be changed). Then no capabilities at all: a root server loses them with the uid, but
 * a server that was given some (systemd's AmbientCapabilities=) would pass them on. no_new_privs: no setuid or
 * file-capability binary can lead back to privileges that could undo the mounts. The kernel clears the
 * parent-death signal when credentials change: set it again. */
static void switch_user(const struct options *o, pid_t supervisor) {
    if (setgroups(0, NULL) != 0) isolation_fail("setgroups", NULL, errno);
    if (setgid(o->gid) != 0) isolation_fail("setgid", NULL, errno);
    if (setuid(o->uid) != 0) isolation_fail("setuid", NULL, errno);
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
        isolation_fail("clearing ambient capabilities", NULL, errno);
    struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct none[_LINUX_CAPABILITY_U32S_3];
    memset(none, 0, sizeof none);
    if (syscall(SYS_capset, &header, none) != 0) isolation_fail("dropping capabilities", NULL, errno);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) isolation_fail("PR_SET_NO_NEW_PRIVS", NULL, errno);
    if (o->uid != 0 && (setuid(0) == 0 || geteuid() != o->uid)) isolation_fail("the user switch did not hold", NULL, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != supervisor) _exit(1); /* the supervisor died meanwhile */
}

/* The function, between fork and exec. We are single-threaded, so anything goes here. */
static void run_child(const struct options *o, pid_t supervisor) {
    setpgid(0, 0);
    /* If we (the supervisor) are killed, the function's leader dies too; the server kills the rest by group. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGPIPE, SIG_DFL);

    struct rlimit rl;
    if (o->mem_bytes) {
        rl.rlim_cur = rl.rlim_max = (rlim_t)o->mem_bytes;
        if (setrlimit(RLIMIT_AS, &rl) != 0) dprintf(2, "gantry-supervise: cannot set memory limit: %s\n", strerror(errno));
    }
    if (o->cpu_seconds) {
        /* SIGXCPU at the soft limit (catchable), SIGKILL one second later. */
        rl.rlim_cur = (rlim_t)o->cpu_seconds;
        rl.rlim_max = (rlim_t)o->cpu_seconds + 1;
        if (setrlimit(RLIMIT_CPU, &rl) != 0) dprintf(2, "gantry-supervise: cannot set cpu limit: %s\n", strerror(errno));
    }
    if (o->open_files) {
        rl.rlim_cur = rl.rlim_max = (rlim_t)o->open_files;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0) dprintf(2, "gantry-supervise: cannot set open-files limit: %s\n", strerror(errno));
    }
    if (o->isolate || o->no_network) {
        if (o->isolate) isolate(o);
        else if (unshare(CLONE_NEWNET) != 0) isolation_fail("unshare(CLONE_NEWNET)", NULL, errno);
        else loopback_up();
    }
    if (o->has_user) switch_user(o, supervisor);
    if (o->dir && chdir(o->dir) != 0) {
        /* As the function's user, a directory it cannot enter is a setup problem, not the function's. */
        if (o->has_user || o->isolate) isolation_fail("the function cannot enter", o->dir, errno);
        dprintf(2, "gantry-supervise: cannot enter %s: %s\n", o->dir, strerror(errno));
        _exit(126);
    }
    if (o->probe) _exit(0);
    execve(o->argv[0], o->argv, environ);
    int err = errno;
    dprintf(2, "gantry-supervise: cannot execute %s: %s\n", o->argv[0], strerror(err));
    _exit(err == ENOENT ? 127 : 126);
}

/* Children reparented to us (we are a subreaper), e.g. a daemon that left group F with setsid. */
static int kill_adopted_children(void) {
    char path[64], buf[4096];
    snprintf(path, sizeof path, "/proc/self/task/%d/children", (int)getpid());
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return 0;
    buf[n] = 0;
    int count = 0;
    for (char *p = buf; *p;) {
        char *end;
        long pid = strtol(p, &end, 10);
        if (end == p) break;
        if (pid > 0) {
            kill((pid_t)pid, SIGKILL);
            count++;
        }
        p = end;
    }
    return count;
}

/* Kill group F and everything that was adopted by us, reaping as they die; bounded so a stuck (D-state)
 * process cannot keep us, and with it the server's report, waiting. */
static void kill_everything(pid_t group, int sigfd) {
    kill(-group, SIGKILL);
    long long give_up = now_ms() + 2000;
    for (;;) {
        while (waitpid(-1, NULL, WNOHANG) > 0) {}
        kill(-group, SIGKILL);
        if (kill_adopted_children() == 0) return;
        long long left = give_up - now_ms();
        if (left <= 0) return;
        /* Wait for the next SIGCHLD (a killed child died), not a timed polling loop. */
        struct pollfd p = {.fd = sigfd, .events = POLLIN};
        if (poll(&p, 1, (int)left) > 0) {
            struct signalfd_siginfo si;
            while (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si) {}
        }
    }
}

int main(int argc, char **argv) {
    struct options o;
    parse_options(argc, argv, &o);
    status_fd = o.status_fd;
    if (fcntl(o.status_fd, F_GETFD) < 0) return 125; /* nobody to report to */
    if (fcntl(o.lifeline_fd, F_GETFD) < 0) fail("lifeline fd is not open", errno);
    close_other_fds(o.lifeline_fd, o.status_fd);
    fcntl(o.lifeline_fd, F_SETFD, FD_CLOEXEC);
    fcntl(o.status_fd, F_SETFD, FD_CLOEXEC);
    signal(SIGPIPE, SIG_IGN);

    sigset_t watched;
    sigemptyset(&watched);
    sigaddset(&watched, SIGCHLD);
    sigaddset(&watched, SIGTERM);
    sigaddset(&watched, SIGINT);
    sigaddset(&watched, PARENT_DEATH_SIGNAL);
    if (sigprocmask(SIG_BLOCK, &watched, NULL) != 0) fail("sigprocmask", errno);
    int sigfd = signalfd(-1, &watched, SFD_CLOEXEC | SFD_NONBLOCK);
    if (sigfd < 0) fail("signalfd", errno);

    pid_t parent = getppid();
    prctl(PR_SET_PDEATHSIG, PARENT_DEATH_SIGNAL);
    prctl(PR_SET_CHILD_SUBREAPER, 1);

    long long started_ms = now_ms();
    pid_t self = getpid();
    pid_t child = fork();
    if (child < 0) fail("fork", errno);
    if (child == 0) run_child(&o, self);

    setpgid(child, child); /* also done by the child; whichever runs first wins, both give group F */
    status_line("{\"started\":%d,\"startTicks\":%llu}", (int)child, start_ticks(child));

    /* Drop our copies of the function's stdio so EOF on them follows the function's processes only. */
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull >= 0) {
        dup2(devnull, 0);
        dup2(devnull, 1);
        dup2(devnull, 2);
        close(devnull);
    }

    if (getppid() != parent) { /* the server died before the death signal was armed */
        kill_everything(child, sigfd);
        return 1;
    }

    struct pollfd fds[2] = {{.fd = sigfd, .events = POLLIN}, {.fd = o.lifeline_fd, .events = POLLIN}};
    for (;;) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            kill_everything(child, sigfd);
            fail("poll", errno);
        }
        if (fds[1].revents) {
            char junk[256];
            ssize_t n = read(o.lifeline_fd, junk, sizeof junk);
            if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) { /* server gone */
                kill_everything(child, sigfd);
                return 1;
            }
        }
        if (!(fds[0].revents & POLLIN)) continue;
        struct signalfd_siginfo si;
        while (read(sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
            if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
                kill(-child, SIGTERM); /* someone asked us to stop: pass it on to the function */
            } else if (si.ssi_signo == PARENT_DEATH_SIGNAL) {
                /* Also sent when only the spawning thread exits; then our parent process is unchanged. */
                if (getppid() != parent) {
                    kill_everything(child, sigfd);
                    return 1;
                }
            }
        }
        /* Reap the function and any orphan adopted as subreaper; only the function's rusage matters. */
        int wstatus = 0, st = 0, done = 0;
        struct rusage ru, any;
        memset(&ru, 0, sizeof ru);
        pid_t r;
        while ((r = wait4(-1, &st, WNOHANG, &any)) > 0) {
            if (r == child) {
                done = 1;
                wstatus = st;
                ru = any;
            }
        }
        if (!done) continue;

        long long wall = now_ms() - started_ms;
        kill_everything(child, sigfd); /* leftovers: a script's background children */
        long long cpu = (long long)ru.ru_utime.tv_sec * 1000 + ru.ru_utime.tv_usec / 1000 +
                        (long long)ru.ru_stime.tv_sec * 1000 + ru.ru_stime.tv_usec / 1000;
        char exit_code[16] = "null", sig[16] = "null";
        if (WIFEXITED(wstatus)) snprintf(exit_code, sizeof exit_code, "%d", WEXITSTATUS(wstatus));
        if (WIFSIGNALED(wstatus)) snprintf(sig, sizeof sig, "%d", WTERMSIG(wstatus));
        status_line("{\"wallMs\":%lld,\"cpuMs\":%lld,\"maxRssKiB\":%ld,\"exitCode\":%s,\"signal\":%s}", wall, cpu,
                    (long)ru.ru_maxrss, exit_code, sig);
        return 0;
    }
}
