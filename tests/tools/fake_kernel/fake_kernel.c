/* A fake kernel for the kmod tool tests, as an LD_PRELOAD library: kmod's
 * tools and umod's run under it on the same fake root and nothing reaches the
 * real kernel.
 *
 *   FAKE_KERNEL_ROOT=DIR      required: DIR/sys/module, DIR/proc/modules (and
 *                             DIR/proc/cmdline, when it exists) stand for the
 *                             real ones, for open, fopen, opendir and stat
 *   FAKE_KERNEL_LOG=FILE      where the effects are recorded (default DIR/log)
 *   FAKE_KERNEL_FAIL=NAME:ERRNO,...         loading NAME fails with ERRNO
 *   FAKE_KERNEL_FAIL_DELETE=NAME:ERRNO,...  removing NAME fails with ERRNO
 *   FAKE_KERNEL_NO_FINIT=1    an old kernel: finit_module is ENOSYS
 *   FAKE_KERNEL_RELEASE=REL   what uname(2) says the kernel's release is; with
 *                             DIR/lib/modules present, /lib/modules is served
 *                             from there too (the running kernel's indexes)
 *
 * finit_module and init_module (libc's and syscall(2)'s) read the module's
 * name= and depends= (its names with - as _) from its .modinfo: a dependency that is not loaded makes
 * the load fail with ENOENT (an unknown symbol), a loaded name with EEXIST. A
 * load creates DIR/sys/module/NAME (initstate, refcnt, coresize, holders/),
 * raises each dependency's refcnt and adds NAME to its holders; /proc/modules
 * is rewritten, newest first, as the kernel prints it. delete_module refuses
 * a module with holders, or with references unless O_TRUNC (EWOULDBLOCK), and
 * undoes a load. Every call is appended to the log with its arguments, flags
 * and result, e.g.
 *   finit_module(dummy, "a=1", 0x0) = 0
 *   init_module(dummy, 16384 bytes, "") = -ENOENT
 *   delete_module(dummy, 0x800) = 0
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

static const char* root(void) { return getenv("FAKE_KERNEL_ROOT"); }

/* The next definition of `name` (libc's), looked up once per call site: a
 * dlsym per intercepted call would be most of what the fake kernel costs,
 * and the timed goals (bench/modprobe_load) are to time the tools. */
