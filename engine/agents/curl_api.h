// libcurl, loaded with dlopen the first time an HTTP agent needs it. Linked
// in, libcurl and its ~30 dependencies (TLS, Kerberos, LDAP, ...) cost every
// ergon process ~10 ms of start-up (measured: a C program that only links
// -lcurl starts in 12.7 ms against 3.1 ms without it), which `ergon score`
// and `ergon archive` should not pay.
#pragma once

#include <curl/curl.h>

#include <string>

#include <tl/expected.hpp>

namespace ergon::engine {

struct CurlApi {
  CURLcode (*global_init)(long);
  CURL* (*easy_init)();
  CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
  CURLcode (*easy_perform)(CURL*);
  CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
  void (*easy_cleanup)(CURL*);
  const char* (*easy_strerror)(CURLcode);
  curl_slist* (*slist_append)(curl_slist*, const char*);
  void (*slist_free_all)(curl_slist*);
};

// Loads libcurl once (thread-safe) and runs curl_global_init; later calls
// return the same table. The error says what to install.
tl::expected<const CurlApi*, std::string> LoadCurl();

}  // namespace ergon::engine
