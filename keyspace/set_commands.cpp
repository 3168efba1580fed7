// Set commands (to be written).
#include "keyspace/commands.hpp"

namespace troupe::keyspace {

void register_set_commands(command_registry&) {}

} // namespace troupe::keyspace
