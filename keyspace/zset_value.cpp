#include "keyspace/zset_value.hpp"
#include "keyspace/varint.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <stdexcept>

#include "keyspace/digest.hpp"
#include "keyspace/table.hpp"

namespace troupe::keyspace {

int zcompare(double s1, std::string_view m1, double s2, std::string_view m2) {
  if (s1 < s2)
    return -1;
  if (s1 > s2)
    return 1;
  int c = m1.compare(m2);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

namespace zdetail {

// A member record of the tree encoding: score, cached hash, then the member bytes.
struct item {
  double score;
  uint32_t hash;
  uint32_t len;
  std::string_view member() const { return std::string_view(reinterpret_cast<const char*>(this + 1), len); }
};

item* make_item(std::string_view m, double s, uint32_t h) {
  auto* it = static_cast<item*>(std::malloc(sizeof(item) + m.size()));
  if (it == nullptr)
    throw std::bad_alloc();
  it->score = s;
  it->hash = h;
  it->len = static_cast<uint32_t>(m.size());
  std::memcpy(it + 1, m.data(), m.size());
  return it;
}

inline int cmp(const item* a, const item* b) { return zcompare(a->score, a->member(), b->score, b->member()); }

constexpr int leaf_max = 64, leaf_min = 16;
constexpr int inner_max = 64, inner_min = 16;

struct node {
  bool is_leaf;
  int n;
};

struct leaf : node {
  leaf* prev;
  leaf* next;
  item* it[leaf_max + 1];
};

struct inner : node {
  node* ch[inner_max + 1];
  item* lo[inner_max + 1];    // the first record of each child
  size_t cnt[inner_max + 1];  // the size of each child
};

inline item* first_of(const node* x) {
  return x->is_leaf ? static_cast<const leaf*>(x)->it[0] : static_cast<const inner*>(x)->lo[0];
}

leaf* new_leaf() {
  auto* l = new leaf;
  l->is_leaf = true;
  l->n = 0;
  l->prev = l->next = nullptr;
  return l;
}

inner* new_inner() {
  auto* x = new inner;
  x->is_leaf = false;
  x->n = 0;
  return x;
}

void free_node(node* x, bool free_items) {
  if (x == nullptr)
    return;
  if (x->is_leaf) {
    auto* l = static_cast<leaf*>(x);
    if (free_items)
      for (int i = 0; i < l->n; ++i)
        std::free(l->it[i]);
    delete l;
  } else {
    auto* in = static_cast<inner*>(x);
    for (int i = 0; i < in->n; ++i)
      free_node(in->ch[i], free_items);
    delete in;
  }
}

// The child of `x` whose range holds `key`: the last child whose first record is <= key.
int child_for(const inner* x, const item* key) {
  int lo = 1, hi = x->n; // answer in [0, n-1]: find the first i >= 1 with lo[i] > key, minus one
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (cmp(x->lo[mid], key) <= 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo - 1;
}

// Index in leaf `l` of the first record > key (insert position) ...
int leaf_upper(const leaf* l, const item* key) {
  int lo = 0, hi = l->n;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (cmp(l->it[mid], key) <= 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

// ... and of the record equal to key (which must be there).
int leaf_find(const leaf* l, const item* key) {
  int lo = 0, hi = l->n;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (cmp(l->it[mid], key) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

// Inserts into the subtree; returns a new right sibling when `x` split (its size in `split`).
node* insert(node* x, item* it, size_t& split) {
  if (x->is_leaf) {
    auto* l = static_cast<leaf*>(x);
    int pos = leaf_upper(l, it);
    std::memmove(&l->it[pos + 1], &l->it[pos], sizeof(item*) * static_cast<size_t>(l->n - pos));
    l->it[pos] = it;
    if (++l->n <= leaf_max)
      return nullptr;
    leaf* r = new_leaf();
    int keep = l->n / 2;
    r->n = l->n - keep;
    std::memcpy(r->it, &l->it[keep], sizeof(item*) * static_cast<size_t>(r->n));
    l->n = keep;
    r->next = l->next;
    if (r->next)
      r->next->prev = r;
    r->prev = l;
    l->next = r;
    split = static_cast<size_t>(r->n);
    return r;
  }
  auto* in = static_cast<inner*>(x);
  int i = child_for(in, it);
  size_t rs = 0;
  node* r = insert(in->ch[i], it, rs);
  ++in->cnt[i];
  in->lo[i] = first_of(in->ch[i]);
  if (r == nullptr)
    return nullptr;
  in->cnt[i] -= rs;
  size_t tail = static_cast<size_t>(in->n - i - 1);
  std::memmove(&in->ch[i + 2], &in->ch[i + 1], sizeof(node*) * tail);
  std::memmove(&in->lo[i + 2], &in->lo[i + 1], sizeof(item*) * tail);
  std::memmove(&in->cnt[i + 2], &in->cnt[i + 1], sizeof(size_t) * tail);
  in->ch[i + 1] = r;
  in->lo[i + 1] = first_of(r);
  in->cnt[i + 1] = rs;
  if (++in->n <= inner_max)
    return nullptr;
  inner* s = new_inner();
  int keep = in->n / 2;
  s->n = in->n - keep;
  std::memcpy(s->ch, &in->ch[keep], sizeof(node*) * static_cast<size_t>(s->n));
  std::memcpy(s->lo, &in->lo[keep], sizeof(item*) * static_cast<size_t>(s->n));
  std::memcpy(s->cnt, &in->cnt[keep], sizeof(size_t) * static_cast<size_t>(s->n));
  in->n = keep;
  split = 0;
  for (int k = 0; k < s->n; ++k)
    split += s->cnt[k];
  return s;
}

// Restores the minimum fill of child i of `p` by merging with or borrowing from a sibling.
void rebalance(inner* p, int i) {
  node* c = p->ch[i];
  int min = c->is_leaf ? leaf_min : inner_min;
  if (c->n >= min || p->n < 2)
    return;
  int li = i > 0 ? i - 1 : i, ri = li + 1;
  node* a = p->ch[li];
  node* b = p->ch[ri];
  int max = c->is_leaf ? leaf_max : inner_max;
  if (a->n + b->n <= max) {
    if (a->is_leaf) {
      auto* la = static_cast<leaf*>(a);
      auto* lb = static_cast<leaf*>(b);
      std::memcpy(&la->it[la->n], lb->it, sizeof(item*) * static_cast<size_t>(lb->n));
      la->n += lb->n;
      la->next = lb->next;
      if (la->next)
        la->next->prev = la;
      delete lb;
    } else {
      auto* ia = static_cast<inner*>(a);
      auto* ib = static_cast<inner*>(b);
      size_t k = static_cast<size_t>(ib->n);
      std::memcpy(&ia->ch[ia->n], ib->ch, sizeof(node*) * k);
      std::memcpy(&ia->lo[ia->n], ib->lo, sizeof(item*) * k);
      std::memcpy(&ia->cnt[ia->n], ib->cnt, sizeof(size_t) * k);
      ia->n += ib->n;
      delete ib;
    }
    p->cnt[li] += p->cnt[ri];
    size_t tail = static_cast<size_t>(p->n - ri - 1);
    std::memmove(&p->ch[ri], &p->ch[ri + 1], sizeof(node*) * tail);
    std::memmove(&p->lo[ri], &p->lo[ri + 1], sizeof(item*) * tail);
    std::memmove(&p->cnt[ri], &p->cnt[ri + 1], sizeof(size_t) * tail);
    --p->n;
    p->lo[li] = first_of(a);
    return;
  }
  int total = a->n + b->n, target = total / 2;
  if (a->is_leaf) {
    auto* la = static_cast<leaf*>(a);
    auto* lb = static_cast<leaf*>(b);
    if (la->n > target) {
      int k = la->n - target;
      std::memmove(&lb->it[k], lb->it, sizeof(item*) * static_cast<size_t>(lb->n));
      std::memcpy(lb->it, &la->it[target], sizeof(item*) * static_cast<size_t>(k));
      la->n -= k;
      lb->n += k;
      p->cnt[li] -= static_cast<size_t>(k);
      p->cnt[ri] += static_cast<size_t>(k);
    } else {
      int k = target - la->n;
      std::memcpy(&la->it[la->n], lb->it, sizeof(item*) * static_cast<size_t>(k));
      std::memmove(lb->it, &lb->it[k], sizeof(item*) * static_cast<size_t>(lb->n - k));
      la->n += k;
      lb->n -= k;
      p->cnt[li] += static_cast<size_t>(k);
      p->cnt[ri] -= static_cast<size_t>(k);
    }
  } else {
    auto* ia = static_cast<inner*>(a);
    auto* ib = static_cast<inner*>(b);
    size_t moved = 0;
    if (ia->n > target) {
      int k = ia->n - target;
      size_t kk = static_cast<size_t>(k), nb = static_cast<size_t>(ib->n);
      std::memmove(&ib->ch[k], ib->ch, sizeof(node*) * nb);
      std::memmove(&ib->lo[k], ib->lo, sizeof(item*) * nb);
      std::memmove(&ib->cnt[k], ib->cnt, sizeof(size_t) * nb);
      std::memcpy(ib->ch, &ia->ch[target], sizeof(node*) * kk);
      std::memcpy(ib->lo, &ia->lo[target], sizeof(item*) * kk);
      std::memcpy(ib->cnt, &ia->cnt[target], sizeof(size_t) * kk);
      for (int j = 0; j < k; ++j)
        moved += ib->cnt[j];
      ia->n -= k;
      ib->n += k;
      p->cnt[li] -= moved;
      p->cnt[ri] += moved;
    } else {
      int k = target - ia->n;
      size_t kk = static_cast<size_t>(k), rest = static_cast<size_t>(ib->n - k);
      std::memcpy(&ia->ch[ia->n], ib->ch, sizeof(node*) * kk);
      std::memcpy(&ia->lo[ia->n], ib->lo, sizeof(item*) * kk);
      std::memcpy(&ia->cnt[ia->n], ib->cnt, sizeof(size_t) * kk);
      for (int j = 0; j < k; ++j)
        moved += ib->cnt[j];
      std::memmove(ib->ch, &ib->ch[k], sizeof(node*) * rest);
      std::memmove(ib->lo, &ib->lo[k], sizeof(item*) * rest);
      std::memmove(ib->cnt, &ib->cnt[k], sizeof(size_t) * rest);
      ia->n += k;
      ib->n -= k;
      p->cnt[li] += moved;
      p->cnt[ri] -= moved;
    }
  }
  p->lo[li] = first_of(a);
  p->lo[ri] = first_of(b);
}

// Removes the record equal to `key` from the subtree.
void erase(node* x, const item* key) {
  if (x->is_leaf) {
    auto* l = static_cast<leaf*>(x);
    int pos = leaf_find(l, key);
    std::memmove(&l->it[pos], &l->it[pos + 1], sizeof(item*) * static_cast<size_t>(l->n - pos - 1));
    --l->n;
    return;
  }
  auto* in = static_cast<inner*>(x);
  int i = child_for(in, key);
  erase(in->ch[i], key);
  --in->cnt[i];
  if (in->ch[i]->n > 0)
    in->lo[i] = first_of(in->ch[i]);
  rebalance(in, i);
}

// Removes and returns the record at `rank` of the subtree.
item* erase_at(node* x, size_t rank) {
  if (x->is_leaf) {
    auto* l = static_cast<leaf*>(x);
    int pos = static_cast<int>(rank);
    item* it = l->it[pos];
    std::memmove(&l->it[pos], &l->it[pos + 1], sizeof(item*) * static_cast<size_t>(l->n - pos - 1));
    --l->n;
    return it;
  }
  auto* in = static_cast<inner*>(x);
  int i = 0;
  while (rank >= in->cnt[i]) {
    rank -= in->cnt[i];
    ++i;
  }
  item* it = erase_at(in->ch[i], rank);
  --in->cnt[i];
  if (in->ch[i]->n > 0)
    in->lo[i] = first_of(in->ch[i]);
  rebalance(in, i);
  return it;
}

// The member -> record hash index: open addressing, linear probing, backward-shift deletion.
class index {
public:
  explicit index(size_t expected = 0) {
    size_t cap = 8;
    while (cap * 3 / 4 < expected + 1)
      cap *= 2;
    alloc(cap);
  }
  ~index() { std::free(slots_); }
  index(const index&) = delete;
  index& operator=(const index&) = delete;

  size_t size() const { return used_; }
  size_t capacity() const { return mask_ + 1; }

  item* find(std::string_view m, uint32_t h) const {
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      item* it = slots_[i];
      if (it == nullptr)
        return nullptr;
      if (it->hash == h && it->member() == m)
        return it;
    }
  }
  void insert(item* it) {
    if ((used_ + 1) > (mask_ + 1) * 3 / 4)
      resize((mask_ + 1) * 2);
    place(it);
    ++used_;
  }
  void erase(const item* it) {
    size_t i = it->hash & mask_;
    while (slots_[i] != it)
      i = (i + 1) & mask_;
    for (size_t j = i;;) {
      j = (j + 1) & mask_;
      item* x = slots_[j];
      if (x == nullptr)
        break;
      size_t k = x->hash & mask_;
      // x may move to the hole at i unless its home lies cyclically in (i, j].
      bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
      if (!stays) {
        slots_[i] = x;
        i = j;
      }
    }
    slots_[i] = nullptr;
    --used_;
    if (mask_ + 1 > 8 && used_ < (mask_ + 1) / 8)
      resize((mask_ + 1) / 2);
  }
  // Records whose home bucket is `cursor`'s, and the next cursor.
  uint64_t scan(uint64_t cursor, std::vector<std::pair<std::string_view, double>>& out) const {
    uint64_t m = mask_;
    size_t b = cursor & m;
    for (size_t i = b; slots_[i] != nullptr; i = (i + 1) & m)
      if ((slots_[i]->hash & m) == b)
        out.emplace_back(slots_[i]->member(), slots_[i]->score);
    cursor |= ~m;
    cursor = table::reverse_bits(cursor);
    ++cursor;
    return table::reverse_bits(cursor);
  }

private:
  void alloc(size_t cap) {
    slots_ = static_cast<item**>(std::calloc(cap, sizeof(item*)));
    if (slots_ == nullptr)
      throw std::bad_alloc();
    mask_ = cap - 1;
  }
  void place(item* it) {
    size_t i = it->hash & mask_;
    while (slots_[i] != nullptr)
      i = (i + 1) & mask_;
    slots_[i] = it;
  }
  void resize(size_t cap) {
    item** old = slots_;
    size_t n = mask_ + 1;
    alloc(cap);
    for (size_t i = 0; i < n; ++i)
      if (old[i])
        place(old[i]);
    std::free(old);
  }
  item** slots_ = nullptr;
  size_t mask_ = 0;
  size_t used_ = 0;
};

} // namespace zdetail

using namespace zdetail;

namespace {

// The listpack entry: varint(len) | member | score (8 bytes) | reverse varint(size of the three).

size_t lp_entry_size(size_t len) {
  size_t t = varint_size(len) + len + 8;
  return t + varint_size(t);
}

void lp_write(char* p, std::string_view m, double s) {
  size_t h = put_varint(p, m.size());
  std::memcpy(p + h, m.data(), m.size());
  std::memcpy(p + h + m.size(), &s, 8);
  put_back_varint(p + h + m.size() + 8, h + m.size() + 8);
}

// Reads the entry at `off`; returns the offset of the next one.
uint32_t lp_read(const char* buf, uint32_t off, std::string_view& m, double& s) {
  uint32_t at = off;
  auto len = static_cast<size_t>(get_varint(buf, at));
  m = std::string_view(buf + at, len);
  std::memcpy(&s, buf + at + len, 8);
  size_t total = (at - off) + len + 8;
  return static_cast<uint32_t>(off + total + varint_size(total));
}

uint32_t lp_prev(const char* buf, uint32_t end) { return prev_entry(buf, end); }

std::string score_text(double s) {
  char buf[64];
  int n = std::snprintf(buf, sizeof(buf), "%.17g", s);
  return std::string(buf, static_cast<size_t>(n));
}

} // namespace

zset_value::zset_value(bool skiplist) : big_(skiplist) {
  if (big_)
    index_ = new index();
}

zset_value::zset_value(const zset_value& o) : collection(), big_(o.big_), count_(0) {
  if (!big_) {
    if (o.lp_used_) {
      lp_ = static_cast<char*>(std::malloc(o.lp_used_));
      if (lp_ == nullptr)
        throw std::bad_alloc();
      std::memcpy(lp_, o.lp_, o.lp_used_);
    }
    lp_used_ = lp_cap_ = o.lp_used_;
    count_ = o.count_;
    return;
  }
  index_ = new index(o.count_);
  o.for_each([&](std::string_view m, double s) {
    item* it = make_item(m, s, hash_key(m));
    item_bytes_ += sizeof(item) + m.size();
    index_->insert(it);
    tree_insert(it);
    ++count_;
  });
}

zset_value::~zset_value() {
  std::free(lp_);
  tree_free();
}

void zset_value::tree_free() {
  free_node(root_, true);
  root_ = nullptr;
  delete index_;
  index_ = nullptr;
}

std::unique_ptr<collection> zset_value::clone() const { return std::make_unique<zset_value>(*this); }

size_t zset_value::memory(size_t) const {
  size_t n = sizeof(*this);
  if (!big_)
    return n + lp_cap_;
  n += sizeof(index) + index_->capacity() * sizeof(item*) + item_bytes_;
  // Leaves and inner nodes, roughly: one leaf per 3/4-full leaf_max records, inner nodes above.
  size_t leaves = count_ / (leaf_max * 3 / 4) + 1;
  n += leaves * sizeof(leaf) + (leaves / (inner_max * 3 / 4) + 1) * sizeof(inner);
  return n;
}

void zset_value::digest(unsigned char out[20]) const {
  digest20 d;
  std::memcpy(d.data(), out, 20);
  for_each([&](std::string_view m, double s) {
    digest20 e{};
    mix_digest(e, m);
    mix_digest(e, score_text(s));
    xor_digest(d, e.data(), e.size());
  });
  std::memcpy(out, d.data(), 20);
}

size_t zset_value::max_member_len() const {
  size_t n = 0;
  for_each([&](std::string_view m, double) { n = std::max(n, m.size()); });
  return n;
}

void zset_value::convert_to_skiplist() {
  if (big_)
    return;
  index_ = new index(count_);
  for (uint32_t off = 0; off < lp_used_;) {
    std::string_view m;
    double s;
    off = lp_read(lp_, off, m, s);
    item* it = make_item(m, s, hash_key(m));
    item_bytes_ += sizeof(item) + m.size();
    index_->insert(it);
    tree_insert(it);
  }
  std::free(lp_);
  lp_ = nullptr;
  lp_used_ = lp_cap_ = 0;
  big_ = true;
}

bool zset_value::convert_if_needed(size_t member_len, bool adding, int64_t max_entries, int64_t max_value) {
  if (big_)
    return false;
  if (static_cast<int64_t>(count_ + (adding ? 1 : 0)) > max_entries || static_cast<int64_t>(member_len) > max_value) {
    convert_to_skiplist();
    return true;
  }
  return false;
}

// ---- listpack encoding -------------------------------------------------------------------------

uint32_t zset_value::lp_find(std::string_view m) const {
  for (uint32_t off = 0; off < lp_used_;) {
    std::string_view em;
    double s;
    uint32_t next = lp_read(lp_, off, em, s);
    if (em == m)
      return off;
    off = next;
  }
  return UINT32_MAX;
}

uint32_t zset_value::lp_offset(size_t rank) const {
  if (rank <= count_ / 2) {
    uint32_t off = 0;
    std::string_view m;
    double s;
    while (rank-- > 0)
      off = lp_read(lp_, off, m, s);
    return off;
  }
  uint32_t end = lp_used_;
  for (size_t k = count_ - rank; k > 0; --k)
    end = lp_prev(lp_, end);
  return end;
}

char* zset_value::lp_splice(uint32_t off, uint32_t remove, size_t add) {
  size_t used = lp_used_ - remove + add;
  if (used > lp_cap_) {
    size_t cap = std::max<size_t>(used, static_cast<size_t>(lp_cap_) * 3 / 2);
    cap = (cap + 15) & ~size_t(15);
    char* p = static_cast<char*>(std::realloc(lp_, cap));
    if (p == nullptr)
      throw std::bad_alloc();
    lp_ = p;
    lp_cap_ = static_cast<uint32_t>(cap);
  }
  std::memmove(lp_ + off + add, lp_ + off + remove, lp_used_ - off - remove);
  lp_used_ = static_cast<uint32_t>(used);
  return lp_ + off;
}

void zset_value::lp_erase_at(uint32_t off) {
  std::string_view m;
  double s;
  uint32_t next = lp_read(lp_, off, m, s);
  lp_splice(off, next - off, 0);
  --count_;
}

void zset_value::lp_insert(std::string_view m, double s) {
  if (s == 0)
    s = 0.0; // Redis's listpack stores a zero score as the integer 0: a negative zero is lost
  uint32_t off = 0;
  while (off < lp_used_) {
    std::string_view em;
    double es;
    uint32_t next = lp_read(lp_, off, em, es);
    if (zcompare(s, m, es, em) < 0)
      break;
    off = next;
  }
  lp_write(lp_splice(off, 0, lp_entry_size(m.size())), m, s);
  ++count_;
}

// ---- tree encoding -----------------------------------------------------------------------------

void zset_value::tree_insert(item* it) {
  if (root_ == nullptr)
    root_ = new_leaf();
  size_t rs = 0;
  node* r = zdetail::insert(root_, it, rs);
  if (r != nullptr) {
    inner* top = new_inner();
    size_t total = 0;
    if (root_->is_leaf)
      total = static_cast<size_t>(root_->n);
    else
      for (int k = 0; k < root_->n; ++k)
        total += static_cast<inner*>(root_)->cnt[k];
    top->n = 2;
    top->ch[0] = root_;
    top->lo[0] = first_of(root_);
    top->cnt[0] = total;
    top->ch[1] = r;
    top->lo[1] = first_of(r);
    top->cnt[1] = rs;
    root_ = top;
  }
}

namespace {
void shrink_root(node*& root) {
  while (root != nullptr && !root->is_leaf && root->n == 1) {
    auto* in = static_cast<inner*>(root);
    root = in->ch[0];
    delete in;
  }
  if (root != nullptr && root->n == 0) {
    free_node(root, false);
    root = nullptr;
  }
}
} // namespace

void zset_value::tree_erase(const item* it) {
  zdetail::erase(root_, it);
  shrink_root(root_);
}

item* zset_value::tree_erase_at(size_t rank) {
  item* it = zdetail::erase_at(root_, rank);
  shrink_root(root_);
  return it;
}

// ---- operations --------------------------------------------------------------------------------

std::optional<double> zset_value::score(std::string_view member) const {
  if (!big_) {
    uint32_t off = lp_find(member);
    if (off == UINT32_MAX)
      return std::nullopt;
    std::string_view m;
    double s;
    lp_read(lp_, off, m, s);
    return s;
  }
  item* it = index_->find(member, hash_key(member));
  if (it == nullptr)
    return std::nullopt;
  return it->score;
}

bool zset_value::load_pairs(const std::pair<std::string, double>* pairs, size_t n) {
  if (count_ != 0)
    throw std::logic_error("zset_value::load_pairs needs an empty zset");
  if (has_repeats(n, [&](size_t i) { return std::string_view(pairs[i].first); }))
    return false;
  if (big_) {
    for (size_t i = 0; i < n; ++i)
      insert(pairs[i].first, pairs[i].second);
    return true;
  }
  // The listpack's order: by score, then member (a zero score is stored as 0, as lp_insert does).
  auto score_of = [&](size_t i) { return pairs[i].second == 0 ? 0.0 : pairs[i].second; };
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return zcompare(score_of(a), pairs[a].first, score_of(b), pairs[b].first) < 0;
  });
  size_t bytes = 0;
  for (size_t i = 0; i < n; ++i)
    bytes += lp_entry_size(pairs[i].first.size());
  char* p = lp_splice(lp_used_, 0, bytes);
  for (size_t i : order) {
    lp_write(p, pairs[i].first, score_of(i));
    p += lp_entry_size(pairs[i].first.size());
  }
  count_ = n;
  return true;
}

bool zset_value::insert(std::string_view member, double score) {
  if (!big_) {
    uint32_t off = lp_find(member);
    bool added = off == UINT32_MAX;
    if (!added) {
      std::string_view m;
      double s;
      lp_read(lp_, off, m, s);
      if (s == score)
        return false;
      lp_erase_at(off);
    }
    lp_insert(member, score);
    return added;
  }
  uint32_t h = hash_key(member);
  item* it = index_->find(member, h);
  if (it != nullptr) {
    if (it->score == score)
      return false;
    tree_erase(it);
    it->score = score;
    tree_insert(it);
    return false;
  }
  it = make_item(member, score, h);
  item_bytes_ += sizeof(item) + member.size();
  index_->insert(it);
  tree_insert(it);
  ++count_;
  return true;
}

bool zset_value::erase(std::string_view member) {
  if (!big_) {
    uint32_t off = lp_find(member);
    if (off == UINT32_MAX)
      return false;
    lp_erase_at(off);
    return true;
  }
  item* it = index_->find(member, hash_key(member));
  if (it == nullptr)
    return false;
  tree_erase(it);
  index_->erase(it);
  item_bytes_ -= sizeof(item) + it->len;
  std::free(it);
  --count_;
  return true;
}

std::optional<size_t> zset_value::rank(std::string_view member) const {
  if (!big_) {
    size_t r = 0;
    for (uint32_t off = 0; off < lp_used_; ++r) {
      std::string_view m;
      double s;
      off = lp_read(lp_, off, m, s);
      if (m == member)
        return r;
    }
    return std::nullopt;
  }
  item* it = index_->find(member, hash_key(member));
  if (it == nullptr)
    return std::nullopt;
  size_t r = 0;
  const node* x = root_;
  while (!x->is_leaf) {
    auto* in = static_cast<const inner*>(x);
    int i = child_for(in, it);
    for (int k = 0; k < i; ++k)
      r += in->cnt[k];
    x = in->ch[i];
  }
  return r + static_cast<size_t>(leaf_find(static_cast<const leaf*>(x), it));
}

std::pair<std::string_view, double> zset_value::at(size_t rank) const {
  cursor c = seek(rank);
  std::pair<std::string_view, double> p;
  get(c, p.first, p.second);
  return p;
}

void zset_value::erase_range(size_t start, size_t n) {
  if (start >= count_ || n == 0)
    return;
  n = std::min(n, count_ - start);
  if (!big_) {
    uint32_t a = lp_offset(start);
    uint32_t b = a;
    std::string_view m;
    double s;
    for (size_t k = 0; k < n; ++k)
      b = lp_read(lp_, b, m, s);
    lp_splice(a, b - a, 0);
    count_ -= n;
    return;
  }
  for (size_t k = 0; k < n; ++k) {
    item* it = tree_erase_at(start);
    index_->erase(it);
    item_bytes_ -= sizeof(item) + it->len;
    std::free(it);
    --count_;
  }
}

size_t zset_value::count_below_score(double s, bool inclusive) const {
  return first_false([&](std::string_view, double x) { return inclusive ? x <= s : x < s; });
}

size_t zset_value::first_false(const std::function<bool(std::string_view, double)>& less) const {
  if (!big_) {
    size_t r = 0;
    for (uint32_t off = 0; off < lp_used_; ++r) {
      std::string_view m;
      double s;
      off = lp_read(lp_, off, m, s);
      if (!less(m, s))
        return r;
    }
    return r;
  }
  if (root_ == nullptr)
    return 0;
  size_t r = 0;
  const node* x = root_;
  while (!x->is_leaf) {
    auto* in = static_cast<const inner*>(x);
    int i = 0;
    int lo = 1, hi = in->n; // first child k >= 1 whose first record is not below
    while (lo < hi) {
      int mid = (lo + hi) / 2;
      if (less(in->lo[mid]->member(), in->lo[mid]->score))
        lo = mid + 1;
      else
        hi = mid;
    }
    i = lo - 1;
    for (int k = 0; k < i; ++k)
      r += in->cnt[k];
    x = in->ch[i];
  }
  auto* l = static_cast<const leaf*>(x);
  int lo = 0, hi = l->n;
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (less(l->it[mid]->member(), l->it[mid]->score))
      lo = mid + 1;
    else
      hi = mid;
  }
  return r + static_cast<size_t>(lo);
}

int64_t zset_value::last_true(const std::function<bool(std::string_view, double)>& pred) const {
  if (!big_) {
    uint32_t end = lp_used_;
    int64_t r = static_cast<int64_t>(count_);
    while (end > 0) {
      --r;
      end = lp_prev(lp_, end);
      std::string_view m;
      double s;
      lp_read(lp_, end, m, s);
      if (pred(m, s))
        return r;
    }
    return -1;
  }
  return static_cast<int64_t>(first_false(pred)) - 1;
}

zset_value::cursor zset_value::seek(size_t rank) const {
  if (!big_)
    return cursor{nullptr, lp_offset(rank)};
  const node* x = root_;
  while (!x->is_leaf) {
    auto* in = static_cast<const inner*>(x);
    int i = 0;
    while (rank >= in->cnt[i]) {
      rank -= in->cnt[i];
      ++i;
    }
    x = in->ch[i];
  }
  return cursor{x, static_cast<uint32_t>(rank)};
}

void zset_value::get(const cursor& c, std::string_view& m, double& s) const {
  if (!big_) {
    lp_read(lp_, c.pos, m, s);
    return;
  }
  const item* it = static_cast<const leaf*>(c.leaf)->it[c.pos];
  m = it->member();
  s = it->score;
}

bool zset_value::advance(cursor& c) const {
  if (!big_) {
    std::string_view m;
    double s;
    c.pos = lp_read(lp_, c.pos, m, s);
    return c.pos < lp_used_;
  }
  auto* l = static_cast<const leaf*>(c.leaf);
  if (static_cast<int>(c.pos) + 1 < l->n) {
    ++c.pos;
    return true;
  }
  if (l->next == nullptr)
    return false;
  c.leaf = l->next;
  c.pos = 0;
  return true;
}

bool zset_value::retreat(cursor& c) const {
  if (!big_) {
    if (c.pos == 0)
      return false;
    c.pos = lp_prev(lp_, c.pos);
    return true;
  }
  auto* l = static_cast<const leaf*>(c.leaf);
  if (c.pos > 0) {
    --c.pos;
    return true;
  }
  if (l->prev == nullptr)
    return false;
  c.leaf = l->prev;
  c.pos = static_cast<uint32_t>(l->prev->n - 1);
  return true;
}

uint64_t zset_value::scan_bucket(uint64_t cursor, std::vector<std::pair<std::string_view, double>>& out) const {
  if (!big_ || count_ == 0)
    return 0;
  return index_->scan(cursor, out);
}

} // namespace troupe::keyspace
