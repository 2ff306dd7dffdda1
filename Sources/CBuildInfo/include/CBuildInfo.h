// What `make deb` stamps into a packaged build: the git commit and the exact Swift compiler.
// A development build has none of it (each function returns NULL), and says so.
#ifndef KIOSK_CBUILDINFO_H
#define KIOSK_CBUILDINFO_H

/// The git commit the package was built from ("abc1234", "abc1234-dirty"), or NULL.
const char *kiosk_build_commit(void);
/// The first line of `swift --version` at build time, or NULL.
const char *kiosk_build_swift_version(void);
/// The package version `make deb` built (the same as BuildInfo.packageVersion), or NULL.
const char *kiosk_build_package_version(void);

#endif
