// Gathers INFO's figures: the node's counters, the slot_ranges' reports and the process's own
// figures from the OS (memory, CPU).
#pragma once

#include <vector>

#include "actors/server.hpp"
#include "keyspace/server_info.hpp"

namespace troupe::actors {

keyspace::info_figures collect_info(server& srv, const std::vector<slot_range_report>& reports);
// Bytes allocated through malloc and still in use (INFO used_memory).
uint64_t used_memory();
// Resident set size of the process (INFO used_memory_rss).
uint64_t resident_memory();

} // namespace troupe::actors
