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

/// Length of a face descriptor.
#define CFACEMATCH_DESCRIPTOR_LENGTH 128

/// Computes the 128-d descriptor of one face, the way dlib's own examples do: the 5-point
/// shape predictor inside `(x, y, w, h)`, a 150×150 aligned chip with 0.25 padding
/// (`get_face_chip_details`), then the ResNet. `rgb` is `height` rows of `stride` bytes, three
/// bytes per pixel, red first. On success writes 128 floats into `descriptor` and, when
/// `landmarks` is not NULL, the 5 points as x0,y0,...,x4,y4 (image pixels) and returns 0.
/// On failure returns -1 and writes a message into `err`.
/// Not thread-safe for one `models` object (the network keeps its activations): callers
/// serialise calls per object.
int cfacematch_describe(cfacematch_models *models, const uint8_t *rgb, int width, int height,
                        int stride, double x, double y, double w, double h,
                        float *descriptor, float *landmarks, char *err, size_t err_len);

#ifdef __cplusplus
}
#endif
#endif
