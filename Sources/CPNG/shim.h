// libpng 1.6 (Debian bookworm): only the "simplified" png_image_* API is used, because it
// reports errors through png_image.message and a return code, so no setjmp/longjmp crosses
// Swift frames. The PNG_FORMAT_* macros are expressions, which Swift does not import, so they
// are re-exported here as constants.
#ifndef KIOSK_CPNG_SHIM_H
#define KIOSK_CPNG_SHIM_H
#include <stddef.h>
#include <png.h>

static const unsigned int CPNG_IMAGE_VERSION = PNG_IMAGE_VERSION;
static const unsigned int CPNG_FORMAT_GRAY = PNG_FORMAT_GRAY;
static const unsigned int CPNG_FORMAT_RGB = PNG_FORMAT_RGB;
static const unsigned int CPNG_FORMAT_BGR = PNG_FORMAT_BGR;

/// Bytes needed for the decoded image in the chosen format (PNG_IMAGE_SIZE is a macro).
static inline size_t cpng_image_size(const png_image *image) { return PNG_IMAGE_SIZE(*image); }
/// Non-zero when the last png_image_* call failed (as opposed to warned).
static inline int cpng_image_failed(const png_image *image) { return PNG_IMAGE_FAILED(*image); }
#endif
