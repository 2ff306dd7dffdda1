// libgpiod 1.6 (v1 API, as Debian bookworm and Raspberry Pi OS ship it): imports as it is.
#ifndef KIOSK_CGPIOD_SHIM_H
#define KIOSK_CGPIOD_SHIM_H
#include <gpiod.h>
#endif
