#include "keyspace/commands.hpp"

#include "protocol/command_table.hpp"

namespace troupe::keyspace {

command_registry::command_registry() {
  commands_.resize(protocol::command_table::instance().size());
  register_string_commands(*this);
  register_bitmap_commands(*this);
  register_sort_commands(*this);
  register_key_commands(*this);
  register_server_commands(*this);
  register_hash_commands(*this);
  register_set_commands(*this);
  register_list_commands(*this);
  register_zset_commands(*this);
}

void command_registry::add(std::string_view name, data_handler fn, scope where) {
  int id = protocol::command_table::instance().implement(name);
  commands_[static_cast<size_t>(id)] = data_command{fn, where};
}

void execute(exec_context& ctx, int cmd) {
  auto* c = command_registry::instance().find(cmd);
  if (c == nullptr) {
    ctx.out().error("ERR unknown command");
    return;
  }
  const auto& spec = protocol::command_table::instance().at(cmd);
  if (ctx.writes_refused() && spec.has(protocol::cmd_write)) {
    ctx.out().error("ERR Troupe is shutting down: writes are refused");
    return;
  }
  ctx.set_command_name(spec.display_name);
  ctx.begin_command();
  c->fn(ctx);
  ctx.end_command();
}

} // namespace troupe::keyspace
