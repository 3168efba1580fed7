// DUMP and RESTORE: data commands (they run in the slot_range owning the key) whose payload codec
// lives in persistence/. Registered into keyspace's command registry at start-up.
#pragma once

#include "keyspace/commands.hpp"

namespace troupe::persistence {

void register_dump_commands(keyspace::command_registry& r);

} // namespace troupe::persistence
