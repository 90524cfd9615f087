#include "engine/cli.h"

int main(int argc, char** argv) { return ergon::engine::Main(argc, argv); }
