// The build stamp. `make deb` writes .build/build-info/kiosk_build_info.h (defines of
// KIOSK_BUILD_COMMIT, KIOSK_BUILD_SWIFT, KIOSK_BUILD_PACKAGE_VERSION as string literals) before
// its build and removes it afterwards; Package.swift adds that folder to this file's include
// path (release and debug: KIOSK_DEB_CONFIG=debug packs a debug build). A C define is used because Swift's -D carries no value,
// and a header outside Sources/ leaves the working tree untouched.
#include "CBuildInfo.h"
#include <stddef.h>

#if __has_include(<kiosk_build_info.h>)
#include <kiosk_build_info.h>
#endif

const char *kiosk_build_commit(void) {
#ifdef KIOSK_BUILD_COMMIT
    return KIOSK_BUILD_COMMIT;
#else
    return NULL;
#endif
}

const char *kiosk_build_swift_version(void) {
#ifdef KIOSK_BUILD_SWIFT
    return KIOSK_BUILD_SWIFT;
#else
    return NULL;
#endif
}

const char *kiosk_build_package_version(void) {
#ifdef KIOSK_BUILD_PACKAGE_VERSION
    return KIOSK_BUILD_PACKAGE_VERSION;
#else
    return NULL;
#endif
}
