// Zset commands (to be written).
#include "keyspace/commands.hpp"

namespace troupe::keyspace {

void register_zset_commands(command_registry&) {}

} // namespace troupe::keyspace
