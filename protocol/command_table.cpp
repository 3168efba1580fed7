#include "protocol/command_table.hpp"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "protocol/numbers.hpp"

namespace troupe::protocol {

namespace {

struct raw_spec {
  const char* name;
  int arity;
  const char* flags;
  int first, last, step;
  const char* acl;
  const char* tips;
  const char* key_specs;
  const char* group;
  const char* since;
};

const raw_spec raw_specs[] = {
#define TROUPE_COMMAND(name, arity, flags, first, last, step, acl, tips, specs, group, since) \
  {name, arity, flags, first, last, step, acl, tips, specs, group, since},
#include "protocol/command_specs.inc"
#include "protocol/command_specs_troupe.inc"
#undef TROUPE_COMMAND
};

std::vector<std::string> words(std::string_view s) {
  std::vector<std::string> out;
  std::istringstream in{std::string(s)};
  std::string w;
  while (in >> w)
    out.push_back(w);
  return out;
}

std::vector<std::string> split(std::string_view s, std::string_view sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    auto pos = s.find(sep, start);
    out.emplace_back(s.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
    if (pos == std::string_view::npos)
      return out;
    start = pos + sep.size();
  }
}

int to_int(std::string_view s) { return std::atoi(std::string(s).c_str()); }

key_spec parse_key_spec(std::string_view text) {
  key_spec ks;
  auto parts = split(text, ";");
  ks.flags = words(parts.at(0));
  for (auto& f : ks.flags) {
    if (f == "incomplete")
      ks.incomplete = true;
    if (f == "not_key")
      ks.not_key = true;
  }
  const std::string& bs = parts.at(1);
  if (bs.rfind("index:", 0) == 0) {
    ks.begin_type = key_spec::begin::index;
    ks.index = to_int(bs.substr(6));
  } else if (bs.rfind("keyword:", 0) == 0) {
    ks.begin_type = key_spec::begin::keyword;
    auto kw = bs.substr(8);
    auto comma = kw.rfind(',');
    ks.keyword = kw.substr(0, comma);
    ks.startfrom = to_int(kw.substr(comma + 1));
  }
  const std::string& fk = parts.at(2);
  if (fk.rfind("range:", 0) == 0) {
    ks.find_type = key_spec::find::range;
    auto v = split(fk.substr(6), ",");
    ks.lastkey = to_int(v.at(0));
    ks.keystep = to_int(v.at(1));
    ks.limit = to_int(v.at(2));
  } else if (fk.rfind("keynum:", 0) == 0) {
    ks.find_type = key_spec::find::keynum;
    auto v = split(fk.substr(7), ",");
    ks.keynumidx = to_int(v.at(0));
    ks.firstkey = to_int(v.at(1));
    ks.keynum_step = to_int(v.at(2));
  }
  return ks;
}

uint32_t flag_bit(std::string_view w) {
  static const std::pair<const char*, command_flag> names[] = {
    {"write", cmd_write}, {"readonly", cmd_readonly}, {"denyoom", cmd_denyoom},
    {"admin", cmd_admin}, {"pubsub", cmd_pubsub}, {"noscript", cmd_noscript},
    {"blocking", cmd_blocking}, {"loading", cmd_loading}, {"stale", cmd_stale},
    {"fast", cmd_fast}, {"no_auth", cmd_no_auth}, {"may_replicate", cmd_may_replicate},
    {"no_mandatory_keys", cmd_no_mandatory_keys}, {"protected", cmd_protected},
    {"no_multi", cmd_no_multi}, {"movablekeys", cmd_movablekeys}, {"asking", cmd_asking},
    {"allow_busy", cmd_allow_busy},
  };
  for (auto& [n, f] : names)
    if (w == n)
      return f;
  return 0;
}

} // namespace

const char* command_summary(std::string_view name); // command_docs.cpp

void to_lower(std::string_view in, std::string& out) {
  out.resize(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    out[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
  }
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z')
      x = static_cast<char>(x + 32);
    if (y >= 'A' && y <= 'Z')
      y = static_cast<char>(y + 32);
    if (x != y)
      return false;
  }
  return true;
}

command_table::command_table() {
  for (auto& r : raw_specs) {
    command_spec c;
    c.id = static_cast<int>(specs_.size());
    c.name = r.name;
    c.display_name = r.name;
    c.arity = r.arity;
    c.flag_words = words(r.flags);
    for (auto& w : c.flag_words)
      c.flags |= flag_bit(w);
    c.first_key = r.first;
    c.last_key = r.last;
    c.key_step = r.step;
    c.acl_categories = words(r.acl);
    c.tips = words(r.tips);
    if (*r.key_specs)
      for (auto& s : split(r.key_specs, " / "))
        c.key_specs.push_back(parse_key_spec(s));
    if (c.key_specs.size() == 1) {
      const auto& ks = c.key_specs[0];
      if (!ks.not_key && ks.begin_type == key_spec::begin::index && ks.index > 0
          && ks.find_type == key_spec::find::range && ks.lastkey == 0)
        c.single_key = ks.index;
    }
    c.group = r.group;
    c.since = r.since;
    c.summary = command_summary(c.name);
    auto bar = c.name.find('|');
    if (bar != std::string::npos) {
      auto parent = c.name.substr(0, bar);
      for (auto& p : specs_)
        if (p.name == parent) {
          c.parent = p.id;
          p.subcommands.push_back(c.id);
          break;
        }
    } else {
      index_.emplace_back(c.name, c.id);
    }
    specs_.push_back(std::move(c));
  }
  std::sort(index_.begin(), index_.end());
  size_t n = 1;
  while (n < index_.size() * 4)
    n <<= 1;
  by_hash_.assign(n, -1);
  for (size_t i = 0; i < index_.size(); ++i) {
    uint32_t h = 2166136261u;
    for (char c : index_[i].first)
      h = (h ^ static_cast<uint8_t>(c)) * 16777619u;
    size_t at = h & (n - 1);
    while (by_hash_[at] >= 0)
      at = (at + 1) & (n - 1);
    by_hash_[at] = static_cast<int32_t>(i);
  }
}

const command_spec* command_table::find(std::string_view name) const {
  char buf[64];
  if (name.size() > sizeof(buf))
    return nullptr;
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    buf[i] = (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
    h = (h ^ static_cast<uint8_t>(buf[i])) * 16777619u;
  }
  std::string_view key(buf, name.size());
  size_t mask = by_hash_.size() - 1;
  for (size_t at = h & mask; by_hash_[at] >= 0; at = (at + 1) & mask) {
    auto& e = index_[static_cast<size_t>(by_hash_[at])];
    if (e.first.size() == key.size() && std::memcmp(e.first.data(), key.data(), key.size()) == 0)
      return &specs_[static_cast<size_t>(e.second)];
  }
  return nullptr;
}

const command_spec* command_table::find_sub(const command_spec& parent, std::string_view sub) const {
  for (int id : parent.subcommands) {
    auto& c = specs_[static_cast<size_t>(id)];
    std::string_view short_name = std::string_view(c.name).substr(parent.name.size() + 1);
    if (iequals(short_name, sub))
      return &c;
  }
  return nullptr;
}

int command_table::implement(std::string_view name) {
  for (auto& c : specs_)
    if (c.name == name) {
      c.implemented = true;
      if (c.parent >= 0)
        specs_[static_cast<size_t>(c.parent)].implemented = true;
      return c.id;
    }
  std::abort(); // a command name that Redis 7.0 does not have: a programming error
}

int command_table::id_of(std::string_view name) const {
  for (auto& c : specs_)
    if (c.name == name)
      return c.id;
  return -1;
}

size_t command_table::implemented_count() const {
  size_t n = 0;
  for (auto& c : specs_)
    if (c.parent < 0 && c.implemented)
      ++n;
  return n;
}

const command_spec* command_table::lookup_call(const std::vector<std::string_view>& args) const {
  if (args.empty())
    return nullptr;
  const command_spec* c = find(args[0]);
  if (c != nullptr && c->is_container() && args.size() >= 2)
    c = find_sub(*c, args[1]);
  return c != nullptr && c->implemented ? c : nullptr;
}

void command_table::blocking_key_positions(const command_spec& cmd, const std::vector<std::string_view>& args,
                                           std::vector<int>& positions) const {
  std::vector<int> all, spec_of;
  key_positions(cmd, args, all, &spec_of);
  positions.clear();
  for (size_t i = 0; i < all.size(); ++i) {
    auto s = static_cast<size_t>(spec_of[i]);
    bool pops = s >= cmd.key_specs.size();
    if (!pops) {
      const auto& flags = cmd.key_specs[s].flags;
      pops = std::find(flags.begin(), flags.end(), "delete") != flags.end();
    }
    if (pops)
      positions.push_back(all[i]);
  }
}

bool command_table::key_positions(const command_spec& cmd, const std::vector<std::string_view>& args,
                                  std::vector<int>& positions, std::vector<int>* spec_of) const {
  positions.clear();
  if (spec_of)
    spec_of->clear();
  if (cmd.single_key > 0) {
    if (cmd.single_key >= static_cast<int>(args.size()))
      return false;
    positions.push_back(cmd.single_key);
    if (spec_of)
      spec_of->push_back(0);
    return true;
  }
  int spec_index = -1;
  const int argc = static_cast<int>(args.size());
  for (auto& ks : cmd.key_specs) {
    ++spec_index;
    if (ks.not_key)
      continue;
    int first = 0;
    if (ks.begin_type == key_spec::begin::index) {
      first = ks.index;
    } else if (ks.begin_type == key_spec::begin::keyword) {
      int start = ks.startfrom > 0 ? ks.startfrom : argc + ks.startfrom;
      int end = ks.startfrom > 0 ? argc - 1 : 1;
      for (int i = start; i != end; i = start > end ? i - 1 : i + 1) {
        if (i >= argc || i < 1)
          break;
        if (iequals(args[static_cast<size_t>(i)], ks.keyword)) {
          first = i + 1;
          break;
        }
      }
      if (first == 0)
        continue;
    } else {
      continue; // unknown begin: only special-cased commands have these (SORT's STORE)
    }
    int last = 0, step = 1;
    if (ks.find_type == key_spec::find::range) {
      if (ks.lastkey >= 0)
        last = first + ks.lastkey;
      else if (ks.limit == 0)
        last = argc + ks.lastkey;
      else
        last = first + ((argc - first) / ks.limit + ks.lastkey);
      step = ks.keystep;
    } else if (ks.find_type == key_spec::find::keynum) {
      if (first + ks.keynumidx >= argc) {
        positions.clear();
        return false;
      }
      int64_t numkeys = 0;
      if (!parse_int64(args[static_cast<size_t>(first + ks.keynumidx)], numkeys) || numkeys < 0
          || numkeys > argc) {
        positions.clear();
        return false;
      }
      first += ks.firstkey;
      last = first + static_cast<int>(numkeys) - 1;
      step = ks.keynum_step;
    } else {
      continue;
    }
    if (step <= 0)
      step = 1;
    // First or last out of bounds is a syntax error (a bad numkeys, or too few arguments).
    if (last >= argc || last < first || first >= argc) {
      positions.clear();
      if (spec_of)
        spec_of->clear();
      return false;
    }
    for (int i = first; i <= last; i += step) {
      if (i >= argc || i < first)
        continue; // too few arguments: the command itself reports the error
      positions.push_back(i);
      if (spec_of)
        spec_of->push_back(spec_index);
    }
  }
  // SORT / SORT_RO: "STORE <key>" is a key Redis finds by hand.
  static const int sort_id = id_of("sort");   // (id_of is a scan: once)
  if (cmd.id == sort_id) {
    for (int i = 2; i + 1 < argc; ++i) {
      if (iequals(args[static_cast<size_t>(i)], "store")) {
        positions.push_back(i + 1);
        if (spec_of)
          spec_of->push_back(2);
        ++i;
      } else if (iequals(args[static_cast<size_t>(i)], "limit")) {
        i += 2;
      } else if (iequals(args[static_cast<size_t>(i)], "get") || iequals(args[static_cast<size_t>(i)], "by")) {
        ++i;
      }
    }
  }
  return true;
}

namespace {

void write_words(resp_writer& w, const std::vector<std::string>& v, bool as_set) {
  if (as_set)
    w.set(v.size());
  else
    w.array(v.size());
  for (auto& s : v)
    w.simple(s);
}

void write_key_spec(resp_writer& w, const key_spec& ks) {
  w.map(3);
  w.bulk("flags");
  write_words(w, ks.flags, true);
  w.bulk("begin_search");
  if (ks.begin_type == key_spec::begin::index) {
    w.map(2);
    w.bulk("type");
    w.bulk("index");
    w.bulk("spec");
    w.map(1);
    w.bulk("index");
    w.integer(ks.index);
  } else if (ks.begin_type == key_spec::begin::keyword) {
    w.map(2);
    w.bulk("type");
    w.bulk("keyword");
    w.bulk("spec");
    w.map(2);
    w.bulk("keyword");
    w.bulk(ks.keyword);
    w.bulk("startfrom");
    w.integer(ks.startfrom);
  } else {
    w.map(2);
    w.bulk("type");
    w.bulk("unknown");
    w.bulk("spec");
    w.map(0);
  }
  w.bulk("find_keys");
  if (ks.find_type == key_spec::find::range) {
    w.map(2);
    w.bulk("type");
    w.bulk("range");
    w.bulk("spec");
    w.map(3);
    w.bulk("lastkey");
    w.integer(ks.lastkey);
    w.bulk("keystep");
    w.integer(ks.keystep);
    w.bulk("limit");
    w.integer(ks.limit);
  } else if (ks.find_type == key_spec::find::keynum) {
    w.map(2);
    w.bulk("type");
    w.bulk("keynum");
    w.bulk("spec");
    w.map(3);
    w.bulk("keynumidx");
    w.integer(ks.keynumidx);
    w.bulk("firstkey");
    w.integer(ks.firstkey);
    w.bulk("keystep");
    w.integer(ks.keynum_step);
  } else {
    w.map(2);
    w.bulk("type");
    w.bulk("unknown");
    w.bulk("spec");
    w.map(0);
  }
}

} // namespace

void command_table::write_info(resp_writer& w, const command_spec& c) const {
  w.array(10);
  w.bulk(c.name);
  w.integer(c.arity);
  write_words(w, c.flag_words, true);
  w.integer(c.first_key);
  w.integer(c.last_key);
  w.integer(c.key_step);
  write_words(w, c.acl_categories, true);
  w.set(c.tips.size());
  for (auto& t : c.tips)
    w.bulk(t);
  w.set(c.key_specs.size());
  for (auto& ks : c.key_specs)
    write_key_spec(w, ks);
  size_t subs = 0;
  for (int id : c.subcommands)
    subs += specs_[static_cast<size_t>(id)].implemented ? 1 : 0;
  w.set(subs);
  for (int id : c.subcommands)
    if (specs_[static_cast<size_t>(id)].implemented)
      write_info(w, specs_[static_cast<size_t>(id)]);
}

void command_table::write_docs(resp_writer& w, const command_spec& c) const {
  size_t subs = 0;
  for (int id : c.subcommands)
    subs += specs_[static_cast<size_t>(id)].implemented ? 1 : 0;
  w.map(3 + (subs > 0 ? 1 : 0));
  w.bulk("summary");
  w.bulk(c.summary);
  w.bulk("since");
  w.bulk(c.since);
  w.bulk("group");
  w.bulk(c.group);
  if (subs > 0) {
    w.bulk("subcommands");
    w.map(subs);
    for (int id : c.subcommands) {
      auto& s = specs_[static_cast<size_t>(id)];
      if (!s.implemented)
        continue;
      w.bulk(s.name);
      write_docs(w, s);
    }
  }
}

} // namespace troupe::protocol
