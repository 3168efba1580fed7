// List commands (to be written).
#include "keyspace/commands.hpp"

namespace troupe::keyspace {

void register_list_commands(command_registry&) {}

} // namespace troupe::keyspace
