#include "keyspace/set_value.hpp"

#include <algorithm>
#include <climits>
#include <unordered_set>

#include "keyspace/digest.hpp"
#include "protocol/numbers.hpp"
#include "protocol/resp_writer.hpp"

namespace troupe::keyspace {

set_value::set_value(const set_value& o) : is_(nullptr), count_(o.count_), width_(o.width_) {
  if (o.is_intset()) {
    if (o.count_ > 0) {
      size_t bytes = static_cast<size_t>(o.count_) * o.width_;
      is_ = static_cast<char*>(detail::checked_malloc(bytes));
      std::memcpy(is_, o.is_, bytes);
    }
    return;
  }
  auto t = std::make_unique<table_t>();
  t->reserve(o.ht_->size());
  o.ht_->for_each([&](const node* n) { t->insert(make_node(n->key(), n->hash)); });
  ht_ = t.release();
}

set_value::~set_value() {
  if (is_intset())
    std::free(is_);
  else
    delete ht_;
}

std::unique_ptr<set_value> set_value::create_for(std::string_view first) {
  auto s = std::make_unique<set_value>();
  if (!protocol::is_canonical_int(first))
    s->convert_to_hashtable();
  return s;
}

std::unique_ptr<set_value> set_value::from_intset_blob(std::string_view blob) {
  auto u32 = [&](size_t at) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; --i)
      v = (v << 8) | static_cast<unsigned char>(blob[at + static_cast<size_t>(i)]);
    return v;
  };
  if (blob.size() < 8)
    return nullptr;
  uint32_t width = u32(0), len = u32(4);
  if ((width != 2 && width != 4 && width != 8) || blob.size() != 8 + static_cast<uint64_t>(len) * width)
    return nullptr;
  auto s = std::make_unique<set_value>();
  s->width_ = static_cast<uint8_t>(width);
  if (len == 0)
    return s;
  s->is_ = static_cast<char*>(detail::checked_malloc(static_cast<size_t>(len) * width));
  s->count_ = len;
  for (uint32_t i = 0; i < len; ++i) {
    uint64_t u = 0;
    for (int b = static_cast<int>(width) - 1; b >= 0; --b)
      u = (u << 8) | static_cast<unsigned char>(blob[8 + static_cast<size_t>(i) * width + static_cast<size_t>(b)]);
    int64_t v;
    if (width == 2)
      v = static_cast<int16_t>(u);
    else if (width == 4)
      v = static_cast<int32_t>(u);
    else
      v = static_cast<int64_t>(u);
    if (i > 0 && s->int_at(i - 1) >= v)
      return nullptr; // members must be strictly ascending
    s->put_int(i, v);
  }
  return s;
}

std::string set_value::intset_blob() const {
  std::string out;
  auto put = [&](uint64_t v, unsigned bytes) {
    for (unsigned i = 0; i < bytes; ++i)
      out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  };
  put(width_, 4);
  put(count_, 4);
  for (uint32_t i = 0; i < count_; ++i)
    put(static_cast<uint64_t>(int_at(i)), width_);
  return out;
}

std::unique_ptr<collection> set_value::clone() const { return std::make_unique<set_value>(*this); }

size_t set_value::memory(size_t samples) const {
  size_t n = sizeof(*this);
  if (is_intset())
    return n + static_cast<size_t>(count_) * width_;
  return n + sizeof(table_t) + ht_->bucket_memory()
         + ht_->node_memory(samples, [](const node* x) { return sizeof(node) + x->len; });
}

void set_value::digest(unsigned char out[20]) const {
  digest20 acc;
  std::memcpy(acc.data(), out, 20);
  for_each([&](std::string_view m) { xor_digest(acc, m.data(), m.size()); });
  std::memcpy(out, acc.data(), 20);
}

std::string_view set_value::format(int64_t v, char* buf) { return {buf, protocol::format_int(v, buf)}; }

unsigned set_value::width_for(int64_t v) {
  if (v < INT32_MIN || v > INT32_MAX)
    return 8;
  if (v < INT16_MIN || v > INT16_MAX)
    return 4;
  return 2;
}

int64_t set_value::int_at(uint32_t i) const {
  const char* p = is_ + static_cast<size_t>(i) * width_;
  switch (width_) {
    case 2: {
      int16_t v;
      std::memcpy(&v, p, 2);
      return v;
    }
    case 4: {
      int32_t v;
      std::memcpy(&v, p, 4);
      return v;
    }
    default: {
      int64_t v;
      std::memcpy(&v, p, 8);
      return v;
    }
  }
}

void set_value::put_int(uint32_t i, int64_t v) {
  char* p = is_ + static_cast<size_t>(i) * width_;
  switch (width_) {
    case 2: {
      auto x = static_cast<int16_t>(v);
      std::memcpy(p, &x, 2);
      break;
    }
    case 4: {
      auto x = static_cast<int32_t>(v);
      std::memcpy(p, &x, 4);
      break;
    }
    default:
      std::memcpy(p, &v, 8);
  }
}

uint32_t set_value::int_search(int64_t v, bool& found) const {
  uint32_t lo = 0, hi = count_;
  while (lo < hi) {
    uint32_t mid = lo + (hi - lo) / 2;
    int64_t x = int_at(mid);
    if (x == v) {
      found = true;
      return mid;
    }
    if (x < v)
      lo = mid + 1;
    else
      hi = mid;
  }
  found = false;
  return lo;
}

