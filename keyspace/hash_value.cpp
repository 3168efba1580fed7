#include "keyspace/hash_value.hpp"
#include "keyspace/varint.hpp"

#include <algorithm>
#include <new>
#include <stdexcept>
#include <unordered_set>

#include "keyspace/digest.hpp"
#include "protocol/command_table.hpp"
#include "protocol/numbers.hpp"

namespace troupe::keyspace {

namespace detail {

void* checked_malloc(size_t size) {
  void* p = std::malloc(size);
  if (p == nullptr)
    throw std::bad_alloc();
  return p;
}

void* checked_realloc(void* p, size_t size) {
  void* q = std::realloc(p, size);
  if (q == nullptr)
    throw std::bad_alloc();
  return q;
}

} // namespace detail

namespace {

// The listpack's entries: a length prefix (keyspace/varint.hpp) and the bytes.
size_t encoded_size(std::string_view s) { return varint_size(s.size()) + s.size(); }

size_t put_string(char* p, std::string_view s) {
  size_t n = put_varint(p, s.size());
  if (!s.empty())
    std::memcpy(p + n, s.data(), s.size());
  return n + s.size();
}

// Redis refuses to let a listpack pass 1 GB (lpSafeToAdd) and converts the hash instead.
constexpr size_t listpack_safety_limit = size_t{1} << 30;

} // namespace

hash_value::hash_value(const hash_value& o) : lp_(nullptr), lp_bytes_(o.lp_bytes_), count_(o.count_) {
  if (o.is_listpack()) {
    if (o.lp_bytes_ > 0) {
      lp_ = static_cast<char*>(detail::checked_malloc(o.lp_bytes_));
      std::memcpy(lp_, o.lp_, o.lp_bytes_);
    }
    return;
  }
  auto t = std::make_unique<table_t>();
  t->reserve(o.ht_->size());
  o.ht_->for_each([&](const node* n) { t->insert(make_node(n->key(), n->value(), n->hash)); });
  ht_ = t.release();
}

hash_value::~hash_value() {
  if (is_listpack())
    std::free(lp_);
  else
    delete ht_;
}

std::unique_ptr<collection> hash_value::clone() const { return std::make_unique<hash_value>(*this); }

size_t hash_value::size() const { return is_listpack() ? count_ : ht_->size(); }

size_t hash_value::memory(size_t samples) const {
  size_t n = sizeof(*this);
  if (is_listpack())
    return n + lp_bytes_;
  return n + sizeof(table_t) + ht_->bucket_memory()
         + ht_->node_memory(samples, [](const node* x) { return sizeof(node) + x->field_len + x->value_len; });
}

void hash_value::digest(unsigned char out[20]) const {
  digest20 acc;
  std::memcpy(acc.data(), out, 20);
  for_each([&](std::string_view field, std::string_view value) {
    digest20 pair{};
    mix_digest(pair, field);
    mix_digest(pair, value);
    xor_digest(acc, pair.data(), pair.size());
  });
  std::memcpy(out, acc.data(), 20);
}

hash_value::field_value hash_value::read_pair(uint32_t& off) const {
  auto flen = static_cast<uint32_t>(get_varint(lp_, off));
  std::string_view field(lp_ + off, flen);
  off += flen;
  auto vlen = static_cast<uint32_t>(get_varint(lp_, off));
  std::string_view value(lp_ + off, vlen);
  off += vlen;
  return {field, value};
}

int64_t hash_value::lp_find(std::string_view field) const {
  for (uint32_t off = 0; off < lp_bytes_;) {
    uint32_t start = off;
    auto flen = static_cast<uint32_t>(get_varint(lp_, off));
    if (flen == field.size() && (flen == 0 || std::memcmp(lp_ + off, field.data(), flen) == 0))
      return start;
    off += flen;
    auto vlen = static_cast<uint32_t>(get_varint(lp_, off));
    off += vlen;
  }
  return -1;
}

void hash_value::lp_append(std::string_view field, std::string_view value) {
  size_t add = encoded_size(field) + encoded_size(value);
  lp_ = static_cast<char*>(detail::checked_realloc(lp_, lp_bytes_ + add));
  char* p = lp_ + lp_bytes_;
  p += put_string(p, field);
  put_string(p, value);
  lp_bytes_ += static_cast<uint32_t>(add);
}

void hash_value::lp_replace_value(uint32_t pair_off, std::string_view value) {
  uint32_t vstart = pair_off;
  auto flen = static_cast<uint32_t>(get_varint(lp_, vstart)); // vstart: at the field bytes
  vstart += flen;                                               // at the value's length prefix
  uint32_t vend = vstart;
  auto vlen = static_cast<uint32_t>(get_varint(lp_, vend));
  vend += vlen;
  size_t old_size = vend - vstart;
  size_t new_size = encoded_size(value);
  size_t tail = lp_bytes_ - vend;
  if (new_size > old_size) {
    lp_ = static_cast<char*>(detail::checked_realloc(lp_, lp_bytes_ + (new_size - old_size)));
    std::memmove(lp_ + vstart + new_size, lp_ + vend, tail);
  } else if (new_size < old_size) {
    std::memmove(lp_ + vstart + new_size, lp_ + vend, tail);
    lp_ = static_cast<char*>(detail::checked_realloc(lp_, lp_bytes_ - (old_size - new_size)));
  }
  put_string(lp_ + vstart, value);
  lp_bytes_ = static_cast<uint32_t>(lp_bytes_ - old_size + new_size);
}

void hash_value::lp_erase(uint32_t pair_off) {
  uint32_t end = pair_off;
  read_pair(end);
  std::memmove(lp_ + pair_off, lp_ + end, lp_bytes_ - end);
  lp_bytes_ -= end - pair_off;
  if (lp_bytes_ == 0) {
    std::free(lp_);
    lp_ = nullptr;
  } else {
    lp_ = static_cast<char*>(detail::checked_realloc(lp_, lp_bytes_));
  }
}

hash_value::node* hash_value::make_node(std::string_view field, std::string_view value, uint32_t hash) {
  auto* n = static_cast<node*>(detail::checked_malloc(sizeof(node) + field.size() + value.size()));
  n->next = nullptr;
  n->hash = hash;
  n->field_len = static_cast<uint32_t>(field.size());
  n->value_len = static_cast<uint32_t>(value.size());
  std::memcpy(n->data(), field.data(), field.size());
  std::memcpy(n->data() + field.size(), value.data(), value.size());
  return n;
}

std::optional<std::string_view> hash_value::find(std::string_view field) const {
  if (is_listpack()) {
    int64_t off = lp_find(field);
    if (off < 0)
      return std::nullopt;
    auto o = static_cast<uint32_t>(off);
    return read_pair(o).second;
  }
  const node* n = ht_->find(field, hash_key(field));
  if (n == nullptr)
    return std::nullopt;
  return n->value();
}

void hash_value::convert_to_hashtable(size_t expected) {
  if (!is_listpack())
    return;
  auto t = std::make_unique<table_t>();
  t->reserve(std::max<size_t>(expected, count_));
  for (uint32_t off = 0; off < lp_bytes_;) {
    field_value p = read_pair(off);
    t->insert(make_node(p.first, p.second, hash_key(p.first)));
  }
  std::free(lp_);
  ht_ = t.release();
  lp_bytes_ = 0;
  count_ = hashtable_mark;
}

void hash_value::prepare_for(const std::string_view* strings, size_t n, const keyspace_settings& s) {
  if (!is_listpack())
    return;
  size_t sum = 0;
  for (size_t i = 0; i < n; ++i) {
    std::string_view str = strings[i];
    if (static_cast<int64_t>(str.size()) > s.hash_max_listpack_value) {
      convert_to_hashtable();
      return;
    }
    sum += str.size();
  }
  if (lp_bytes_ + sum > listpack_safety_limit)
    convert_to_hashtable();
}

bool hash_value::set(std::string_view field, std::string_view value, const keyspace_settings& s) {
  if (is_listpack()) {
    auto limit = static_cast<uint64_t>(std::max<int64_t>(s.hash_max_listpack_value, 0));
    if (field.size() > limit || value.size() > limit
        || lp_bytes_ + encoded_size(field) + encoded_size(value) > listpack_safety_limit)
      convert_to_hashtable();
  }
  if (is_listpack()) {
    int64_t off = lp_find(field);
    if (off >= 0) {
      lp_replace_value(static_cast<uint32_t>(off), value);
      // As Redis: the entries limit is checked after every set, an update too (it may have been
      // lowered since the hash was built).
      if (static_cast<int64_t>(count_) > s.hash_max_listpack_entries)
        convert_to_hashtable();
      return false;
    }
    lp_append(field, value);
    ++count_;
    if (static_cast<int64_t>(count_) > s.hash_max_listpack_entries)
      convert_to_hashtable();
    return true;
  }
  uint32_t h = hash_key(field);
  if (node** link = ht_->find_link(field, h)) {
    node* old = *link;
    if (old->value_len == value.size()) {
      std::memcpy(old->data() + old->field_len, value.data(), value.size());
    } else {
      node* fresh = make_node(field, value, h);
      fresh->next = old->next;
      *link = fresh;
      std::free(old);
    }
    return false;
  }
  ht_->insert(make_node(field, value, h));
  return true;
}

bool hash_value::load_pairs(const std::string_view* strings, size_t n, const keyspace_settings& s) {
  if (n % 2 != 0 || !empty())
    throw std::logic_error("hash_value::load_pairs needs an empty hash and whole pairs");
  size_t pairs = n / 2;
  auto limit = static_cast<uint64_t>(std::max<int64_t>(s.hash_max_listpack_value, 0));
  bool listpack = is_listpack() && static_cast<int64_t>(pairs) <= s.hash_max_listpack_entries;
  size_t bytes = 0;
  for (size_t i = 0; i < n && listpack; ++i) {
    listpack = strings[i].size() <= limit;
    bytes += encoded_size(strings[i]);
  }
  if (!listpack || bytes > listpack_safety_limit) {
    convert_to_hashtable(pairs);
    for (size_t i = 0; i < n; i += 2)
      if (!set(strings[i], strings[i + 1], s))
        return false;
    return true;
  }
  if (has_repeats(pairs, [&](size_t i) { return strings[2 * i]; }))
    return false;
  if (bytes > 0) {
    lp_ = static_cast<char*>(detail::checked_realloc(lp_, bytes));
    char* p = lp_;
    for (size_t i = 0; i < n; ++i)
      p += put_string(p, strings[i]);
  }
  lp_bytes_ = static_cast<uint32_t>(bytes);
  count_ = static_cast<uint32_t>(pairs);
  return true;
}

bool hash_value::remove(std::string_view field) {
  if (is_listpack()) {
    int64_t off = lp_find(field);
    if (off < 0)
      return false;
    lp_erase(static_cast<uint32_t>(off));
    --count_;
    return true;
  }
  node* n = ht_->detach(field, hash_key(field));
  if (n == nullptr)
    return false;
  std::free(n);
  return true;
}

hash_value::field_value hash_value::random_pair(std::mt19937_64& rng) const {
  if (!is_listpack()) {
    const node* n = ht_->random(rng);
    return {n->key(), n->value()};
  }
  size_t pick = rng() % count_;
  uint32_t off = 0;
  field_value p;
  for (size_t i = 0; i <= pick; ++i)
    p = read_pair(off);
  return p;
}

void hash_value::sample_impl(std::mt19937_64& rng, size_t count, bool distinct,
                             const std::function<void(const field_value&)>& fn) const {
  size_t n = size();
  if (n == 0 || count == 0)
    return;
  // Hashtables pick at random from the table; small hashes (and big samples of big hashes,
  // as Redis does past a third) shuffle a list of all pairs.
  if (!is_listpack() && !distinct) {
    for (size_t i = 0; i < count; ++i)
      fn(random_pair(rng));
    return;
  }
  if (!is_listpack() && count * 3 <= n) {
    std::unordered_set<const node*> seen;
    while (seen.size() < count) {
      const node* x = ht_->random(rng);
      if (seen.insert(x).second)
        fn({x->key(), x->value()});
    }
    return;
  }
  std::vector<field_value> all;
  all.reserve(n);
  for_each([&](std::string_view f, std::string_view v) { all.emplace_back(f, v); });
  if (!distinct) {
    for (size_t i = 0; i < count; ++i)
      fn(all[rng() % n]);
    return;
  }
  count = std::min(count, n);
  for (size_t i = 0; i < count; ++i) {
    size_t j = i + rng() % (n - i);
    std::swap(all[i], all[j]);
    fn(all[i]);
  }
}

bool parse_scan_cursor(exec_context& c, std::string_view arg, uint64_t& cursor) {
  // strtoul stops at a NUL byte; Redis refuses leading space, trailing bytes and overflow.
  arg = arg.substr(0, arg.find('\0'));
  std::string_view digits = arg;
  bool negative = false;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  bool ok = arg.empty() || !digits.empty();
  uint64_t v = 0;
  for (char ch : digits) {
    if (ch < '0' || ch > '9' || v > (UINT64_MAX - static_cast<uint64_t>(ch - '0')) / 10) {
      ok = false;
      break;
    }
    v = v * 10 + static_cast<uint64_t>(ch - '0');
  }
  if (!ok) {
    c.out().error("ERR invalid cursor");
    return false;
  }
  cursor = negative ? 0 - v : v;
  return true;
}

bool parse_scan_args(exec_context& c, size_t from, scan_args& out) {
  for (size_t i = from; i < c.argc(); i += 2) {
    bool has_value = c.argc() - i >= 2;
    if (protocol::iequals(c.arg(i), "count") && has_value) {
      if (!protocol::parse_int64(c.arg(i + 1), out.count)) {
        c.reply_not_integer();
        return false;
      }
      if (out.count < 1) {
        c.reply_syntax_error();
        return false;
      }
    } else if (protocol::iequals(c.arg(i), "match") && has_value) {
      protocol::glob g(c.arg(i + 1));
      if (g.matches_everything())
        out.pattern.reset();
      else
        out.pattern.emplace(std::move(g));
    } else {
      c.reply_syntax_error();
      return false;
    }
  }
  return true;
}

void reply_scan(exec_context& c, uint64_t cursor, const std::vector<std::string_view>& elements) {
  c.out().array(2);
  c.out().bulk(std::to_string(cursor));
  c.out().array(elements.size());
  for (auto e : elements)
    c.out().bulk(e);
}

} // namespace troupe::keyspace
