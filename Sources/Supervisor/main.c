/*
 * gantry-supervise: the tiny single-threaded process between the Gantry server and one function invocation.
 *
 * Why it exists (SPEC "Pitfalls known on Linux"): the server is multi-threaded, so it cannot safely run code
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
 * Usage: gantry-supervise [--lifeline FD] [--status FD] [--dir DIR] [--mem BYTES] [--cpu SECONDS]
 *                         [--nofile N] -- PROGRAM [ARGS...]
 * The function's environment is this program's own environment (so values never show in /proc/PID/cmdline).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* The signal the kernel sends us when the process (or only the thread) that spawned us goes away. */
#define PARENT_DEATH_SIGNAL SIGHUP

struct options {
    int lifeline_fd;
    int status_fd;
    const char *dir;
    unsigned long long mem_bytes; /* 0 = no limit */
    unsigned long long cpu_seconds;
    unsigned long long open_files;
    char **argv;
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

/* Setup failures are reported on the status fd (our stderr belongs to the function). */
static void fail(const char *what, int err) {
    char safe[512];
    size_t j = 0;
    for (const char *p = what; *p && j < sizeof safe - 1; p++) safe[j++] = (*p == '"' || *p == '\\') ? '\'' : *p;
    safe[j] = 0;
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

static void parse_options(int argc, char **argv, struct options *o) {
    o->lifeline_fd = 3;
    o->status_fd = 4;
    status_fd = 4;
    o->dir = NULL;
    o->mem_bytes = o->cpu_seconds = o->open_files = 0;
    o->argv = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            if (i + 1 < argc) o->argv = &argv[i + 1];
            break;
        }
        if (i + 1 >= argc) fail("missing value after an option", 0);
        const char *v = argv[++i];
        unsigned long long n = 0;
        if (strcmp(a, "--dir") == 0) { o->dir = v; continue; }
        if (parse_number(v, &n) != 0) fail("option value is not a number", 0);
        if (strcmp(a, "--lifeline") == 0) o->lifeline_fd = (int)n;
        else if (strcmp(a, "--status") == 0) { o->status_fd = (int)n; status_fd = (int)n; }
        else if (strcmp(a, "--mem") == 0) o->mem_bytes = n;
        else if (strcmp(a, "--cpu") == 0) o->cpu_seconds = n;
        else if (strcmp(a, "--nofile") == 0) o->open_files = n;
        else fail("unknown option", 0);
    }
    if (!o->argv) fail("no program given after --", 0);
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

/* The function, between fork and exec. We are single-threaded, so anything goes here. */
static void run_child(const struct options *o) {
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
    if (o->dir && chdir(o->dir) != 0) {
        dprintf(2, "gantry-supervise: cannot enter %s: %s\n", o->dir, strerror(errno));
        _exit(126);
    }
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
    pid_t child = fork();
    if (child < 0) fail("fork", errno);
    if (child == 0) run_child(&o);

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
