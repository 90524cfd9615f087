// ergon-serve: what `ergon serve` runs (same flags). See server.cpp for why
// it is a program of its own.
#include <CLI/CLI.hpp>

#include "engine/serve/server.h"

int main(int argc, char** argv) {
  ergon::engine::ServeArgs a;
  CLI::App app{"ergon-serve: the ergon dashboard (run as `ergon serve`)"};
  app.add_option("--db", a.db, "archive file");
  app.add_option("--host", a.host, "address to listen on");
  app.add_option("--port", a.port, "port; 0 picks a free one")->check(CLI::Range(0, 65535));
  app.add_option("--tasks", a.tasks_dirs, "task folders");
  CLI11_PARSE(app, argc, argv);
  return ergon::engine::ServeArchive(a);
}