#define REAL(name)                                                                   \
    __extension__({                                                                  \
        static __typeof__(&name) real_;                                              \
        __typeof__(&name) found_ = __atomic_load_n(&real_, __ATOMIC_RELAXED);        \
        if (found_ == NULL) {                                                        \
            found_ = (__typeof__(&name))dlsym(RTLD_NEXT, #name);                     \
            __atomic_store_n(&real_, found_, __ATOMIC_RELAXED);                      \
        }                                                                            \
        found_;                                                                      \
    })

/* The fake root's version of `path`, or `path` itself. */
static const char* redirect(const char* path, char* buf, size_t size) {
    const char* r = root();
    if (r == NULL || path == NULL) return path;
    int hit = (strncmp(path, "/sys/module", 11) == 0 && (path[11] == '\0' || path[11] == '/')) ||
              strcmp(path, "/proc/modules") == 0;
    if (!hit && strncmp(path, "/lib/modules", 12) == 0 && (path[12] == '\0' || path[12] == '/')) {
        snprintf(buf, size, "%s/lib/modules", r);
        struct stat st;
        int (*st_fn)(const char*, struct stat*) = REAL(stat);
        hit = st_fn != NULL && st_fn(buf, &st) == 0;
    }
    if (!hit && strcmp(path, "/proc/cmdline") == 0) {
        snprintf(buf, size, "%s/proc/cmdline", r);
        struct stat st;
        int (*st_fn)(const char*, struct stat*) = REAL(stat);
        hit = st_fn != NULL && st_fn(buf, &st) == 0;
    }
    if (!hit) return path;
    snprintf(buf, size, "%s%s", r, path);
    return buf;
}

static int open_real(const char* path, int flags, mode_t mode) { return REAL(open)(path, flags, mode); }

EXPORT int open(const char* path, int flags, ...) {
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    char buf[4096];
    return open_real(redirect(path, buf, sizeof buf), flags, mode);
}
EXPORT int open64(const char* path, int flags, ...) {
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    char buf[4096];
    return open_real(redirect(path, buf, sizeof buf), flags, mode);
}
EXPORT int __open_2(const char* path, int flags) { return open(path, flags); }
EXPORT int __open64_2(const char* path, int flags) { return open(path, flags); }
EXPORT int openat(int dirfd, const char* path, int flags, ...) {
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    char buf[4096];
    int (*fn)(int, const char*, int, ...) = REAL(openat);
    return fn(dirfd, redirect(path, buf, sizeof buf), flags, mode);
}
EXPORT int openat64(int dirfd, const char* path, int flags, ...) {
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    return openat(dirfd, path, flags, mode);
}
EXPORT FILE* fopen(const char* path, const char* mode) {
    char buf[4096];
    return REAL(fopen)(redirect(path, buf, sizeof buf), mode);
}
EXPORT FILE* fopen64(const char* path, const char* mode) { return fopen(path, mode); }
EXPORT DIR* opendir(const char* path) {
    char buf[4096];
    return REAL(opendir)(redirect(path, buf, sizeof buf));
}
EXPORT int stat(const char* path, struct stat* st) {
    char buf[4096];
    return REAL(stat)(redirect(path, buf, sizeof buf), st);
}
EXPORT int stat64(const char* path, struct stat64* st) {
    char buf[4096];
    return REAL(stat64)(redirect(path, buf, sizeof buf), st);
}
EXPORT int lstat(const char* path, struct stat* st) {
    char buf[4096];
    return REAL(lstat)(redirect(path, buf, sizeof buf), st);
}
EXPORT int fstatat(int dirfd, const char* path, struct stat* st, int flags) {
    char buf[4096];
    return REAL(fstatat)(dirfd, redirect(path, buf, sizeof buf), st, flags);
}
EXPORT int fstatat64(int dirfd, const char* path, struct stat64* st, int flags) {
    char buf[4096];
    return REAL(fstatat64)(dirfd, redirect(path, buf, sizeof buf), st, flags);
}
EXPORT int access(const char* path, int mode) {
    char buf[4096];
    return REAL(access)(redirect(path, buf, sizeof buf), mode);
}

EXPORT int uname(struct utsname* u) {
    int r = REAL(uname)(u);
    const char* release = getenv("FAKE_KERNEL_RELEASE");
    if (r == 0 && release != NULL) snprintf(u->release, sizeof u->release, "%s", release);
    return r;
}

/* ---- the fake module state ---------------------------------------------- */

static const char* errno_name(int e) {
    static const struct { int code; const char* name; } names[] = {
        {EPERM, "EPERM"}, {ENOENT, "ENOENT"}, {EIO, "EIO"}, {ENOEXEC, "ENOEXEC"}, {EAGAIN, "EAGAIN"},
        {ENOMEM, "ENOMEM"}, {EFAULT, "EFAULT"}, {EBUSY, "EBUSY"}, {EEXIST, "EEXIST"}, {EINVAL, "EINVAL"},
        {ENOSPC, "ENOSPC"}, {ENOSYS, "ENOSYS"}, {ETIMEDOUT, "ETIMEDOUT"}, {EKEYREJECTED, "EKEYREJECTED"},
        {ENODEV, "ENODEV"}, {EACCES, "EACCES"}, {EBADMSG, "EBADMSG"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i)
        if (names[i].code == e) return names[i].name;
    return "E?";
}

static int errno_of(const char* s, size_t n) {
    for (int e = 1; e < 200; ++e) {
        const char* name = errno_name(e);
        if (strlen(name) == n && strncmp(name, s, n) == 0) return e;
    }
    return atoi(s);
}

/* The errno FAKE_KERNEL_FAIL(_DELETE) asks for NAME, or 0. */
static int injected(const char* var, const char* name) {
    const char* list = getenv(var);
    size_t len = strlen(name);
    while (list != NULL && *list != '\0') {
        const char* colon = strchr(list, ':');
        const char* end = strchr(list, ',');
        if (end == NULL) end = list + strlen(list);
        if (colon != NULL && colon < end && (size_t)(colon - list) == len && strncmp(list, name, len) == 0)
            return errno_of(colon + 1, (size_t)(end - colon - 1));
        list = *end == ',' ? end + 1 : end;
    }
    return 0;
}

static void record(const char* format, ...) {
    char path[4096];
    const char* log = getenv("FAKE_KERNEL_LOG");
    if (log == NULL) {
        snprintf(path, sizeof path, "%s/log", root());
        log = path;
    }
    int fd = open_real(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return;
    char line[8192];
    va_list ap;
    va_start(ap, format);
    int n = vsnprintf(line, sizeof line, format, ap);
    va_end(ap);
    if (n > 0) {
        if ((size_t)n >= sizeof line) n = sizeof line - 1;
        ssize_t w = write(fd, line, (size_t)n);
        (void)w;
    }
    close(fd);
}

static int write_text(const char* path, const char* text) {
    int fd = open_real(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    ssize_t w = write(fd, text, strlen(text));
    close(fd);
    return w < 0 ? -1 : 0;
}

static int read_text(const char* path, char* buf, size_t size) {
    int fd = open_real(path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    if (n < 0) return -1;
    buf[n] = '\0';
    return 0;
}

static int refcnt_of(const char* name) {
    char path[4096], text[64];
    snprintf(path, sizeof path, "%s/sys/module/%s/refcnt", root(), name);
    if (read_text(path, text, sizeof text) != 0) return 0;
    return atoi(text);
}

static void set_refcnt(const char* name, int n) {
    char path[4096], text[64];
    snprintf(path, sizeof path, "%s/sys/module/%s/refcnt", root(), name);
    snprintf(text, sizeof text, "%d\n", n);
    write_text(path, text);
}

static int is_loaded(const char* name) {
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/sys/module/%s/initstate", root(), name);
    return REAL(stat)(path, &st) == 0;
}

/* The load order, newest first: ROOT/fake/order, one name a line. */
static size_t read_order(char names[][64], size_t max) {
    char path[4096], text[65536];
    snprintf(path, sizeof path, "%s/fake/order", root());
    if (read_text(path, text, sizeof text) != 0) return 0;
    size_t n = 0;
    for (char* line = strtok(text, "\n"); line != NULL && n < max; line = strtok(NULL, "\n"))
        snprintf(names[n++], 64, "%s", line);
    return n;
}

static void write_order(char names[][64], size_t n) {
    char path[4096], text[65536] = "";
    size_t len = 0;
    for (size_t i = 0; i < n; ++i) len += (size_t)snprintf(text + len, sizeof text - len, "%s\n", names[i]);
    snprintf(path, sizeof path, "%s/fake", root());
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/fake/order", root());
    write_text(path, text);
}

/* /proc/modules from the state, as the kernel prints it. */
static void write_proc_modules(void) {
    char names[512][64];
    size_t n = read_order(names, 512);
    static char text[1 << 18];
    size_t len = 0;
    for (size_t i = 0; i < n; ++i) {
        char path[4096], size[64] = "0";
        snprintf(path, sizeof path, "%s/sys/module/%s/coresize", root(), names[i]);
        read_text(path, size, sizeof size);
        size[strcspn(size, "\n")] = '\0';
        len += (size_t)snprintf(text + len, sizeof text - len, "%s %s %d ", names[i], size, refcnt_of(names[i]));
        snprintf(path, sizeof path, "%s/sys/module/%s/holders", root(), names[i]);
        DIR* d = REAL(opendir)(path);
        int users = 0;
        for (struct dirent* e; d != NULL && (e = readdir(d)) != NULL;) {
            if (e->d_name[0] == '.') continue;
            len += (size_t)snprintf(text + len, sizeof text - len, "%s,", e->d_name);
            ++users;
        }
        if (d != NULL) closedir(d);
        len += (size_t)snprintf(text + len, sizeof text - len, "%s Live 0x0000000000000000\n", users ? "" : "-");
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/proc", root());
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/proc/modules", root());
    text[len] = '\0';
    write_text(path, text);
}

/* The value of .modinfo's KEY= in the image: the first KEY= not preceded by
 * a letter, digit or underscore (a .modinfo string starts after a NUL, or at
 * the start of the section). */
static int modinfo(const char* image, size_t size, const char* key, char* out, size_t out_size) {
    size_t klen = strlen(key);
    for (size_t i = 1; i + klen < size; ++i) {
        char before = image[i - 1];
        if ((before >= 'a' && before <= 'z') || (before >= 'A' && before <= 'Z') || (before >= '0' && before <= '9') ||
            before == '_' || memcmp(image + i, key, klen) != 0)
            continue;
        const char* v = image + i + klen;
        size_t n = strnlen(v, size - i - klen);
        if (n >= out_size || i + klen + n >= size) return -1;
        memcpy(out, v, n);
        out[n] = '\0';
        return 0;
    }
    return -1;
}

static long fail(int e) {
    errno = e;
    return -1;
}

static long load(const char* image, size_t size, const char* params, const char* how) {
    if (root() == NULL) return fail(ENOSYS);
    char name[64], depends[1024] = "";
    if (modinfo(image, size, "name=", name, sizeof name) != 0) {
        (void)params;
        record("%s = -ENOEXEC\n", how);
        return fail(ENOEXEC);
    }
    modinfo(image, size, "depends=", depends, sizeof depends);
    for (char* c = depends; *c != '\0'; ++c)
        if (*c == '-') *c = '_';  /* depends= has file names (twofish-x86_64); modules are known by name */
    int e = injected("FAKE_KERNEL_FAIL", name);
    if (e == 0 && is_loaded(name)) e = EEXIST;
    char deps[1024];
    snprintf(deps, sizeof deps, "%s", depends);
    for (char *save = NULL, *d = strtok_r(deps, ",", &save); e == 0 && d != NULL; d = strtok_r(NULL, ",", &save))
        if (!is_loaded(d)) e = ENOENT;
    record("%s = %s%s\n", how, e ? "-" : "0", e ? errno_name(e) : "");
    if (e != 0) return fail(e);

    char path[4096], text[64];
    snprintf(path, sizeof path, "%s/sys/module/%s", root(), name);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/sys/module/%s/holders", root(), name);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/sys/module/%s/initstate", root(), name);
    write_text(path, "live\n");
    snprintf(path, sizeof path, "%s/sys/module/%s/refcnt", root(), name);
    write_text(path, "0\n");
    snprintf(path, sizeof path, "%s/sys/module/%s/coresize", root(), name);
    snprintf(text, sizeof text, "%zu\n", (size + 4095) / 4096 * 4096);
    write_text(path, text);
    snprintf(path, sizeof path, "%s/fake", root());
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/fake/%s.deps", root(), name);
    write_text(path, depends);
    snprintf(deps, sizeof deps, "%s", depends);
    for (char *save = NULL, *d = strtok_r(deps, ",", &save); d != NULL; d = strtok_r(NULL, ",", &save)) {
        char target[128];
        snprintf(path, sizeof path, "%s/sys/module/%s/holders/%s", root(), d, name);
        snprintf(target, sizeof target, "../../%s", name);
        if (symlink(target, path) == 0) set_refcnt(d, refcnt_of(d) + 1);
    }
    char names[512][64];
    size_t n = read_order(names, 511);
    memmove(names + 1, names, n * sizeof names[0]);
    snprintf(names[0], 64, "%s", name);
    write_order(names, n + 1);
    write_proc_modules();
    return 0;
}

static long fake_finit_module(int fd, const char* params, int flags) {
    char how[8192];
    if (getenv("FAKE_KERNEL_NO_FINIT") != NULL) {
        record("finit_module(\"%s\", 0x%x) = -ENOSYS\n", params ? params : "", (unsigned)flags);  /* before reading the file */
        return fail(ENOSYS);
    }
    struct stat st;
    if (fstat(fd, &st) != 0) return fail(EBADF);
    char* image = malloc((size_t)st.st_size + 1);
    if (image == NULL) return fail(ENOMEM);
    size_t got = 0;
    while (got < (size_t)st.st_size) {
        ssize_t n = pread(fd, image + got, (size_t)st.st_size - got, (off_t)got);
        if (n <= 0) break;
        got += (size_t)n;
    }
    char name[64] = "?";
    modinfo(image, got, "name=", name, sizeof name);
    snprintf(how, sizeof how, "finit_module(%s, \"%s\", 0x%x)", name, params ? params : "", (unsigned)flags);
    long r = load(image, got, params ? params : "", how);
    int e = errno;
    free(image);
    errno = e;
    return r;
}

static long fake_init_module(const void* image, unsigned long len, const char* params) {
    char how[8192], name[64] = "?";
    modinfo(image, len, "name=", name, sizeof name);
    snprintf(how, sizeof how, "init_module(%s, %lu bytes, \"%s\")", name, len, params ? params : "");
    return load(image, len, params ? params : "", how);
}

static long fake_delete_module(const char* name, unsigned flags) {
    if (root() == NULL) return fail(ENOSYS);
    int e = injected("FAKE_KERNEL_FAIL_DELETE", name);
    char path[4096];
    if (e == 0 && !is_loaded(name)) e = ENOENT;
    int holders = 0;
    if (e == 0) {
        snprintf(path, sizeof path, "%s/sys/module/%s/holders", root(), name);
        DIR* d = REAL(opendir)(path);
        for (struct dirent* ent; d != NULL && (ent = readdir(d)) != NULL;)
            if (ent->d_name[0] != '.') ++holders;
        if (d != NULL) closedir(d);
        if (holders > 0 || (refcnt_of(name) > 0 && !(flags & O_TRUNC))) e = EWOULDBLOCK;
    }
    record("delete_module(%s, 0x%x) = %s%s\n", name, flags, e ? "-" : "0", e ? errno_name(e) : "");
    if (e != 0) return fail(e);
    char deps[1024] = "";
    snprintf(path, sizeof path, "%s/fake/%s.deps", root(), name);
    read_text(path, deps, sizeof deps);
    unlink(path);
    for (char *save = NULL, *d = strtok_r(deps, ",", &save); d != NULL; d = strtok_r(NULL, ",", &save)) {
        snprintf(path, sizeof path, "%s/sys/module/%s/holders/%s", root(), d, name);
        if (unlink(path) == 0) set_refcnt(d, refcnt_of(d) - 1);
    }
    const char* files[] = {"initstate", "refcnt", "coresize"};
    for (size_t i = 0; i < 3; ++i) {
        snprintf(path, sizeof path, "%s/sys/module/%s/%s", root(), name, files[i]);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/sys/module/%s/holders", root(), name);
    rmdir(path);
    snprintf(path, sizeof path, "%s/sys/module/%s", root(), name);
    rmdir(path);
    char names[512][64];
    size_t n = read_order(names, 512), k = 0;
    for (size_t i = 0; i < n; ++i)
        if (strcmp(names[i], name) != 0) memmove(names[k++], names[i], 64);
    write_order(names, k);
    write_proc_modules();
    return 0;
}

EXPORT int init_module(void* image, unsigned long len, const char* params) {
    return (int)fake_init_module(image, len, params);
}
EXPORT int finit_module(int fd, const char* params, int flags) { return (int)fake_finit_module(fd, params, flags); }
EXPORT int delete_module(const char* name, unsigned int flags) { return (int)fake_delete_module(name, flags); }

EXPORT long syscall(long number, ...) {
    va_list ap;
    va_start(ap, number);
    long a[6];
    for (int i = 0; i < 6; ++i) a[i] = va_arg(ap, long);
    va_end(ap);
    switch (number) {
        case SYS_finit_module: return fake_finit_module((int)a[0], (const char*)a[1], (int)a[2]);
        case SYS_init_module: return fake_init_module((const void*)a[0], (unsigned long)a[1], (const char*)a[2]);
        case SYS_delete_module: return fake_delete_module((const char*)a[0], (unsigned)a[1]);
        default: break;
    }
    long (*real)(long, ...) = REAL(syscall);
    return real(number, a[0], a[1], a[2], a[3], a[4], a[5]);
}
