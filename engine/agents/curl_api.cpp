#include "engine/agents/curl_api.h"

#include <dlfcn.h>

#include <mutex>

namespace ergon::engine {

tl::expected<const CurlApi*, std::string> LoadCurl() {
  static std::once_flag once;
  static CurlApi api;
  static std::string error;
  std::call_once(once, [] {
    void* lib = ::dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      error = "libcurl.so.4 cannot be loaded (apt-get install libcurl4): ";
      error += ::dlerror();
      return;
    }
    auto sym = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(::dlsym(lib, name));
      if (!fn && error.empty()) error = std::string("libcurl.so.4 lacks ") + name;
    };
    sym(api.global_init, "curl_global_init");
    sym(api.easy_init, "curl_easy_init");
    sym(api.easy_setopt, "curl_easy_setopt");
    sym(api.easy_perform, "curl_easy_perform");
    sym(api.easy_getinfo, "curl_easy_getinfo");
    sym(api.easy_cleanup, "curl_easy_cleanup");
    sym(api.easy_strerror, "curl_easy_strerror");
    sym(api.slist_append, "curl_slist_append");
    sym(api.slist_free_all, "curl_slist_free_all");
    // Once per process, before any transfer (the library stays loaded).
    if (error.empty()) api.global_init(CURL_GLOBAL_DEFAULT);
  });
  if (!error.empty()) return tl::unexpected(error);
  return &api;
}

}  // namespace ergon::engine
