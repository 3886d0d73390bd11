#include "errors.h"

#include <CLI/CLI.hpp>
#include <exception>

#include "pycemit/exit_status.h"
#include "pycemit/file_io.h"
#include "pycemit/interpreter.h"
#include "pycemit/plan.h"

namespace pycemit::cli {

CommandError current_exception_error() {
  const auto line = [](const char* what) { return std::string("pycemit: ") + what + "\n"; };
  try {
    throw;
  } catch (const CLI::ParseError& e) {
    return {kExitUsage, line(e.what())};
  } catch (const PlanError& e) {
    return {kExitUsage, line(e.what())};
  } catch (const InterpreterError& e) {
    return {kExitInterpreter, line(e.what())};
  } catch (const FileError& e) {
    return {kExitFailures, line(e.what())};
  } catch (const std::exception& e) {
    return {kExitInternal, "pycemit: internal error: " + std::string(e.what()) + "\n"};
  }
}

}  // namespace pycemit::cli
