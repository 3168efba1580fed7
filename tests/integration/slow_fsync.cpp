// Preloaded into troupe-server by test_persistence (LD_PRELOAD): fsync and fdatasync append "b" to
// the file TROUPE_FSYNC_LOG as they begin, sleep TROUPE_FSYNC_DELAY_US microseconds, do their
// work, and append "s" once done, so a test can tell, without timing anything, whether an fsync
// had begun or completed when a client saw a reply.
#include <dlfcn.h>
#include <fcntl.h>
#include <cstdlib>
#include <unistd.h>

namespace {

void wait_first() {
  const char* us = std::getenv("TROUPE_FSYNC_DELAY_US");
  if (us != nullptr)
    usleep(static_cast<useconds_t>(std::atoi(us)));
}

void record(const char* what) {
  const char* path = std::getenv("TROUPE_FSYNC_LOG");
  if (path == nullptr)
    return;
  int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) {
    ssize_t ignored = write(fd, what, 1);
    (void)ignored;
    close(fd);
  }
}

int slowed(const char* name, int fd) {
  auto real = reinterpret_cast<int (*)(int)>(dlsym(RTLD_NEXT, name));
  record("b");
  wait_first();
  int r = real(fd);
  record("s");
  return r;
}

}  // namespace

extern "C" int fsync(int fd) { return slowed("fsync", fd); }
extern "C" int fdatasync(int fd) { return slowed("fdatasync", fd); }
