// pipe_win.h - Windows named pipes (\\.\pipe\name) as the core's streams.
//
// On Windows node:net's listen(path) and connect(path) use named pipes, not
// Unix sockets (libuv's pipe handle does the same for any path). A named pipe
// has no readiness to poll: AFD knows nothing of it, and its I/O is
// completion-based only. This file makes a pipe look like a non-blocking
// socket to the rest of the core, so Stream, Listener and Loop stay as they
// are: socket_ops_win.cc hands every call on a pipe's fd here, and
// poller_iocp.cc asks here what is ready.
//
//   - A connected pipe (a client end, or an accepted server instance) keeps
//     one overlapped read of up to 64 KiB in flight while the stream wants
//     data; its completion is "readable", and pipe_read() copies out of that
//     buffer (-EAGAIN once it is empty, which re-arms the read). Broken-pipe
//     is EOF, as libuv reads it.
//   - A write copies up to 64 KiB into the pipe's own buffer and starts one
//     overlapped WriteFile: the bytes count as sent (as a socket's kernel
//     buffer takes them); while it is in flight the pipe is not writable and
//     pipe_write() says -EAGAIN. Its completion makes the pipe writable again
//     or leaves the error for the next write.
//   - A pipe server (listen) keeps kPendingInstances instances waiting in
//     ConnectNamedPipe, as libuv's pipe server does; a connected instance is
//     "readable" on the server, pipe_accept() hands it out as a new pipe fd
//     and puts a new instance in its place.
//   - Shutdown: see pipe_shutdown.
//
// Descriptors: the core's int fd for a pipe is its HANDLE value; a server's
// is the HANDLE of an event object that only names it (its instances come and
// go). pipe_find() tells a pipe's fd from a socket's.
//
// Threads: pipe_connect_start and pipe_listen run on the JS thread and only
// create handles. Everything else runs on the thread of the loop that owns
// the fd (one at a time), except pipe_close on an fd no loop has adopted
// yet. Completions arrive on the port of the loop whose poller attached the
// handle; a completion for an accepted pipe that landed on its listener's port
// is posted on to the port of the loop that adopted it (pipe_complete).
//
// Lifetime: pipe_close() closes what it can at once; a PipeObj with I/O in
// flight is freed by the completion of its last operation. A write in
// flight is let finish before the handle closes, so bytes a write already
// reported as sent are not lost.
#pragma once

#ifdef _WIN32

#include "platform.h"

#include <cstddef>
#include <cstdint>

namespace pn {

struct PipeObj;

// One overlapped operation of a pipe; `ov` first, so the OVERLAPPED a
// completion carries leads back to it.
struct PipeOp {
  OVERLAPPED ov;
  PipeObj* obj;
  int instance;  // server: which instance; -1 for a connected pipe's read/write
};

// The completion key pipe operations use on a loop's port.
constexpr ULONG_PTR kPipeCompletionKey = 2;

// The pipe (or pipe server) whose fd this is, or null for a socket.
PipeObj* pipe_find(int fd);

// Opens the client end of `name` (UTF-8) as a connected pipe: the new fd, or
// -errno (-ENOENT: no such pipe; -EINVAL: a NUL in the name; while every
// server instance is busy it waits up to 30 s for one, as libuv does).
int pipe_connect_start(const char* name, size_t len, int* fd_out);

// Creates the pipe server for `name`: its first instance, which claims the
// name (-EADDRINUSE when another server has it; -EACCES for a name that is no
// pipe name, as libuv maps those). The rest of the instances and their
// ConnectNamedPipe calls start when a poller attaches it.
int pipe_listen(const char* name, size_t len, int* fd_out);

// --- Poller side (poller_iocp.cc, the owning loop's thread) ---

// Associates the pipe's handles with `port` (once per handle; later attaches
// only update `cookie`) and records `cookie` (the poller's registration) so
// that completions find it. 0 or -errno.
int pipe_attach(PipeObj* p, HANDLE port, void* cookie);
// The registration is gone: completions are still taken, but reported to no one.
void pipe_detach(PipeObj* p);
// Starts the I/O the interest needs (a read, the server's connects) and
// returns the PollFlags that hold now.
uint32_t pipe_arm(PipeObj* p, uint32_t interest);
// What holds now for `interest`, starting nothing.
uint32_t pipe_ready(PipeObj* p, uint32_t interest);
// Takes the completion of `op` that arrived on `port`. Returns the cookie to
// report to (null: nobody, or it was posted on to the owning loop's port, or
// the pipe was freed).
void* pipe_complete(PipeOp* op, DWORD bytes, HANDLE port);

// --- socket_ops_win.cc's calls on a pipe fd ---
ssize_t pipe_read(PipeObj* p, char* buf, size_t len);
ssize_t pipe_readv(PipeObj* p, const iovec* iov, int iovcnt);
ssize_t pipe_write(PipeObj* p, const iovec* iov, int iovcnt);
int pipe_accept(PipeObj* p);
int pipe_error(PipeObj* p);
// Any thread. A pipe has no half-close: as libuv, once the writes are done
// (the loop calls this after its queue drained) a read that then waits
// kEofTimerMs with no data closes the pipe and reads EOF, so that two ends
// that both ended do not wait for each other forever.
int pipe_shutdown(PipeObj* p);
void pipe_close(PipeObj* p);

}  // namespace pn

#endif  // _WIN32
