// The dashboard's JSON API (`ergon serve`, under /api/): a GET path and its
// query parameters in, a status and a JSON body out. No HTTP in here, so the
// server stays a thin shell and every answer can be built from one archive.
//
// Objects are those of `ergon archive ... --json` (engine/archive_json.h),
// with aggregates the views need added under their own keys.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "archive/archive.h"
#include "engine/archive_json.h"

namespace ergon::engine::serve {

struct ApiReply {
  int status = 200;
  std::string body;  // JSON; {"error": "..."} when status is not 200
};

using Params = std::map<std::string, std::string>;

class Api {
 public:
  // `db_path` is only shown (in replay commands). Not thread-safe: the server
  // holds one lock around each call.
  Api(archive::Archive& archive, Specs& specs, std::string db_path)
      : archive_(archive), specs_(specs), db_path_(std::move(db_path)) {}

  ApiReply Get(const std::string& path, const Params& params);
  // Reads every run's progress into the cache, so that the first page load
  // of a big run is as fast as the later ones. Returns the evaluations read.
  std::size_t Warm();

  // A run's evaluations read so far, per (run, metric): a page load reads
  // only what landed since the last one (100,000 evaluations take ~200 ms
  // to read whole, the new ones a millisecond).
  struct ProgressCache {
    std::vector<archive::ProgressPoint> points;  // by eval id
    std::int64_t last = 0;
  };

 private:
  std::map<std::pair<std::int64_t, std::string>, ProgressCache> progress_;
  archive::Archive& archive_;
  Specs& specs_;
  std::string db_path_;
};

}  // namespace ergon::engine::serve
