#pragma once
// Ending on a signal without leaving files behind: SIGINT, SIGTERM and SIGHUP remove the named
// temporary files of outputs not yet committed, then end the process as the signal would have.

namespace rstx::cli {

/** Installs the handlers (signals the process was started ignoring, as under nohup, stay ignored). */
void remove_temporaries_on_signals() noexcept;

}  // namespace rstx::cli
