// SORT and SORT_RO: the elements of a list, set or sorted set, sorted as numbers or (ALPHA) as
// strings, by themselves or by the keys a BY pattern names, cut by LIMIT, shown through GET
// patterns, or stored as a list (STORE). Replies, errors and orderings are Redis 7.0's.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "keyspace/commands.hpp"
#include "keyspace/hash_value.hpp"
#include "keyspace/list_value.hpp"
#include "keyspace/set_value.hpp"
#include "keyspace/zset_value.hpp"
#include "protocol/command_table.hpp"
#include "protocol/numbers.hpp"

namespace troupe::keyspace {

using protocol::iequals;

namespace {

// What a BY or GET pattern names for `element`: "#" is the element itself; otherwise the first
// '*' takes the element, and "->field" after it reads a hash field instead of a string. Nothing
// (nullopt) for a pattern without '*', a missing key or one of another type.
std::optional<std::string> by_pattern(exec_context& c, std::string_view pattern, std::string_view element) {
  if (pattern == "#")
    return std::string(element);
  size_t star = pattern.find('*');
  if (star == std::string_view::npos)
    return std::nullopt;
  size_t arrow = pattern.find("->", star + 1);
  std::string_view field;
  std::string_view rest = pattern.substr(star + 1);
  if (arrow != std::string_view::npos && arrow + 2 < pattern.size()) {
    field = pattern.substr(arrow + 2);
    rest = pattern.substr(star + 1, arrow - star - 1);
  }
  std::string key(pattern.substr(0, star));
  key.append(element);
  key.append(rest);
  entry* e = c.lookup_read(key);
  if (e == nullptr)
    return std::nullopt;
  if (!field.empty()) {
    if (e->type != vtype::hash)
      return std::nullopt;
    auto v = static_cast<hash_value*>(e->coll())->find(field);
    return v ? std::optional<std::string>(std::string(*v)) : std::nullopt;
  }
  if (e->type != vtype::string)
    return std::nullopt;
  return std::string(e->str());
}

struct item {
  std::string element;
  double score = 0;
  std::optional<std::string> by;   // ALPHA with BY: the value sorted by
};

// Binary order (memcmp, then the shorter first), as Redis compares string objects.
int binary_compare(std::string_view a, std::string_view b) {
  int r = std::memcmp(a.data(), b.data(), std::min(a.size(), b.size()));
  if (r != 0)
    return r;
  return a.size() < b.size() ? -1 : a.size() > b.size() ? 1 : 0;
}

// The locale's collation of two strings (up to a NUL byte, as strcoll reads them).
int collate(const std::string& a, const std::string& b) { return std::strcoll(a.c_str(), b.c_str()); }

// A number as SORT reads one: strtod over the whole string (an empty one is 0), not NaN, in range.
bool sort_score(const std::string& s, double& out) {
  char* end = nullptr;
  errno = 0;
  out = std::strtod(s.c_str(), &end);
  return *end == '\0' && errno != ERANGE && !std::isnan(out);
}

void sort(exec_context& c, bool read_only) {
  bool desc = false, alpha = false, dont_sort = false;
  int64_t limit_start = 0, limit_count = -1;
  std::optional<std::string_view> by, store;
  std::vector<std::string_view> gets;
  for (size_t j = 2; j < c.argc(); ++j) {
    std::string_view opt = c.arg(j);
    size_t left = c.argc() - j - 1;
    if (iequals(opt, "asc")) {
      desc = false;
    } else if (iequals(opt, "desc")) {
      desc = true;
    } else if (iequals(opt, "alpha")) {
      alpha = true;
    } else if (iequals(opt, "limit") && left >= 2) {
      if (!protocol::parse_int64(c.arg(j + 1), limit_start) || !protocol::parse_int64(c.arg(j + 2), limit_count)) {
        c.reply_not_integer();
        return;
      }
      j += 2;
    } else if (iequals(opt, "store") && left >= 1 && !read_only) {
      store = c.arg(++j);
    } else if (iequals(opt, "by") && left >= 1) {
      by = c.arg(++j);
      // A pattern without '*' names no key: nothing to sort by.
      if (by->find('*') == std::string_view::npos) {
        dont_sort = true;
      } else if (c.settings().cluster_enabled) {
        c.out().error("ERR BY option of SORT denied in Cluster mode.");
        return;
      }
    } else if (iequals(opt, "get") && left >= 1) {
      if (c.settings().cluster_enabled) {
        c.out().error("ERR GET option of SORT denied in Cluster mode.");
        return;
      }
      gets.push_back(c.arg(++j));
    } else {
      c.reply_syntax_error();
      return;
    }
  }
  // The keys a pattern names may belong to another slot range, whose actor may run on another
  // thread: only one slot range sees them all.
  bool patterns = (by && !dont_sort) || std::any_of(gets.begin(), gets.end(), [](auto g) { return g != "#"; });
  if (patterns && c.settings().slot_ranges > 1) {
    c.out().error("ERR SORT with BY or GET patterns needs slot-actors 1 in Troupe (their keys may be in any slot range)");
    return;
  }
  entry* e = store ? c.lookup_write(c.arg(1)) : c.lookup_read(c.arg(1));
  if (e != nullptr && e->type != vtype::list && e->type != vtype::set && e->type != vtype::zset) {
    c.wrong_type(e, vtype::list);   // (replies WRONGTYPE)
    return;
  }
  vtype type = e != nullptr ? e->type : vtype::list;
  // A set in its own order would not be the same on every replica or reload: sorted when stored.
  if (dont_sort && type == vtype::set && store) {
    dont_sort = false;
    alpha = true;
    by.reset();
  }
  int64_t len = e != nullptr ? static_cast<int64_t>(e->coll()->size()) : 0;
  int64_t start = limit_start < 0 ? 0 : limit_start;
  int64_t end = limit_count < 0 ? len - 1 : start + limit_count - 1;
  if (start >= len) {
    start = len - 1;
    end = len - 2;
  }
  if (end >= len)
    end = len - 1;
  std::vector<item> items;
  if (e != nullptr && dont_sort && (type == vtype::list || type == vtype::zset)) {
    // In the value's own order (reversed for DESC): only the range LIMIT keeps.
    for (int64_t i = start; i <= end; ++i) {
      auto at = static_cast<size_t>(desc ? len - 1 - i : i);
      items.push_back({std::string(type == vtype::list ? static_cast<list_value*>(e->coll())->at(at)
                                                        : static_cast<zset_value*>(e->coll())->at(at).first),
                       0, std::nullopt});
    }
    end -= start;
    start = 0;
  } else if (e != nullptr) {
    items.reserve(static_cast<size_t>(len));
    if (type == vtype::list)
      static_cast<list_value*>(e->coll())->for_each([&](std::string_view v) { items.push_back({std::string(v), 0, std::nullopt}); });
    else if (type == vtype::set)
      static_cast<set_value*>(e->coll())->for_each([&](std::string_view v) { items.push_back({std::string(v), 0, std::nullopt}); });
    else
      static_cast<zset_value*>(e->coll())->for_each([&](std::string_view m, double) { items.push_back({std::string(m), 0, std::nullopt}); });
  }
  if (!dont_sort) {
    bool bad_number = false;
    for (auto& it : items) {
      std::optional<std::string> value = by ? by_pattern(c, *by, it.element) : std::optional<std::string>(it.element);
      if (!value)
        continue;   // (scores 0, sorts first in ALPHA)
      if (alpha) {
        if (by)
          it.by = std::move(value);
      } else if (!sort_score(*value, it.score)) {
        bad_number = true;
      }
    }
    if (bad_number) {
      c.out().error("ERR One or more scores can't be converted into double");
      return;
    }
    bool stored = store.has_value();
    auto compare = [&](const item& a, const item& b) {
      int r = 0;
      if (!alpha) {
        // Equal scores: the elements themselves, in binary order.
        r = a.score < b.score ? -1 : a.score > b.score ? 1 : binary_compare(a.element, b.element);
      } else if (by) {
        if (!a.by || !b.by)
          r = a.by.has_value() == b.by.has_value() ? 0 : a.by ? 1 : -1;
        else
          r = stored ? binary_compare(*a.by, *b.by) : collate(*a.by, *b.by);
      } else {
        r = stored ? binary_compare(a.element, b.element) : collate(a.element, b.element);
      }
      return desc ? r > 0 : r < 0;
    };
    std::stable_sort(items.begin(), items.end(), compare);
  }
  // The output: each element of the range, or what each GET pattern names for it.
  std::vector<std::optional<std::string>> out;
  for (int64_t i = start; i <= end; ++i) {
    auto& it = items[static_cast<size_t>(i)];
    if (gets.empty())
      out.emplace_back(it.element);
    for (auto g : gets)
      out.push_back(by_pattern(c, g, it.element));
  }
  if (!store) {
    c.out().array(out.size());
    for (auto& v : out)
      if (v)
        c.out().bulk(*v);
      else
        c.out().null();
    return;
  }
  std::string_view dest = *store;
  if (out.empty()) {
    if (c.remove(dest))
      c.changed();
    c.out().integer(0);
    return;
  }
  auto list = std::make_unique<list_value>(c.settings().list_max_listpack_size);
  for (auto& v : out)
    list->push_back(v ? std::string_view(*v) : std::string_view());
  c.remove(dest);
  c.add(make_collection_entry(dest, hash_key(dest), vtype::list, std::move(list), -1));
  c.changed(out.size());
  c.out().integer(static_cast<int64_t>(out.size()));
}

void cmd_sort(exec_context& c) { sort(c, false); }
void cmd_sort_ro(exec_context& c) { sort(c, true); }

} // namespace

void register_sort_commands(command_registry& r) {
  r.add("sort", cmd_sort);
  r.add("sort_ro", cmd_sort_ro);
}

} // namespace troupe::keyspace
