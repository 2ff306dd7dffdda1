// The dlib shim (simulator only): a plain C API over dlib's 5-point shape predictor and its
// ResNet face descriptor. Every C++ exception is caught inside and returned as a message.
#ifndef KIOSK_CFACEMATCH_H
#define KIOSK_CFACEMATCH_H
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif

/// dlib's version string, e.g. "19.24.0".
const char *cfacematch_dlib_version(void);

/// Loaded models: the 5-point shape predictor and the 128-d descriptor network. Opaque.
typedef struct cfacematch_models cfacematch_models;

/// Loads both model files. On failure returns NULL and writes a message into `err`.
cfacematch_models *cfacematch_load(const char *shape_predictor_path, const char *descriptor_path,
                                   char *err, size_t err_len);
void cfacematch_free(cfacematch_models *models);

#ifdef __cplusplus
}
#endif
#endif
