/*
 * old-kernel N -- command [args...]
 *
 * Runs a command with an older kernel's x86-64 system-call table: every
 * system call numbered N or above answers ENOSYS, as on a kernel that
 * predates it, for the command and everything it starts (a seccomp filter
 * is inherited across fork and exec). Only the table is simulated: flags a
 * kernel added to an old call, /proc and /sys formats, netlink attributes
 * and old kernels' bugs stay the host's.
 *
 * Cut-offs (first number the old kernel lacks): 3.10 -> 314, 4.9 -> 332,
 * 4.15 -> 333, 4.19 -> 424.
 *
 * Other ABIs: an i386 (int 0x80) or x32 call also answers ENOSYS. Their
 * numbering is not x86-64's, so "N or above" means nothing for them, and a
 * kernel built without IA32/x32 emulation answers them the same way; nothing
 * the agents run is 32-bit or x32.
 *
 * Built at test time by test/rig/old-kernel.ts (gcc, no library beyond libc).
 */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#ifndef __X32_SYSCALL_BIT
#define __X32_SYSCALL_BIT 0x40000000
#endif

static void usage(void) {
  fprintf(stderr, "usage: old-kernel N -- command [args...]  (N: first x86-64 syscall number to answer ENOSYS, 1..1023)\n");
  exit(2);
}

int main(int argc, char **argv) {
  if (argc < 4 || strcmp(argv[2], "--") != 0) usage();
  char *end;
  long cut = strtol(argv[1], &end, 10);
  if (*argv[1] == '\0' || *end != '\0' || cut < 1 || cut > 1023) usage();

  struct sock_filter filter[] = {
    /* Not x86-64 (i386 via int 0x80): ENOSYS. */
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    /* x32 calls carry bit 30 (their number would pass any unsigned >= N test
       below anyway; said here so that nobody relies on it by accident). */
    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, __X32_SYSCALL_BIT, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
    /* The simulated table: below N allowed, N and above missing. */
    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, (unsigned)cut, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = { .len = sizeof filter / sizeof filter[0], .filter = filter };

  /* Required to install a filter without CAP_SYS_ADMIN, and what makes it
     stick across exec; it also makes setuid bits inert below us (we run as
     root in the tests: nothing relies on them). */
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    perror("old-kernel: prctl(PR_SET_NO_NEW_PRIVS)");
    return 126;
  }
  /* prctl, not seccomp(2): seccomp(2) is number 317, itself newer than 3.10. */
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) != 0) {
    perror("old-kernel: prctl(PR_SET_SECCOMP)");
    return 126;
  }
  execvp(argv[3], argv + 3);
  fprintf(stderr, "old-kernel: %s: %s\n", argv[3], strerror(errno));
  return errno == ENOENT ? 127 : 126;
}
