// troupe-server: starts one node. Parses the configuration as redis-server does, detaches when
// asked to, starts the actor system and the node's actors, and waits for a shutdown request.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <clocale>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <random>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "actors/actors.hpp"
#include "actors/connection.hpp"
#include "actors/system_info.hpp"
#include "config/config.hpp"
#include "config/log.hpp"
#include "config/open_files.hpp"
#include "keyspace/commands.hpp"
#include "persistence/dump_commands.hpp"
#include "persistence/aof.hpp"
#include "protocol/command_table.hpp"

using namespace troupe;

namespace {

int signal_pipe[2] = {-1, -1};

void on_signal(int sig) {
  char code = sig == SIGINT ? 'I' : 'T';
  ssize_t rc = write(signal_pipe[1], &code, 1);
  (void)rc;
}

void usage() {
  std::cerr << "Usage: ./troupe-server [/path/to/redis.conf] [options] [-]\n"
               "       ./troupe-server - (read config from stdin)\n"
               "       ./troupe-server -v or --version\n"
               "       ./troupe-server -h or --help\n"
               "\n"
               "Troupe reads redis.conf files and takes the same --name value flags as redis-server.\n"
               "\n"
               "Examples:\n"
               "       ./troupe-server (run the server with default conf)\n"
               "       ./troupe-server /etc/redis/6379.conf\n"
               "       ./troupe-server --port 7777\n"
               "       ./troupe-server --port 7777 --replicaof 127.0.0.1 8888\n"
               "       ./troupe-server /etc/myredis.conf --loglevel verbose -\n"
               "       ./troupe-server /etc/myredis.conf --loglevel verbose\n";
}

std::string random_hex(size_t n) {
  static const char hex[] = "0123456789abcdef";
  std::random_device rd;
  std::string s;
  for (size_t i = 0; i < n; ++i)
    s.push_back(hex[rd() & 15]);
  return s;
}

void daemonize() {
  pid_t pid = fork();
  if (pid < 0) {
    std::perror("fork");
    std::exit(1);
  }
  if (pid > 0)
    std::_Exit(0); // the parent
  setsid();
  int fd = open("/dev/null", O_RDWR);
  if (fd >= 0) {
    dup2(fd, STDIN_FILENO);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    if (fd > STDERR_FILENO)
      close(fd);
  }
}

void write_pidfile(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) {
    config::log_warning("Failed to write PID file: " + std::string(std::strerror(errno)));
    return;
  }
  std::fprintf(f, "%d\n", static_cast<int>(getpid()));
  std::fclose(f);
}

std::string banner(int port, bool cluster, int io_threads) {
  std::string loops = io_threads == 1 ? std::string("the I/O loop") : std::to_string(io_threads) + " I/O loops";
  std::string pid = std::to_string(getpid());
  std::string line = std::string(64, '-');
  return "\n " + line + "\n  Troupe " TROUPE_VERSION " -- speaks Redis " TROUPE_REDIS_VERSION + " (64 bit), "
         + (cluster ? "cluster" : "standalone") + " mode\n  Port: " + std::to_string(port) + "  PID: " + pid
         + "\n  Actors on CAF 0.17: connections and slot ranges on " + loops + "\n " + line + "\n\n";
}

// An actor system with the middleman (its I/O loop) and a sharing scheduler of `threads` threads.
std::unique_ptr<caf::actor_system_config> actor_config(int threads) {
  auto c = std::make_unique<caf::actor_system_config>();
  c->load<caf::io::middleman>();
  c->set("scheduler.policy", caf::atom("sharing"));
  c->set("scheduler.max-threads", threads);
  c->set("logger.verbosity", caf::atom("quiet"));
  // One read per readiness event (the default reads until EAGAIN: a wasted syscall per request).
  c->set("middleman.max-consecutive-reads", 1);
  return c;
}

} // namespace

