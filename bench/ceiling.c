/* ceiling.c - the machine's loopback limit with plain blocking syscalls:
 * bulk MB/s (one sender thread, one receiver thread, 64 KiB writes) and
 * 64-byte TCP_NODELAY ping-pong round trips (two threads).
 * Usage: ceiling BULK_BYTES PINGPONG_COUNT; prints one JSON line. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long bulk_bytes;
static long pp_count;

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what) { perror(what); exit(1); }

/* Listening socket on 127.0.0.1, ephemeral port written to *port. */
static int listener(int *port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {0};
  socklen_t len = sizeof a;
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 1) ||
      getsockname(fd, (struct sockaddr *)&a, &len))
    die("listen");
  *port = ntohs(a.sin_port);
  return fd;
}

static int dial(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a)) die("connect");
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

static int accept_one(int lfd) {
  int fd = accept(lfd, NULL, NULL), one = 1;
  if (fd < 0) die("accept");
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

static void read_full(int fd, char *buf, size_t n) {
  while (n > 0) {
    ssize_t r = read(fd, buf, n);
    if (r <= 0) die("read");
    buf += r;
    n -= (size_t)r;
  }
}

static void write_full(int fd, const char *buf, size_t n) {
  while (n > 0) {
    ssize_t r = write(fd, buf, n);
    if (r <= 0) die("write");
    buf += r;
    n -= (size_t)r;
  }
}

static void *bulk_sink(void *arg) {
  int fd = accept_one(*(int *)arg);
  static char buf[65536];
  long long got = 0;
  while (got < bulk_bytes) {
    ssize_t r = read(fd, buf, sizeof buf);
    if (r <= 0) die("sink read");
    got += r;
  }
  write_full(fd, "k", 1);
  close(fd);
  return NULL;
}

static void *echo(void *arg) {
  int fd = accept_one(*(int *)arg);
  char buf[64];
  for (long i = 0; i < pp_count; i++) {
    read_full(fd, buf, sizeof buf);
    write_full(fd, buf, sizeof buf);
  }
  close(fd);
  return NULL;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
  bulk_bytes = argc > 1 ? atoll(argv[1]) : (1LL << 30);
  pp_count = argc > 2 ? atol(argv[2]) : 50000;
  int port, lfd = listener(&port);
  pthread_t t;

  /* bulk */
  pthread_create(&t, NULL, bulk_sink, &lfd);
  int fd = dial(port);
  static char chunk[65536];
  memset(chunk, 'a', sizeof chunk);
  double t0 = now();
  for (long long sent = 0; sent < bulk_bytes; sent += sizeof chunk) write_full(fd, chunk, sizeof chunk);
  char ack;
  read_full(fd, &ack, 1);
  double bulk_secs = now() - t0;
  close(fd);
  pthread_join(t, NULL);

  /* ping-pong */
  pthread_create(&t, NULL, echo, &lfd);
  fd = dial(port);
  double *rtt = malloc(sizeof(double) * pp_count);
  char msg[64];
  memset(msg, 'b', sizeof msg);
  double p0 = now();
  for (long i = 0; i < pp_count; i++) {
    double s = now();
    write_full(fd, msg, sizeof msg);
    read_full(fd, msg, sizeof msg);
    rtt[i] = now() - s;
  }
  double pp_secs = now() - p0;
  close(fd);
  pthread_join(t, NULL);
  qsort(rtt, pp_count, sizeof(double), cmp);
  printf("{\"type\":\"result\",\"mbps\":%.1f,\"rtps\":%.0f,\"minUs\":%.2f,\"p50us\":%.2f,\"p99us\":%.2f}\n",
         bulk_bytes / 1e6 / bulk_secs, pp_count / pp_secs, rtt[0] * 1e6, rtt[pp_count / 2] * 1e6,
         rtt[(long)(pp_count * 0.99)] * 1e6);
  free(rtt);
  close(lfd);
  return 0;
}
