// thread_name.h - name the calling thread, spelled per platform.
//
// pthread_setname_np is not one function: Linux (and winpthreads on Windows)
// take (thread, name); macOS takes (name) and names only the calling thread;
// NetBSD takes (thread, format, arg); FreeBSD before 12.2 and OpenBSD have
// only pthread_set_name_np in <pthread_np.h> (FreeBSD and DragonFly keep it,
// so it is used there on every version). The macOS/BSD branches have been
// reviewed but never compiled there. Best effort: a name is only a debugging
// aid (top -H, gdb, Instruments), so failures are ignored.
#pragma once

#include <pthread.h>

#if defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__DragonFly__)
#include <pthread_np.h>
#endif

namespace pn {

// Call from the thread being named (macOS allows nothing else).
inline void set_current_thread_name(const char* name) {
#if defined(__APPLE__)
  (void)pthread_setname_np(name);
#elif defined(__NetBSD__)
  (void)pthread_setname_np(pthread_self(), "%s", const_cast<char*>(name));
#elif defined(__FreeBSD__) || defined(__OpenBSD__) || defined(__DragonFly__)
  pthread_set_name_np(pthread_self(), name);
#else  // Linux (at most 15 characters), mingw-w64 winpthreads
  (void)pthread_setname_np(pthread_self(), name);
#endif
}

}  // namespace pn
