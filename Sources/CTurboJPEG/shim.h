// TurboJPEG 2.1 (libjpeg-turbo on Debian bookworm): the tj* 2.x API imports as it is.
// Errors are return codes (no setjmp/longjmp crosses Swift frames).
#ifndef KIOSK_CTURBOJPEG_SHIM_H
#define KIOSK_CTURBOJPEG_SHIM_H
#include <stddef.h>
#include <turbojpeg.h>
// LIBJPEG_TURBO_VERSION_NUMBER (e.g. 2001005): TurboJPEG 2.1 has no run-time version call.
#include <jconfig.h>
#endif