bool set_value::int_add(int64_t v) {
  unsigned w = width_for(v);
  if (w > width_) {
    // Widen: every member is converted, and `v`, beyond the old range, goes first or last.
    auto* fresh = static_cast<char*>(detail::checked_malloc((static_cast<size_t>(count_) + 1) * w));
    char* old = is_;
    uint32_t n = count_;
    std::vector<int64_t> members(n);
    for (uint32_t i = 0; i < n; ++i)
      members[i] = int_at(i);
    is_ = fresh;
    width_ = static_cast<uint8_t>(w);
    count_ = n + 1;
    uint32_t shift = v < 0 ? 1 : 0;
    for (uint32_t i = 0; i < n; ++i)
      put_int(i + shift, members[i]);
    put_int(v < 0 ? 0 : n, v);
    std::free(old);
    return true;
  }
  bool found;
  uint32_t at = int_search(v, found);
  if (found)
    return false;
  is_ = static_cast<char*>(detail::checked_realloc(is_, (static_cast<size_t>(count_) + 1) * width_));
  std::memmove(is_ + (static_cast<size_t>(at) + 1) * width_, is_ + static_cast<size_t>(at) * width_,
               static_cast<size_t>(count_ - at) * width_);
  ++count_;
  put_int(at, v);
  return true;
}

bool set_value::int_remove(int64_t v) {
  if (width_for(v) > width_)
    return false;
  bool found;
  uint32_t at = int_search(v, found);
  if (!found)
    return false;
  std::memmove(is_ + static_cast<size_t>(at) * width_, is_ + (static_cast<size_t>(at) + 1) * width_,
               static_cast<size_t>(count_ - at - 1) * width_);
  --count_;
  if (count_ == 0) {
    std::free(is_);
    is_ = nullptr;
  } else {
    is_ = static_cast<char*>(detail::checked_realloc(is_, static_cast<size_t>(count_) * width_));
  }
  return true;
}

set_value::node* set_value::make_node(std::string_view member, uint32_t hash) {
  auto* n = static_cast<node*>(detail::checked_malloc(sizeof(node) + member.size()));
  n->next = nullptr;
  n->hash = hash;
  n->len = static_cast<uint32_t>(member.size());
  if (!member.empty())
    std::memcpy(n->data(), member.data(), member.size());
  return n;
}

void set_value::convert_to_hashtable(size_t expected) {
  if (!is_intset())
    return;
  auto t = std::make_unique<table_t>();
  t->reserve(std::max<size_t>(expected, count_));
  char buf[24];
  for (uint32_t i = 0; i < count_; ++i) {
    std::string_view m = format(int_at(i), buf);
    t->insert(make_node(m, hash_key(m)));
  }
  std::free(is_);
  ht_ = t.release();
  count_ = 0;
  width_ = 0;
}

bool set_value::contains(std::string_view member) const {
  if (is_intset()) {
    int64_t v;
    if (!protocol::is_canonical_int(member, &v) || width_for(v) > width_)
      return false;
    bool found;
    int_search(v, found);
    return found;
  }
  return ht_->find(member, hash_key(member)) != nullptr;
}

bool set_value::add(std::string_view member, const keyspace_settings& s) {
  if (is_intset()) {
    int64_t v;
    if (protocol::is_canonical_int(member, &v)) {
      if (!int_add(v))
        return false;
      if (static_cast<int64_t>(count_) > s.set_max_intset_entries)
        convert_to_hashtable();
      return true;
    }
    convert_to_hashtable(static_cast<size_t>(count_) + 1);
  }
  uint32_t h = hash_key(member);
  if (ht_->find(member, h) != nullptr)
    return false;
  ht_->insert(make_node(member, h));
  return true;
}

bool set_value::remove(std::string_view member) {
  if (is_intset()) {
    int64_t v;
    return protocol::is_canonical_int(member, &v) && int_remove(v);
  }
  node* n = ht_->detach(member, hash_key(member));
  if (n == nullptr)
    return false;
  std::free(n);
  return true;
}

std::string set_value::random_member(std::mt19937_64& rng) const {
  if (is_intset()) {
    char buf[24];
    return std::string(format(int_at(static_cast<uint32_t>(rng() % count_)), buf));
  }
  return std::string(ht_->random(rng)->key());
}

void set_value::sample(std::mt19937_64& rng, size_t count, bool distinct,
                       const std::function<void(std::string_view)>& fn) const {
  size_t n = size();
  if (n == 0 || count == 0)
    return;
  if (is_intset()) {
    char buf[24];
    if (!distinct) {
      for (size_t i = 0; i < count; ++i)
        fn(format(int_at(static_cast<uint32_t>(rng() % n)), buf));
      return;
    }
    count = std::min(count, n);
    std::vector<uint32_t> idx(n);
    for (uint32_t i = 0; i < n; ++i)
      idx[i] = i;
    for (size_t i = 0; i < count; ++i) {
      std::swap(idx[i], idx[i + rng() % (n - i)]);
      fn(format(int_at(idx[i]), buf));
    }
    return;
  }
  if (!distinct) {
    for (size_t i = 0; i < count; ++i)
      fn(ht_->random(rng)->key());
    return;
  }
  // Few of many: random picks, skipping repeats. Many: shuffle the whole set (as Redis does
  // past a third).
  if (count * 3 <= n) {
    std::unordered_set<const node*> seen;
    while (seen.size() < count) {
      const node* x = ht_->random(rng);
      if (seen.insert(x).second)
        fn(x->key());
    }
    return;
  }
  std::vector<const node*> all;
  all.reserve(n);
  ht_->for_each([&](const node* x) { all.push_back(x); });
  count = std::min(count, n);
  for (size_t i = 0; i < count; ++i) {
    std::swap(all[i], all[i + rng() % (n - i)]);
    fn(all[i]->key());
  }
}

std::vector<std::string> set_value::pop_random(std::mt19937_64& rng, size_t count) {
  count = std::min(count, size());
  std::vector<std::string> out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    out.push_back(random_member(rng));
    remove(out.back());
  }
  return out;
}

} // namespace troupe::keyspace