int main(int argc, char** argv) {
  // SORT ... ALPHA collates by the environment's locale, as redis-server does.
  std::setlocale(LC_COLLATE, "");
  std::vector<std::string> args(argv + 1, argv + argc);
  if (!args.empty() && (args[0] == "-v" || args[0] == "--version")) {
    std::cout << "Troupe server v=" TROUPE_VERSION " redis_version=" TROUPE_REDIS_VERSION
                 " sha=00000000:0 malloc=libc bits=64 build=troupe-" TROUPE_VERSION "\n";
    return 0;
  }
  if (!args.empty() && (args[0] == "-h" || args[0] == "--help")) {
    usage();
    return 0;
  }
  if (!args.empty() && args[0] == "--check-aof") {
    bool fix = args.size() == 3 && args[1] == "--fix";
    if (args.size() != (fix ? 3u : 2u)) {
      std::cerr << "Usage: troupe-server --check-aof [--fix] <file.aof>\n";
      return 1;
    }
    return persistence::check_aof(args.back(), fix, std::cout, &std::cin);
  }
  config::store cfg;
  if (auto err = cfg.load_args(args)) {
    std::fputs(err->c_str(), stderr);
    return 1;
  }
  std::string dir = cfg.get_string("dir");
  if (!dir.empty() && chdir(dir.c_str()) != 0) {
    std::fprintf(stderr, "Can't chdir to '%s': %s\n", dir.c_str(), std::strerror(errno));
    return 1;
  }
  bool daemon = cfg.get_bool("daemonize");
  std::string logfile = cfg.get_string("logfile");
  if (daemon && logfile.empty())
    logfile = "/dev/null";
  if (daemon)
    daemonize();
  auto& log = config::logger::instance();
  log.configure(logfile, config::parse_log_level(cfg.get_string("loglevel")));
  config::log_warning("oO0OoO0OoO0Oo Troupe is starting oO0OoO0OoO0Oo");
  config::log_warning("Troupe version=" TROUPE_VERSION " (Redis " TROUPE_REDIS_VERSION
                      " compatible), bits=64, pid=" + std::to_string(getpid()) + ", just started");
  if (cfg.config_file().empty())
    config::log_warning("Warning: no config file specified, using the default config. In order to specify a config "
                        "file use ./troupe-server /path/to/redis.conf");
  else
    config::log_warning("Configuration loaded");
  log.set_role('M');
  for (const char* name : {"cluster-config-file", "cluster-node-timeout", "cluster-port", "cluster-announce-ip",
                           "cluster-announce-port", "cluster-announce-bus-port", "cluster-announce-hostname",
                           "cluster-require-full-coverage", "cluster-allow-reads-when-down",
                           "cluster-allow-pubsubshard-when-down", "cluster-preferred-endpoint-type",
                           "cluster-replica-no-failover", "enable-debug-command", "appendonly", "appendfilename",
                           "appendfsync", "aof-load-truncated", "dbfilename", "rdbchecksum", "rdbcompression",
                           "stop-writes-on-bgsave-error"})
    cfg.set_effective(name, true);
  for (auto& name : cfg.inert_directives_set())
    config::log_notice(name + ": accepted, no effect in Troupe");

  {
    // As Redis: the open-files limit fits maxclients, or maxclients what the limit allows.
    int64_t fits = config::adjust_open_files_limit(
        cfg.get_int("maxclients"), config::reserved_descriptors(cfg.get_int("io-threads"), cfg.get_int("slot-actors")));
    if (fits < 0)
      return 1;
    if (fits != cfg.get_int("maxclients"))
      cfg.set({{"maxclients", std::to_string(fits)}});
  }

  int port = static_cast<int>(cfg.get_int("port"));
  bool cluster = cfg.get_bool("cluster-enabled");
  actors::server srv;
  srv.cfg = &cfg;
  srv.port = static_cast<uint16_t>(port);
  srv.cluster_enabled = cluster;
  srv.aof_enabled = cfg.get_bool("appendonly");
  srv.databases = cluster ? 1 : static_cast<int>(cfg.get_int("databases"));
  srv.start_ms = actors::now_ms();
  srv.run_id = random_hex(40);
  srv.lastsave = srv.start_ms / 1000;
  char exe[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  srv.executable = n > 0 ? std::string(exe, static_cast<size_t>(n)) : argv[0];
  srv.pidfile = cfg.get_string("pidfile");
  if (daemon && srv.pidfile.empty())
    srv.pidfile = "/var/run/troupe_" + std::to_string(port) + ".pid";
  if (!srv.pidfile.empty())
    write_pidfile(srv.pidfile);

  if (pipe(signal_pipe) != 0) {
    config::log_warning("Can't create the shutdown pipe");
    return 1;
  }
  srv.shutdown_pipe = signal_pipe[1];
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);
  signal(SIGXFSZ, SIG_IGN);   // a file-size limit makes writes fail with EFBIG, reported like a full disk

  // Command tables are built before any actor runs.
  persistence::register_dump_commands(keyspace::command_registry::instance());
  actors::register_connection_commands();
  srv.data = std::make_unique<keyspace::dataset>(srv.databases);

  // Off-loop actors (node, inspector) are few and quiet: a small pool that sleeps when idle.
  auto sys_cfg = actor_config(2);
  {
    caf::actor_system sys{*sys_cfg};
    auto& mm = sys.middleman();
    // io-threads N: N-1 more actor systems, each for its middleman's I/O loop. Their one scheduler
    // thread runs what their brokers wake among the node's ordinary actors (CAF schedules an actor
    // woken from a loop on that loop's system).
    int n_loops = static_cast<int>(cfg.get_int("io-threads"));
    std::vector<std::unique_ptr<caf::actor_system_config>> loop_cfgs;
    std::vector<std::unique_ptr<caf::actor_system>> loop_systems;
    srv.loops.push_back(&mm);
    for (int i = 1; i < n_loops; ++i) {
      loop_cfgs.push_back(actor_config(1));
      loop_systems.push_back(std::make_unique<caf::actor_system>(*loop_cfgs.back()));
      srv.loops.push_back(&loop_systems.back()->middleman());
    }
    int k = static_cast<int>(config::slot_range_count(n_loops, cfg.get_int("slot-actors")));
    if (k > cfg.get_int("slot-actors"))
      config::log_notice("slot-actors " + std::to_string(cfg.get_int("slot-actors")) + " raised to "
                         + std::to_string(k) + ": every I/O loop holds slot ranges of its own");
    auto routing = std::make_shared<actors::routing_table>();
    for (int i = 0; i < k; ++i) {
      int first = i * protocol::slot_count / k, last = (i + 1) * protocol::slot_count / k - 1;
      srv.events.push_back(std::make_unique<keyspace::key_events>());
      routing->events.push_back(srv.events.back().get());
      srv.doors.push_back(std::make_unique<actors::slot_range_door>());
      srv.doors.back()->loop = static_cast<uint32_t>(i % n_loops);
      routing->doors.push_back(srv.doors.back().get());
      routing->ranges.push_back(actors::spawn_slot_range(*srv.loops[static_cast<size_t>(i % n_loops)], srv,
                                                         static_cast<uint32_t>(i), first, last,
                                                         srv.events.back().get(), srv.doors.back().get()));
      for (int s = first; s <= last; ++s)
        routing->owner[static_cast<size_t>(s)] = static_cast<uint16_t>(i);
    }
    srv.routing = routing;
    srv.node = actors::spawn_node(sys, srv);
    srv.pubsub = actors::spawn_pubsub(mm, srv);
    srv.inspector = actors::spawn_inspector(sys, srv);
    if (log.to_stdout())
      log.raw(banner(port, cluster, n_loops));
    else
      config::log_notice("Running mode=" + std::string(cluster ? "cluster" : "standalone") + ", port="
                         + std::to_string(port) + ".");
    config::log_warning("Server initialized");
    actors::bus_listener_actor bus;
    // The cluster actor is there before the first client can ask it anything (loading and saving
    // nodes.conf, with its fsyncs, can take a while on a busy disk).
    if (cluster) {
      auto c = actors::spawn_cluster(sys, srv);
      if (!c) {
        config::log_warning(sys.render(c.error()));
        std::_Exit(1);
      }
      srv.cluster = *c;
    }
    // Loading before listening: the first client gets -LOADING, never the empty dataset (nor can a
    // write reach it before the AOF has been read and its writer started).
    srv.used_memory_startup = actors::used_memory();
    actors::start_loading(sys, srv);
    auto l = actors::spawn_listener(mm, srv, cfg.get_string("bind"), static_cast<uint16_t>(port));
    if (!l) {
      config::log_warning("Warning: " + sys.render(l.error()));
      config::log_warning("Failed listening on port " + std::to_string(port) + " (TCP), aborting.");
      std::_Exit(1);
    }
    srv.listener = *l;
    if (cluster) {
      int bus_port = static_cast<int>(cfg.get_int("cluster-port"));
      if (bus_port == 0)
        bus_port = port + 10000;
      auto b = actors::spawn_bus_listener(mm, srv, cfg.get_string("bind"), static_cast<uint16_t>(bus_port));
      if (!b) {
        config::log_warning(sys.render(b.error()));
        std::_Exit(1);
      }
      bus = *b;
    }
    config::log_notice("Ready to accept connections");

    // Wait for the end: the node writes 'S' once a SHUTDOWN (saving first when configured) is
    // done; a signal asks the node for the same shutdown.
    for (;;) {
      char code = 0;
      while (read(signal_pipe[0], &code, 1) < 0 && errno == EINTR) {
      }
      if (code == 'S')
        break;
      config::log_warning(code == 'I' ? "Received SIGINT scheduling shutdown..."
                                      : "Received SIGTERM scheduling shutdown...");
      actors::shutdown_request req;
      std::string result = "no answer";
      caf::scoped_actor asker{sys};
      asker->request(srv.node, std::chrono::minutes(10), actors::shutdown_atom::value, req)
        .receive([&](std::string& r) { result = r; }, [&](caf::error& e) { result = sys.render(e); });
      if (result.empty())
        break;
      config::log_warning("SIGTERM received but errors trying to shut down the server, check the logs for more "
                          "information");
    }
    if (srv.aof_enabled && !srv.loading.load()) {
      // Everything acknowledged is written; close the LZ4 frame and fsync. From here on writes are
      // refused (clients are still served until the process exits); each slot range, once a lock
      // holder is done with it, sends the effects it gathered, so they are in the aof_writer's
      // mailbox before the flush.
      srv.write_fence.store(true);
      caf::scoped_actor waiter{sys};
      // All at once: a range answers once a lock holder is done with it (a long FLUSHALL holds
      // them all), so the wait is the longest answer, not their sum.
      using flush_handle = decltype(waiter->request(srv.routing->ranges[0], std::chrono::seconds(60),
                                                    actors::flush_atom::value));
      std::vector<flush_handle> flushes;
      for (auto& range : srv.routing->ranges)
        flushes.push_back(waiter->request(range, std::chrono::seconds(60), actors::flush_atom::value));
      for (auto& f : flushes)
        f.receive([](bool) {}, [](caf::error&) { config::log_warning("A slot range did not answer the AOF flush"); });
      waiter->request(srv.aof, std::chrono::seconds(10), actors::flush_atom::value)
        .receive([](std::string& err) {
                   if (!err.empty())
                     config::log_warning("Error trying to flush the append only file: " + err);
                 },
                 [](caf::error&) { config::log_warning("The append only file was not flushed in time"); });
    }
    if (!srv.pidfile.empty()) {
      config::log_notice("Removing the pid file.");
      unlink(srv.pidfile.c_str());
    }
    config::log_warning("Troupe is now ready to exit, bye bye...");
    // Everything that must outlive the process is on disk (the final snapshot, the AOF flushed and
    // fsynced, nodes.conf written as it changed): leave now, as redis-server does, rather than
    // wait for every connection actor to wind down (the actor system's destructor would).
    std::fflush(nullptr);
    std::_Exit(0);
  }
  std::_Exit(0);
}
