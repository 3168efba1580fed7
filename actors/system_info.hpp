// Gathers INFO's figures: the node's counters, the slot_ranges' reports and the process's own
// figures from the OS (memory, CPU).
#pragma once

#include <string>
#include <vector>

#include "actors/server.hpp"
#include "keyspace/server_info.hpp"

namespace troupe::actors {

keyspace::info_figures collect_info(server& srv, const std::vector<slot_range_report>& reports);
// MEMORY STATS / DOCTOR's figures: the allocator's, the process's and the slot_ranges' tables'.
keyspace::memory_figures collect_memory(server& srv, const std::vector<slot_range_report>& reports);
// MEMORY MALLOC-STATS: jemalloc's own report.
std::string allocator_report();
// MEMORY PURGE: jemalloc hands the dirty pages of every arena back to the OS.
void purge_allocator();
// Bytes allocated (jemalloc, which troupe-server links in place of glibc's malloc) and still in use
// (INFO used_memory).
uint64_t used_memory();
// Resident set size of the process (INFO used_memory_rss).
uint64_t resident_memory();
// The allocator and its version, as INFO mem_allocator shows it ("jemalloc-5.3.0").
std::string allocator_name();

} // namespace troupe::actors
