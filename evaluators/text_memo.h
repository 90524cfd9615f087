// A memo keyed by exact text (a source, a program), bounded in bytes: the
// least recently used entry goes first. Safe to share between threads.
//
// For values computed from a text by deterministic work that costs seconds
// (building and running a generator, laying out its program), so the same
// text is not worked on twice in one run.
#pragma once

#include "base/mutex.h"

#include <cstddef>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace ergon::evaluators {

inline std::size_t MemoBytes(const std::string& text) { return text.size(); }

// Value: copyable, with `std::size_t MemoBytes(const Value&)` found by lookup.
template <class Value>
class TextMemo {
 public:
  explicit TextMemo(std::size_t byte_budget) : budget_(byte_budget) {}

  std::optional<Value> Find(const std::string& key) const {
    const std::size_t h = std::hash<std::string>{}(key);
    base::MutexLock l(&mu_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it)
      if (it->hash == h && *it->key == key) {
        entries_.splice(entries_.begin(), entries_, it);
        return *entries_.front().value;
      }
    return std::nullopt;
  }

  // Entries bigger than the whole budget are not kept.
  void Keep(const std::string& key, const Value& value) {
    Entry e{std::hash<std::string>{}(key), std::make_shared<const std::string>(key),
            std::make_shared<const Value>(value), key.size() + MemoBytes(value)};
    if (e.bytes > budget_) return;
    base::MutexLock l(&mu_);
    for (auto it = entries_.begin(); it != entries_.end(); ++it)
      if (it->hash == e.hash && *it->key == key) {
        bytes_ -= it->bytes;
        entries_.erase(it);
        break;
      }
    bytes_ += e.bytes;
    entries_.push_front(std::move(e));
    while (bytes_ > budget_) {
      bytes_ -= entries_.back().bytes;
      entries_.pop_back();
    }
  }

 private:
  struct Entry {
    std::size_t hash;  // of the key, checked before the text
    std::shared_ptr<const std::string> key;
    std::shared_ptr<const Value> value;
    std::size_t bytes;
  };
  const std::size_t budget_;
  mutable base::Mutex mu_;
  mutable std::list<Entry> entries_ GUARDED_BY(mu_);  // most recently used first
  std::size_t bytes_ GUARDED_BY(mu_) = 0;
};

}  // namespace ergon::evaluators
