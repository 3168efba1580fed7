#include "keyspace/list_value.hpp"
#include "keyspace/varint.hpp"

#include <algorithm>
#include <cstdlib>
#include <new>

#include "keyspace/digest.hpp"

namespace troupe::keyspace {

namespace {

// Byte budgets of list-max-listpack-size -1 .. -5.
constexpr uint32_t byte_limits[] = {4096, 8192, 16384, 32768, 65536};
// With a positive (count) fill a chunk still stays under this many bytes, as in Redis.
constexpr uint32_t count_fill_byte_limit = 8192;


} // namespace

list_value::list_value(int64_t fill) : fill_(fill) {}

list_value::list_value(const list_value& o) : collection(), count_(o.count_), fill_(o.fill_) {
  chunks_.reserve(o.chunks_.size());
  for (const chunk* c : o.chunks_) {
    chunk* n = new_chunk(c->used);
    std::memcpy(n->data(), c->data(), c->used);
    n->used = c->used;
    n->count = c->count;
    chunks_.push_back(n);
  }
}

list_value::~list_value() { clear(); }

std::unique_ptr<collection> list_value::clone() const { return std::make_unique<list_value>(*this); }

size_t list_value::memory(size_t) const {
  size_t n = sizeof(*this) + chunks_.capacity() * sizeof(chunk*);
  for (const chunk* c : chunks_)
    n += sizeof(chunk) + c->cap;
  return n;
}

void list_value::digest(unsigned char out[20]) const {
  digest20 d;
  std::memcpy(d.data(), out, 20);
  for_each([&](std::string_view v) { mix_digest(d, v); });
  std::memcpy(out, d.data(), 20);
}

// ---- chunk encoding ----------------------------------------------------------------------------
// An element: varint(len) | bytes | reverse varint(size of the two before), so that the start of
// the previous element is found from the end of the current one.

list_value::chunk* list_value::new_chunk(size_t cap) {
  cap = (cap + 15) & ~size_t(15);
  auto* c = static_cast<chunk*>(std::malloc(sizeof(chunk) + cap));
  if (c == nullptr)
    throw std::bad_alloc();
  c->used = 0;
  c->cap = static_cast<uint32_t>(cap);
  c->count = 0;
  c->pad = 0;
  return c;
}

list_value::chunk* list_value::grow(chunk* c, size_t need) {
  if (need <= c->cap)
    return c;
  size_t cap = std::max<size_t>(need, static_cast<size_t>(c->cap) * 3 / 2);
  cap = (cap + 15) & ~size_t(15);
  auto* n = static_cast<chunk*>(std::realloc(c, sizeof(chunk) + cap));
  if (n == nullptr)
    throw std::bad_alloc();
  n->cap = static_cast<uint32_t>(cap);
  return n;
}

size_t list_value::entry_size(size_t len) {
  size_t h = varint_size(len);
  return h + len + varint_size(h + len);
}

void list_value::write_entry(char* p, std::string_view v) {
  size_t h = put_varint(p, v.size());
  std::memcpy(p + h, v.data(), v.size());
  put_back_varint(p + h + v.size(), h + v.size());
}

std::string_view list_value::read_at(const chunk* c, uint32_t off) {
  uint64_t len = get_varint(c->data(), off);
  return std::string_view(c->data() + off, static_cast<size_t>(len));
}

uint32_t list_value::next_off(const chunk* c, uint32_t off) {
  std::string_view v = read_at(c, off);
  size_t total = static_cast<size_t>(v.data() - (c->data() + off)) + v.size();
  return static_cast<uint32_t>(off + total + varint_size(total));
}

uint32_t list_value::prev_off(const chunk* c, uint32_t end) { return prev_entry(c->data(), end); }

uint32_t list_value::offset_in(const chunk* c, size_t i) {
  if (i <= c->count / 2) {
    uint32_t off = 0;
    while (i-- > 0)
      off = next_off(c, off);
    return off;
  }
  uint32_t end = c->used;
  for (size_t k = c->count - i; k > 0; --k)
    end = prev_off(c, end);
  return end;
}

bool list_value::fits(const chunk* c, size_t entry_bytes) const {
  if (c->count == 0)
    return true;
  if (fill_ < 0) {
    size_t level = static_cast<size_t>(std::min<int64_t>(-fill_, 5)) - 1;
    return c->used + entry_bytes <= byte_limits[level];
  }
  return c->count < static_cast<uint64_t>(std::max<int64_t>(fill_, 1))
         && c->used + entry_bytes <= count_fill_byte_limit;
}

list_value::pos list_value::locate(size_t index) const {
  size_t ci;
  size_t i;
  if (index < count_ / 2) {
    ci = 0;
    i = index;
    while (i >= chunks_[ci]->count) {
      i -= chunks_[ci]->count;
      ++ci;
    }
  } else {
    size_t rem = count_ - 1 - index;
    ci = chunks_.size() - 1;
    while (rem >= chunks_[ci]->count) {
      rem -= chunks_[ci]->count;
      --ci;
    }
    i = chunks_[ci]->count - 1 - rem;
  }
  return pos{ci, offset_in(chunks_[ci], i)};
}

char* list_value::splice(size_t ci, uint32_t off, uint32_t remove_bytes, size_t entry_bytes) {
  chunk* c = chunks_[ci];
  size_t used = c->used - remove_bytes + entry_bytes;
  c = grow(c, used);
  chunks_[ci] = c;
  std::memmove(c->data() + off + entry_bytes, c->data() + off + remove_bytes, c->used - off - remove_bytes);
  c->used = static_cast<uint32_t>(used);
  return c->data() + off;
}

void list_value::split_if_needed(size_t ci) {
  chunk* c = chunks_[ci];
  if (c->count <= 1)
    return;
  bool over;
  if (fill_ < 0)
    over = c->used > byte_limits[static_cast<size_t>(std::min<int64_t>(-fill_, 5)) - 1];
  else
    over = c->count > static_cast<uint64_t>(std::max<int64_t>(fill_, 1)) || c->used > count_fill_byte_limit;
  if (!over)
    return;
  uint32_t keep = c->count / 2;
  uint32_t off = offset_in(c, keep);
  chunk* n = new_chunk(c->used - off);
  std::memcpy(n->data(), c->data() + off, c->used - off);
  n->used = c->used - off;
  n->count = c->count - keep;
  c->used = off;
  c->count = keep;
  chunks_.insert(chunks_.begin() + static_cast<std::ptrdiff_t>(ci) + 1, n);
  split_if_needed(ci + 1);
  split_if_needed(ci);
}

void list_value::drop_chunk(size_t ci) {
  std::free(chunks_[ci]);
  chunks_.erase(chunks_.begin() + static_cast<std::ptrdiff_t>(ci));
}

// ---- operations --------------------------------------------------------------------------------

void list_value::push_back(std::string_view v) {
  size_t es = entry_size(v.size());
  if (chunks_.empty() || !fits(chunks_.back(), es)) {
    chunk* c = new_chunk(es);
    chunks_.push_back(c);
  }
  size_t ci = chunks_.size() - 1;
  write_entry(splice(ci, chunks_[ci]->used, 0, es), v);
  ++chunks_[ci]->count;
  ++count_;
}

void list_value::push_front(std::string_view v) {
  size_t es = entry_size(v.size());
  if (chunks_.empty() || !fits(chunks_.front(), es))
    chunks_.insert(chunks_.begin(), new_chunk(es));
  write_entry(splice(0, 0, 0, es), v);
  ++chunks_[0]->count;
  ++count_;
}

std::string_view list_value::front() const { return read_at(chunks_.front(), 0); }

std::string_view list_value::back() const {
  const chunk* c = chunks_.back();
  return read_at(c, prev_off(c, c->used));
}

std::string list_value::pop_front() {
  chunk* c = chunks_.front();
  std::string v(read_at(c, 0));
  uint32_t n = next_off(c, 0);
  if (--c->count == 0) {
    drop_chunk(0);
  } else {
    std::memmove(c->data(), c->data() + n, c->used - n);
    c->used -= n;
  }
  --count_;
  return v;
}

std::string list_value::pop_back() {
  chunk* c = chunks_.back();
  uint32_t off = prev_off(c, c->used);
  std::string v(read_at(c, off));
  if (--c->count == 0)
    drop_chunk(chunks_.size() - 1);
  else
    c->used = off;
  --count_;
  return v;
}

std::string_view list_value::at(size_t index) const {
  pos p = locate(index);
  return read_at(chunks_[p.chunk], p.off);
}

void list_value::set(size_t index, std::string_view v) {
  pos p = locate(index);
  const chunk* c = chunks_[p.chunk];
  uint32_t old = next_off(c, p.off) - p.off;
  write_entry(splice(p.chunk, p.off, old, entry_size(v.size())), v);
  split_if_needed(p.chunk);
}

void list_value::insert(size_t index, std::string_view v) {
  if (index >= count_) {
    push_back(v);
    return;
  }
  if (index == 0) {
    push_front(v);
    return;
  }
  pos p = locate(index);
  size_t es = entry_size(v.size());
  // At the start of a chunk, the end of the previous one may have room.
  if (p.off == 0 && p.chunk > 0 && fits(chunks_[p.chunk - 1], es) && !fits(chunks_[p.chunk], es)) {
    size_t ci = p.chunk - 1;
    write_entry(splice(ci, chunks_[ci]->used, 0, es), v);
    ++chunks_[ci]->count;
    ++count_;
    return;
  }
  write_entry(splice(p.chunk, p.off, 0, es), v);
  ++chunks_[p.chunk]->count;
  ++count_;
  split_if_needed(p.chunk);
}

void list_value::erase(size_t index, size_t n) {
  if (n == 0 || index >= count_)
    return;
  n = std::min(n, count_ - index);
  pos p = locate(index);
  size_t ci = p.chunk;
  uint32_t off = p.off;
  while (n > 0) {
    chunk* c = chunks_[ci];
    if (off == 0 && n >= c->count) {
      n -= c->count;
      count_ -= c->count;
      drop_chunk(ci);
      continue;
    }
    uint32_t end = off;
    size_t k = 0;
    while (k < n && end < c->used) {
      end = next_off(c, end);
      ++k;
    }
    std::memmove(c->data() + off, c->data() + end, c->used - end);
    c->used -= end - off;
    c->count -= static_cast<uint32_t>(k);
    count_ -= k;
    n -= k;
    ++ci;
    off = 0;
  }
}

size_t list_value::remove(std::string_view v, int64_t count) {
  size_t limit = count == 0 ? SIZE_MAX : static_cast<size_t>(count < 0 ? -(count + 1) + 1 : count);
  size_t removed = 0;
  std::vector<uint32_t> offs;
  std::vector<char> marks;
  auto compact = [&](size_t ci) {
    // Drops the marked elements of chunk ci (offs holds every element's offset plus the end).
    chunk* c = chunks_[ci];
    uint32_t w = 0, gone = 0;
    for (size_t i = 0; i + 1 < offs.size(); ++i) {
      uint32_t r = offs[i], len = offs[i + 1] - offs[i];
      if (marks[i]) {
        ++gone;
        continue;
      }
      if (w != r)
        std::memmove(c->data() + w, c->data() + r, len);
      w += len;
    }
    c->used = w;
    c->count -= gone;
    count_ -= gone;
    if (c->count == 0) {
      drop_chunk(ci);
      return true;
    }
    return false;
  };
  auto scan = [&](const chunk* c) {
    offs.clear();
    marks.clear();
    for (uint32_t off = 0; off < c->used; off = next_off(c, off))
      offs.push_back(off);
    offs.push_back(c->used);
    marks.assign(offs.size() - 1, 0);
  };
  if (count >= 0) {
    for (size_t ci = 0; ci < chunks_.size() && removed < limit;) {
      scan(chunks_[ci]);
      bool any = false;
      for (size_t i = 0; i < marks.size() && removed < limit; ++i)
        if (read_at(chunks_[ci], offs[i]) == v) {
          marks[i] = 1;
          any = true;
          ++removed;
        }
      if (!any || !compact(ci))
        ++ci;
    }
  } else {
    for (size_t ci = chunks_.size(); ci-- > 0 && removed < limit;) {
      scan(chunks_[ci]);
      bool any = false;
      for (size_t i = marks.size(); i-- > 0 && removed < limit;)
        if (read_at(chunks_[ci], offs[i]) == v) {
          marks[i] = 1;
          any = true;
          ++removed;
        }
      if (any)
        compact(ci);
    }
  }
  return removed;
}

void list_value::clear() {
  for (chunk* c : chunks_)
    std::free(c);
  chunks_.clear();
  count_ = 0;
}

} // namespace troupe::keyspace
