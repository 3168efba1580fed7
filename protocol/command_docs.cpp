// Troupe's own one-line summaries for COMMAND DOCS (written for Troupe, not taken from Redis).
#include <string_view>
#include <utility>

namespace troupe::protocol {

namespace {

const std::pair<const char*, const char*> summaries[] = {
  // strings
  {"append", "Adds bytes to the end of a string value, creating it if absent"},
  {"decr", "Subtracts one from the integer stored at a key"},
  {"decrby", "Subtracts an amount from the integer stored at a key"},
  {"get", "Returns the string stored at a key"},
  {"getdel", "Returns a string value and removes its key"},
  {"getex", "Returns a string value and changes or removes its time to live"},
  {"getrange", "Returns a byte range of a string value"},
  {"getset", "Stores a new string value and returns the previous one"},
  {"incr", "Adds one to the integer stored at a key"},
  {"incrby", "Adds an amount to the integer stored at a key"},
  {"incrbyfloat", "Adds a floating point amount to the number stored at a key"},
  {"mget", "Returns the string values of several keys"},
  {"mset", "Stores several string values at once"},
  {"msetnx", "Stores several string values only if none of their keys exists"},
  {"psetex", "Stores a string value with a time to live in milliseconds"},
  {"set", "Stores a string value, with optional conditions and time to live"},
  {"setex", "Stores a string value with a time to live in seconds"},
  {"setnx", "Stores a string value only if its key does not exist"},
  {"setrange", "Overwrites part of a string value at an offset"},
  {"strlen", "Returns the length in bytes of a string value"},
  // generic keys
  {"copy", "Copies the value of a key to another key"},
  {"del", "Removes keys"},
  {"exists", "Counts how many of the given keys exist"},
  {"expire", "Sets a key's time to live in seconds"},
  {"expireat", "Sets a key's expiry as a Unix time in seconds"},
  {"expiretime", "Returns a key's expiry as a Unix time in seconds"},
  {"keys", "Returns the keys that match a glob pattern"},
  {"move", "Moves a key to another database"},
  {"persist", "Removes a key's time to live"},
  {"pexpire", "Sets a key's time to live in milliseconds"},
  {"pexpireat", "Sets a key's expiry as a Unix time in milliseconds"},
  {"pexpiretime", "Returns a key's expiry as a Unix time in milliseconds"},
  {"pttl", "Returns a key's time to live in milliseconds"},
  {"randomkey", "Returns a key chosen at random"},
  {"rename", "Gives a key a new name, replacing any key of that name"},
  {"renamenx", "Gives a key a new name only if that name is free"},
  {"scan", "Iterates over the keys of the database with a cursor"},
  {"touch", "Updates the last access time of keys and counts those that exist"},
  {"ttl", "Returns a key's time to live in seconds"},
  {"type", "Returns the type of the value stored at a key"},
  {"unlink", "Removes keys, reclaiming their memory later"},
  {"object", "Inspects how a value is stored"},
  {"object|encoding", "Returns the internal encoding of a value"},
  {"object|freq", "Returns the access frequency counter of a key"},
  {"object|idletime", "Returns the seconds since a key was last accessed"},
  {"object|refcount", "Returns the reference count of a value"},
  {"object|help", "Lists the OBJECT subcommands"},
  // databases and server
  {"dbsize", "Returns the number of keys in the selected database"},
  {"flushall", "Removes every key of every database"},
  {"flushdb", "Removes every key of the selected database"},
  {"select", "Changes the database of the connection"},
  {"swapdb", "Exchanges the contents of two databases"},
  {"info", "Returns information and statistics about the server"},
  {"time", "Returns the server's clock"},
  {"lastsave", "Returns the Unix time of the last successful save"},
  {"shutdown", "Stops the server, optionally saving first"},
  {"debug", "Debugging and testing aids"},
  {"config", "Reads and changes the server configuration"},
  {"config|get", "Returns the values of configuration parameters"},
  {"config|set", "Changes configuration parameters at run time"},
  {"config|resetstat", "Resets the server's statistics"},
  {"config|rewrite", "Writes the current configuration back to the config file"},
  {"config|help", "Lists the CONFIG subcommands"},
  {"command", "Describes the commands the server knows"},
  {"command|count", "Returns how many commands the server knows"},
  {"command|docs", "Returns documentation about commands"},
  {"command|getkeys", "Extracts the keys from a full command"},
  {"command|getkeysandflags", "Extracts the keys and their access flags from a full command"},
  {"command|info", "Returns details about commands"},
  {"command|list", "Returns the names of the commands, optionally filtered"},
  {"command|help", "Lists the COMMAND subcommands"},
  // connection
  {"auth", "Authenticates the connection"},
  {"client", "Manages client connections"},
  {"client|getname", "Returns the connection's name"},
  {"client|id", "Returns the connection's unique id"},
  {"client|info", "Describes the current connection"},
  {"client|kill", "Closes client connections"},
  {"client|list", "Describes every client connection"},
  {"client|setinfo", "Records the client library's name or version"},
  {"client|setname", "Names the connection"},
  {"client|help", "Lists the CLIENT subcommands"},
  {"echo", "Returns its argument"},
  {"hello", "Negotiates the protocol version, optionally authenticating and naming the connection"},
  {"ping", "Checks that the server answers"},
  {"quit", "Closes the connection"},
  {"reset", "Resets the connection to its initial state"},
};

} // namespace

const char* command_summary(std::string_view name) {
  for (auto& [n, s] : summaries)
    if (name == n)
      return s;
  return "";
}

} // namespace troupe::protocol
