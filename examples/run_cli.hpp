// The examples' common main(): parse the CLI11 app, run, and map failures to exit codes:
// 0 success, 1 an anybit error (bad data, file or argument value; message on stderr), 2 a usage
// error (CLI11 prints it, or the help text with exit code 0).
#pragma once

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>

#include "anybit/core/error.hpp"

template <class Run>
int run_cli(CLI::App& app, int argc, char** argv, const char* program, Run run) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : 2;
  }
  try {
    return run();
  } catch (const anybit::error& e) {
    std::fprintf(stderr, "%s: %s\n", program, e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: unexpected error: %s\n", program, e.what());
    return 1;
  }
}
