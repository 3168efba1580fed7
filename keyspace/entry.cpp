#include "keyspace/entry.hpp"

#include <malloc.h>

#include <cstdlib>
#include <new>

#include "protocol/numbers.hpp"

namespace troupe::keyspace {

const char* type_name(vtype t) {
  switch (t) {
    case vtype::string: return "string";
    case vtype::list: return "list";
    case vtype::set: return "set";
    case vtype::zset: return "zset";
    case vtype::hash: return "hash";
    case vtype::stream: return "stream";
  }
  return "none";
}

const char* encoding_name(venc e) {
  switch (e) {
    case venc::raw: return "raw";
    case venc::integer: return "int";
    case venc::embstr: return "embstr";
    case venc::listpack: return "listpack";
    case venc::quicklist: return "quicklist";
    case venc::hashtable: return "hashtable";
    case venc::intset: return "intset";
    case venc::skiplist: return "skiplist";
    case venc::stream: return "stream";
  }
  return "unknown";
}

venc string_encoding(std::string_view value) {
  if (value.size() <= 20 && protocol::is_canonical_int(value))
    return venc::integer;
  return value.size() <= embstr_limit ? venc::embstr : venc::raw;
}

std::string_view entry::str() const {
  if (enc == venc::raw)
    return *raw_string();
  uint32_t len;
  std::memcpy(&len, payload(), sizeof(len));
  return std::string_view(payload() + sizeof(len), len);
}

size_t entry::allocation_size() const {
  size_t n = sizeof(entry) + (has_expire() ? 8 : 0) + keylen;
  if (inline_string())
    n += 4 + str().size();
  else
    n += sizeof(void*);
  return n;
}

size_t entry_memory(const entry* e, size_t samples) {
  size_t n = malloc_usable_size(const_cast<entry*>(e)) + sizeof(entry*);
  if (e->type != vtype::string)
    return n + e->coll()->memory(samples);
  if (e->enc == venc::raw) {
    std::string* s = e->raw_string();
    n += malloc_usable_size(s);
    const char* d = s->data();
    bool inside = d >= reinterpret_cast<const char*>(s) && d < reinterpret_cast<const char*>(s + 1);
    if (!inside)   // (not the string's own short buffer)
      n += malloc_usable_size(const_cast<char*>(d));
  }
  return n;
}

namespace {

entry* allocate(std::string_view key, uint32_t hash, vtype t, venc e, int64_t expire, size_t payload_size) {
  size_t size = sizeof(entry) + (expire >= 0 ? 8 : 0) + key.size() + payload_size;
  auto* p = static_cast<entry*>(std::malloc(size));
  if (p == nullptr)
    throw std::bad_alloc();
  p->next = nullptr;
  p->hash = hash;
  p->type = t;
  p->enc = e;
  p->flags = expire >= 0 ? entry::has_expire_flag : 0;
  p->reserved = 0;
  p->lru = 0;
  p->keylen = static_cast<uint32_t>(key.size());
  if (expire >= 0)
    p->set_expire_in_place(expire);
  std::memcpy(p->data() + (expire >= 0 ? 8 : 0), key.data(), key.size());
  return p;
}

} // namespace

entry* make_string_entry(std::string_view key, uint32_t hash, std::string_view value, int64_t expire,
                         bool force_raw, bool not_int) {
  venc e = force_raw ? venc::raw : string_encoding(value);
  if (e == venc::integer && not_int)
    e = venc::embstr;
  if (e == venc::raw) {
    auto* s = new std::string(value);
    entry* p = allocate(key, hash, vtype::string, e, expire, sizeof(s));
    std::memcpy(p->payload(), &s, sizeof(s));
    return p;
  }
  entry* p = allocate(key, hash, vtype::string, e, expire, 4 + value.size());
  uint32_t len = static_cast<uint32_t>(value.size());
  std::memcpy(p->payload(), &len, 4);
  std::memcpy(p->payload() + 4, value.data(), value.size());
  return p;
}

bool overwrite_string(entry* e, std::string_view value, bool not_int) {
  if (e->type != vtype::string)
    return false;
  venc enc = string_encoding(value);
  if (enc == venc::integer && not_int)
    enc = venc::embstr;
  if (e->enc == venc::raw) {
    // A raw string keeps its buffer when the new value fills at least half of it.
    std::string* s = e->raw_string();
    if (enc != venc::raw || value.size() > s->capacity() || s->capacity() > 2 * value.size())
      return false;
    s->assign(value.data(), value.size());
    return true;
  }
  if (enc == venc::raw || e->str().size() != value.size())
    return false;
  std::memmove(e->payload() + 4, value.data(), value.size());   // (value may be the entry's own)
  e->enc = enc;
  return true;
}

entry* make_collection_entry(std::string_view key, uint32_t hash, vtype t, std::unique_ptr<collection> c,
                             int64_t expire) {
  venc e = c->encoding();
  entry* p = allocate(key, hash, t, e, expire, sizeof(collection*));
  collection* raw = c.release();
  std::memcpy(p->payload(), &raw, sizeof(raw));
  return p;
}

entry* rebuild_with_expire(const entry* e, int64_t expire) {
  std::string_view key = e->key();
  size_t payload_size = e->inline_string() ? 4 + e->str().size() : sizeof(void*);
  entry* p = allocate(key, e->hash, e->type, e->enc, expire, payload_size);
  std::memcpy(p->payload(), e->payload(), payload_size);
  p->lru = e->lru;
  return p;
}

void free_shell(entry* e) { std::free(e); }

entry* rekey(const entry* e, std::string_view key, uint32_t hash, int64_t expire) {
  size_t payload_size = e->inline_string() ? 4 + e->str().size() : sizeof(void*);
  entry* p = allocate(key, hash, e->type, e->enc, expire, payload_size);
  std::memcpy(p->payload(), e->payload(), payload_size);
  p->lru = e->lru;
  return p;
}

entry* clone_entry(const entry* e, std::string_view key, uint32_t hash, int64_t expire) {
  if (e->type == vtype::string) {
    entry* p = make_string_entry(key, hash, e->str(), expire, e->enc == venc::raw);
    p->enc = e->enc;
    return p;
  }
  entry* p = make_collection_entry(key, hash, e->type, e->coll()->clone(), expire);
  p->enc = e->enc;
  return p;
}

void destroy_entry(entry* e) {
  if (e == nullptr)
    return;
  if (e->type == vtype::string) {
    if (e->enc == venc::raw)
      delete e->raw_string();
  } else {
    delete e->coll();
  }
  std::free(e);
}

} // namespace troupe::keyspace
