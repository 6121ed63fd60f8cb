#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/sendfile.h>
#include <sys/socket.h>

/// accept4 is declared only under _GNU_SOURCE, which the Glibc module is not built with.
extern int accept4(int sockfd, struct sockaddr *addr, socklen_t *addrlen, int flags);

static inline int csystem_accept_nonblocking(int fd) {
    return accept4(fd, 0, 0, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

/// Lowers the CPU priority of the calling thread alone (on Linux a nice value is per thread).
static inline int csystem_nice_this_thread(int nice) {
    return setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice);
}

/// A hint to the CPU inside a busy-wait loop (x86 `pause`, Arm `yield`): kinder to the sibling
/// hyperthread and cheaper to leave when the awaited write lands.
static inline void csystem_cpu_relax(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}
