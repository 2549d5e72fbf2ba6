// systemd's readiness protocol without libsystemd: one datagram to $NOTIFY_SOCKET per state
// change (sd_notify(3)). A no-op when not started by systemd with Type=notify.
#pragma once

#include <string_view>

namespace dp {

// Sends `state` ("READY=1", "RELOADING=1", "STOPPING=1", ...); false if there is no socket or
// the send failed (never fatal: readiness is a courtesy to the service manager).
bool sd_notify_send(std::string_view state);

}  // namespace dp
