// Shared by the connection's source files (connection.cpp: input, routing, segments, locks;
// connection_services.cpp: the commands served with other actors' help; connection_multi.cpp:
// MULTI/EXEC, pub/sub). Not for other actors.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "actors/connection.hpp"
#include "protocol/command_table.hpp"
#include "protocol/resp_writer.hpp"

namespace troupe::actors::conn {

using protocol::resp_writer;
using args_t = keyspace::args_t;

// ---- output ----
// Queues bytes for the client; flush_out() sends what is queued (send_bytes sends at once).
void write_out(connection_ptr self, std::string_view bytes);
void flush_out(connection_ptr self);
void send_bytes(connection_ptr self, std::string_view bytes);
resp_writer local_writer(connection_ptr self);
void end_local(connection_ptr self);
void local_error(connection_ptr self, std::string_view msg);
// Counts a reply the connection answers if it is an error, "-CODE message\r\n" (INFO
// total_error_replies and errorstats); end_local and deferred_done count theirs.
void count_error(connection_ptr self, std::string_view reply);
void close_now(connection_ptr self);
bool is_loopback(const std::string& addr);
// Brings client_info.last_cmd up to date with the last command routed.
void sync_last_cmd(connection_ptr self);
keyspace::client_info& refreshed_info(connection_ptr self);

// ---- deferred commands (run alone, after the segment before them) ----
// Finishes the deferred command with this reply and goes on with the input (or, inside EXEC,
// fills the command's slot of the EXEC reply).
void deferred_done(connection_ptr self, std::string reply);
// Asks every slot_range for its report (keys, stats) and calls `done` with those that answered.
void with_range_reports(connection_ptr self, std::function<void(std::vector<slot_range_report>&)> done);
void process(connection_ptr self);

// ---- services: commands served with the help of other actors ----
struct service {
  // Synchronous ones answer at once into `w`; asynchronous ones finish with deferred_done().
  void (*sync)(connection_ptr, const args_t&, resp_writer&) = nullptr;
  void (*async)(connection_ptr, const std::vector<std::string>&) = nullptr;
};
// The service for a command-table id, or nullptr.
const service* find_service(int id);
void register_services();
int debug_id();
// DEBUG's own subcommands; false when the subcommand is a data one (routed by keys in `keys`).
bool debug_command(connection_ptr self, resp_writer& w, std::vector<int>& keys);

// ---- cluster mode (connection_cluster.cpp) ----
void register_cluster_commands(std::vector<service>& services);
// READONLY / READWRITE / ASKING, and CLUSTER in a node without cluster support. True if handled.
bool cluster_connection_command(connection_ptr self, const protocol::command_spec& spec);
// Whether cluster_connection_command or slot_command_target ever handles this command (the former
// checks it first).
bool cluster_local(const protocol::command_spec& spec);
// Checks a keyed command against slot ownership; replies the redirection (CROSSSLOT, MOVED ...)
// and returns true when it may not run here.
bool cluster_redirect(connection_ptr self, const protocol::command_spec& spec, const args_t& args);
// The same for the queued commands of an EXEC (all of them must be in one slot served here).
bool cluster_exec_redirect(connection_ptr self, std::string& error);
// CLUSTER COUNTKEYSINSLOT / GETKEYSINSLOT run in the slot_range that owns the slot: its index, or
// -1 for other commands.
int slot_command_target(connection_ptr self, const protocol::command_spec& spec);

// ---- data commands under locks ----
void start_locked(connection_ptr self, std::vector<uint16_t> targets);
// Releases the locks held; the effects of what ran under them go to the AOF through to_disk, which
// may hold `reply`: returns true when it will come back later (deferred_done is then called
// with it).
enum class hold_mode { none, reply, without_reply };
bool unlock_all(connection_ptr self, const keyspace::keyspace_stats& stats, keyspace::effects_buffer& effects,
                std::string& reply, hold_mode mode = hold_mode::reply);
// Sends `effects` (numbered now, under the locks) to the aof_writer. With appendfsync always a
// hold is taken when they are writes, `wrote_earlier` (its writes went before, held without a
// reply) or any other write's reply waits for the disk; it counts in server::aof_held_out until
// everything numbered before it is on disk. hold_mode::reply: `reply` goes with it and comes
// back then (returns true); hold_mode::without_reply: only the count (the reply is not complete:
// an EXEC with asynchronous commands); hold_mode::none: no hold.
bool to_disk(connection_ptr self, keyspace::effects_buffer& effects, std::string& reply, hold_mode mode,
             bool wrote_earlier = false);
keyspace::events_observer& observer(connection_ptr self);

// ---- MULTI / EXEC / WATCH / pub/sub (connection_multi.cpp) ----
// Handles MULTI, EXEC, DISCARD, WATCH-in-MULTI errors, UNWATCH, RESET's extra work and the pub/sub
// commands. Returns true when the command was handled (or queued) here.
bool transaction_command(connection_ptr self, const protocol::command_spec& spec);
// Whether transaction_command or pubsub_command ever handles this command outside MULTI
// (transaction_command checks it first).
bool transaction_or_pubsub(const protocol::command_spec& spec);
// While the locks for EXEC are held.
void run_exec_locked(connection_ptr self);
bool exec_waiting_for_locks(connection_ptr self);
void exec_async_done(connection_ptr self, std::string reply);
void unwatch_all(connection_ptr self);
void exec_service(connection_ptr self, const std::vector<std::string>& args);
void register_transactions();
void forget_subscriptions(connection_ptr self);
bool pubsub_command(connection_ptr self, const protocol::command_spec& spec);
// RESP2 clients in subscribed mode may only run a few commands.
bool subscribed_mode(connection_ptr self);
void deliver(connection_ptr self, const pubsub_delivery& d);

} // namespace troupe::actors::conn
